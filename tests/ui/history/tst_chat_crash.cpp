// Crash safety: a child process (this test binary, started with --stream-writer) saves a chat and
// streams an answer into the store the way the app does; the test kills it with SIGKILL mid-stream
// and checks that the file lost nothing but the unsaved tail.
#include "history/chat_store.h"
#include "history_support.h"

#include <QCoreApplication>
#include <QElapsedTimer>
#include <QProcess>
#include <QThread>
#include <QtTest>

#include <cstdio>
#include <cstdlib>
#include <functional>

using gd::ui::ChatStore;
using gd::ui::StoredMessage;
using gd::ui::test::openStore;
using gd::ui::test::Scratch;

namespace {

const QString kUserText = QStringLiteral("Write a long story about a lighthouse keeper — «ünïcödé» 🚢");

// The streamed answer is the concatenation of these chunks, so the parent knows every prefix.
QString chunk(int i) {
  return i % 7 == 3 ? QStringLiteral("é😀%1\n").arg(i) : QStringLiteral("token%1 ").arg(i);
}

QString streamedText(int chunks) {
  QString text;
  for (int i = 0; i < chunks; ++i) text += chunk(i);
  return text;
}

void say(const QString& line) {
  std::fputs(qPrintable(line + u'\n'), stdout);
  std::fflush(stdout);  // the parent reads these while we run
}

// The child: argv = [self, --stream-writer, db, chunks, saveEveryMs]. Appends a chunk every 20 ms
// and saves (complete=false) whenever saveEveryMs has passed, then reports "saved <length>";
// saves complete=true at the end.
int streamWriter(int argc, char** argv) {
  QCoreApplication app(argc, argv);
  if (argc < 5) return 2;
  const QString path = QString::fromLocal8Bit(argv[2]);
  const int chunks = std::atoi(argv[3]);
  const int saveEveryMs = std::atoi(argv[4]);
  QString error;
  auto store = ChatStore::open(path, &error);
  if (!store) {
    say(QStringLiteral("error ") + error);
    return 3;
  }
  const qint64 chat = store->createConversation(QStringLiteral("Crash test"));
  const qint64 user = store->addMessage(chat, QStringLiteral("user"), kUserText);
  const QJsonObject meta{{QStringLiteral("model"), QStringLiteral("test-model")}};
  const qint64 answer = store->addMessage(chat, QStringLiteral("assistant"), QString(), meta, false);
  if (!chat || !user || !answer) {
    say(QStringLiteral("error ") + store->lastError());
    return 4;
  }
  say(QStringLiteral("started %1 %2 %3").arg(chat).arg(user).arg(answer));
  QString text;
  QElapsedTimer sinceSave;
  sinceSave.start();
  for (int i = 0; i < chunks; ++i) {
    QThread::msleep(20);  // the model producing a token
    text += chunk(i);
    if (sinceSave.elapsed() >= saveEveryMs) {
      if (!store->updateMessage(answer, text, QStringLiteral("thinking"), false, meta)) {
        say(QStringLiteral("error ") + store->lastError());
        return 5;
      }
      say(QStringLiteral("saved %1").arg(text.size()));
      sinceSave.restart();
    }
  }
  if (!store->updateMessage(answer, text, QStringLiteral("thinking"), true, meta)) return 6;
  say(QStringLiteral("done %1").arg(text.size()));
  return 0;
}

}  // namespace

class TestChatCrash : public QObject {
  Q_OBJECT

 private slots:
  void killMidStreamLosesOnlyTheUnsavedTail_data();
  void killMidStreamLosesOnlyTheUnsavedTail();
  void finishedStreamIsComplete();

 private:
  // Starts this binary as the writer child, streaming `chunks` chunks into `path`.
  bool startWriter(QProcess& child, const QString& path, int chunks, int saveEveryMs);
  // Reads whole lines from the child until `stop` says so or `timeoutMs` passes.
  bool readUntil(QProcess& child, const std::function<bool(const QString&)>& stop, int timeoutMs);

  QStringList m_lines;
};

bool TestChatCrash::startWriter(QProcess& child, const QString& path, int chunks, int saveEveryMs) {
  m_lines.clear();
  child.setProcessChannelMode(QProcess::ForwardedErrorChannel);
  child.start(QCoreApplication::applicationFilePath(),
              {QStringLiteral("--stream-writer"), path, QString::number(chunks), QString::number(saveEveryMs)});
  return child.waitForStarted(10000);
}

bool TestChatCrash::readUntil(QProcess& child, const std::function<bool(const QString&)>& stop, int timeoutMs) {
  QElapsedTimer timer;
  timer.start();
  while (timer.elapsed() < timeoutMs) {
    while (child.canReadLine()) {
      const QString line = QString::fromUtf8(child.readLine()).trimmed();
      m_lines.append(line);
      if (line.startsWith(QStringLiteral("error"))) return false;
      if (stop(line)) return true;
    }
    if (child.state() == QProcess::NotRunning) return false;
    child.waitForReadyRead(50);
  }
  return false;
}

void TestChatCrash::killMidStreamLosesOnlyTheUnsavedTail_data() {
  QTest::addColumn<int>("savesBeforeKill");
  QTest::addColumn<int>("extraDelayMs");
  QTest::addColumn<int>("saveEveryMs");
  // The app's pattern (a save every 200 ms here), killed at several moments...
  QTest::newRow("right after the answer started") << 0 << 0 << 200;
  QTest::newRow("after 1 save") << 1 << 70 << 200;
  QTest::newRow("after 3 saves") << 3 << 130 << 200;
  QTest::newRow("just before the 5th save") << 4 << 195 << 200;
  // ...and saving after every chunk, so the kill is likely to land inside a commit.
  QTest::newRow("saving every chunk, early") << 2 << 5 << 0;
  QTest::newRow("saving every chunk, later") << 12 << 31 << 0;
}

void TestChatCrash::killMidStreamLosesOnlyTheUnsavedTail() {
  QFETCH(int, savesBeforeKill);
  QFETCH(int, extraDelayMs);
  QFETCH(int, saveEveryMs);
  Scratch dir;
  QVERIFY(dir.ok());
  const QString path = dir.file(QStringLiteral("crash.sqlite"));
  const int chunks = 1000;  // far more than it gets to stream before the kill

  QProcess child;
  QVERIFY(startWriter(child, path, chunks, saveEveryMs));
  int saves = 0;
  const bool reached = readUntil(
      child,
      [&](const QString& line) {
        if (line.startsWith(QStringLiteral("saved "))) ++saves;
        return line.startsWith(QStringLiteral("started")) ? savesBeforeKill == 0 : saves >= savesBeforeKill;
      },
      20000);
  QVERIFY2(reached, qPrintable(m_lines.join(u'|')));
  if (extraDelayMs) QThread::msleep(extraDelayMs);
  child.kill();  // SIGKILL on Unix: no destructors, no atexit, no flushing
  QVERIFY(child.waitForFinished(10000));
  QCOMPARE(child.exitStatus(), QProcess::CrashExit);
  // Lines the child wrote before it died are still in the pipe.
  while (child.canReadLine()) m_lines.append(QString::fromUtf8(child.readLine()).trimmed());

  const QStringList started = m_lines.first().split(u' ');
  QCOMPARE(started.size(), 4);
  const qint64 chat = started[1].toLongLong(), user = started[2].toLongLong(), answer = started[3].toLongLong();
  int lastSaved = 0;
  for (const QString& line : std::as_const(m_lines))
    if (line.startsWith(QStringLiteral("saved "))) lastSaved = line.mid(6).toInt();

  QByteArray why;
  auto store = openStore(path, &why);
  QVERIFY2(store, why.constData());
  const QList<StoredMessage> msgs = store->messages(chat);
  QCOMPARE(msgs.size(), 2);
  QCOMPARE(msgs[0].id, user);
  QCOMPARE(msgs[0].text, kUserText);
  QVERIFY(msgs[0].complete);
  QCOMPARE(msgs[1].id, answer);
  QCOMPARE(msgs[1].role, QStringLiteral("assistant"));
  QVERIFY(!msgs[1].complete);  // shown as interrupted
  QCOMPARE(msgs[1].meta.value(QStringLiteral("model")).toString(), QStringLiteral("test-model"));
  const QString full = streamedText(chunks);
  QVERIFY2(full.startsWith(msgs[1].text), qPrintable(msgs[1].text.right(80)));
  QVERIFY2(msgs[1].text.size() >= lastSaved,
           qPrintable(QStringLiteral("stored %1 chars, child reported %2 saved").arg(msgs[1].text.size()).arg(lastSaved)));
  if (lastSaved > 0) QCOMPARE(msgs[1].thinking, QStringLiteral("thinking"));
  // The index survived too: the stored text is searchable, and the store takes new writes.
  if (lastSaved > 0) QVERIFY(!store->search(QStringLiteral("token0 ")).isEmpty());
  QVERIFY(store->updateMessage(answer, msgs[1].text, msgs[1].thinking, true, msgs[1].meta));
}

void TestChatCrash::finishedStreamIsComplete() {
  Scratch dir;
  const QString path = dir.file(QStringLiteral("done.sqlite"));
  const int chunks = 25;
  QProcess child;
  QVERIFY(startWriter(child, path, chunks, 200));
  QVERIFY(child.waitForFinished(20000));
  QCOMPARE(child.exitStatus(), QProcess::NormalExit);
  QCOMPARE(child.exitCode(), 0);
  QByteArray why;
  auto store = openStore(path, &why);
  QVERIFY2(store, why.constData());
  const auto list = store->conversations();
  QCOMPARE(list.size(), 1);
  const auto msgs = store->messages(list[0].id);
  QCOMPARE(msgs.size(), 2);
  QCOMPARE(msgs[1].text, streamedText(chunks));
  QVERIFY(msgs[1].complete);
}

int main(int argc, char** argv) {
  if (argc > 1 && qstrcmp(argv[1], "--stream-writer") == 0) return streamWriter(argc, argv);
  QCoreApplication app(argc, argv);
  TestChatCrash test;
  QTEST_SET_MAIN_SOURCE_PATH
  return QTest::qExec(&test, argc, argv);
}

#include "tst_chat_crash.moc"
