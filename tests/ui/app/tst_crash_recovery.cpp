// kill -9 in the middle of an answer: the real app (the gemmadesk binary) streams an answer into its
// history database and is killed without warning; what was sent is intact, the answer is there up
// to its last save (less than a second old at the moment of the kill), marked interrupted, and the
// app shows it so after a restart.
#include <QDateTime>
#include <QDir>
#include <QLabel>
#include <QProcess>
#include <QtTest>
#include "app_support.h"
#include "chat/chat_view.h"
#include "chat/message_widget.h"
#include "history/chat_store.h"
#include "settings/app_settings.h"
#include "window/main_window.h"

using namespace gd::ui;

namespace {
constexpr qint64 kLossLimitMs = 1000;  // the promise: at most the last second of an answer is lost
const QString kQuestion = QStringLiteral("Tell me a very long story about the sea");

std::optional<StoredMessage> streamingAnswer(const QString& dbPath) {
    if (!QFileInfo::exists(dbPath)) return std::nullopt;
    QString error;
    auto store = ChatStore::open(dbPath, &error);
    if (!store) return std::nullopt;
    for (const ConversationSummary& c : store->conversations())
        for (const StoredMessage& m : store->messages(c.id))
            if (m.role == QLatin1String("assistant")) return m;
    return std::nullopt;
}
}  // namespace

class CrashRecoveryTest : public QObject {
    Q_OBJECT
private slots:
    void killMidAnswerLosesAtMostTheLastSecond() {
        const QString model = gd::uitest::tinyModel();
        const QString data = gd::uitest::scratchDir(QStringLiteral("crash"));
        {
            // A long answer: with this seed the tiny model writes ~1280 tokens before its end of turn, and
            // no length limit below that.
            AppSettings settings(QDir(data).filePath(QStringLiteral("settings.ini")));
            settings.setMaxAnswerTokens(100000);
            settings.setSampling(SamplingSettings{1.0, 64, 0.95, 0.0, 138}, SamplingSettings{});
            settings.sync();
        }
        const QString db = QDir(data).filePath(QStringLiteral("history.sqlite"));
        QProcess app;
        QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
        env.insert(QStringLiteral("QT_QPA_PLATFORM"), QStringLiteral("offscreen"));
        app.setProcessEnvironment(env);
        app.setProcessChannelMode(QProcess::ForwardedErrorChannel);
        app.start(QStringLiteral(GD_GEMMADESK_PATH),
                  {QStringLiteral("--data-dir"), data, QStringLiteral("--model"), model, QStringLiteral("--send"), kQuestion});
        QVERIFY(app.waitForStarted());

        // Wait until the answer is being saved, let it stream a little longer, then kill.
        QTRY_VERIFY_WITH_TIMEOUT(([&] { auto m = streamingAnswer(db); return m && !m->text.isEmpty(); })(), 120000);
        QTest::qWait(1200);  // two save intervals and more
        const std::optional<StoredMessage> before = streamingAnswer(db);
        QVERIFY(before && !before->complete);
        QCOMPARE(app.state(), QProcess::Running);
        const QDateTime killedAt = QDateTime::currentDateTimeUtc();
        app.kill();  // SIGKILL
        QVERIFY(app.waitForFinished(10000));
        QCOMPARE(app.exitStatus(), QProcess::CrashExit);

        QString error;
        auto store = ChatStore::open(db, &error);
        QVERIFY2(store, qPrintable(error));
        const QList<ConversationSummary> chats = store->conversations();
        QCOMPARE(chats.size(), 1);
        const QList<StoredMessage> messages = store->messages(chats.front().id);
        QCOMPARE(messages.size(), 2);
        QCOMPARE(messages[0].role, QStringLiteral("user"));
        QCOMPARE(messages[0].text, kQuestion);
        QVERIFY(messages[0].complete);
        const StoredMessage& answer = messages[1];
        QCOMPARE(answer.role, QStringLiteral("assistant"));
        QVERIFY(!answer.complete);
        QVERIFY(answer.text.startsWith(before->text));  // saves only ever extend the answer
        QVERIFY(answer.text.size() > 0);
        const qint64 lostMs = answer.updated.msecsTo(killedAt);
        qInfo("answer saved up to %lld ms before the kill (%lld characters)", lostMs, qint64(answer.text.size()));
        QVERIFY2(lostMs >= 0 && lostMs <= kLossLimitMs,
                 qPrintable(QStringLiteral("last save %1 ms before the kill").arg(lostMs)));
        store.reset();

        // After a restart the app shows the saved part, marked as interrupted.
        gd::uitest::App restarted(data);
        restarted.window->openConversation(chats.front().id);
        MessageWidget* shown = restarted.window->chatView()->findMessage(answer.id);
        QVERIFY(shown);
        QCOMPARE(shown->text(), answer.text);
        QVERIFY(shown->findChild<QLabel*>(QStringLiteral("messageStatus"))->text().contains(QStringLiteral("interrupted")));
    }
};

QTEST_MAIN(CrashRecoveryTest)
#include "tst_crash_recovery.moc"
