// The download dialog, driven like a user would: find controls by objectName, click, wait.

#include "download/download_dialog.h"
#include "download/hub_client.h"
#include "download_fixture_support.h"

#include <QLabel>
#include <QLineEdit>
#include <QProgressBar>
#include <QPushButton>
#include <QSignalSpy>
#include <QTableWidget>
#include <QTest>

using gd::test::HubFixture;
using gd::test::kSafetensorsRepo;
using gd::ui::DownloadDialog;
using gd::ui::DownloadManager;

namespace {

constexpr int kTimeoutMs = 10000;

int rowOfRepo(QTableWidget* table, const QString& repo) {
    for (int row = 0; row < table->rowCount(); ++row)
        if (table->item(row, 0)->text() == repo) return row;
    return -1;
}

}  // namespace

class DownloadDialogTest : public QObject {
    Q_OBJECT

private:
    std::unique_ptr<HubFixture> fx;
    QList<quint64> fitAsked;

    std::unique_ptr<DownloadDialog> makeDialog() {
        auto dialog = std::make_unique<DownloadDialog>(
            [this](quint64 bytes) {
                fitAsked.append(bytes);
                return QStringLiteral("fits easily");
            },
            fx->root());
        dialog->manager()->setRetryPolicy(1, 10);
        return dialog;
    }

private slots:
    void init() {
        fx = std::make_unique<HubFixture>();
        QVERIFY(fx->setUp());
        fitAsked.clear();
    }
    void cleanup() { fx.reset(); }

    void everyControlIsNamedForTestsAndScreenReaders() {
        auto dialog = makeDialog();
        for (const char* name :
             {"offeringsTable", "checkSizesButton", "destinationEdit", "browseButton", "tokenEdit",
              "progressBar", "progressLabel", "statusLabel", "errorLabel", "downloadButton", "pauseButton",
              "resumeButton", "cancelButton", "closeButton"}) {
            auto* w = dialog->findChild<QWidget*>(QString::fromLatin1(name));
            QVERIFY2(w, name);
            QVERIFY2(!w->accessibleName().isEmpty(), name);
        }
        // Nothing selected yet: nothing to download, pause or resume.
        QVERIFY(!dialog->findChild<QPushButton*>(QStringLiteral("downloadButton"))->isEnabled());
        QVERIFY(!dialog->findChild<QPushButton*>(QStringLiteral("pauseButton"))->isEnabled());
    }

    void showingTheDialogOpensNoConnection() {
        auto dialog = makeDialog();
        dialog->show();
        QVERIFY(QTest::qWaitForWindowExposed(dialog.get()) || true);  // offscreen exposes immediately
        dialog->findChild<QTableWidget*>(QStringLiteral("offeringsTable"))->setFocus();
        QTest::qWait(100);
        QVERIFY(fx->server.requests().isEmpty());
        QVERIFY(!dialog->manager()->hub()->networkCreated());
    }

    void selectingAnOfferingShowsItsSizeAndFit() {
        auto dialog = makeDialog();
        auto* table = dialog->findChild<QTableWidget*>(QStringLiteral("offeringsTable"));
        const int row = rowOfRepo(table, kSafetensorsRepo);
        QVERIFY(row >= 0);
        table->selectRow(row);
        const quint64 expected =
            300 * 1024 + fx->server.content(kSafetensorsRepo, QStringLiteral("config.json")).size() +
            fx->server.content(kSafetensorsRepo, QStringLiteral("tokenizer_config.json")).size();
        QTRY_COMPARE_WITH_TIMEOUT(fitAsked.size(), 1, kTimeoutMs);
        QCOMPARE(fitAsked.first(), expected);
        QCOMPARE(table->item(row, 5)->text(), QStringLiteral("fits easily"));
        QCOMPARE(table->item(row, 3)->text(), gd::ui::DownloadMessages::bytes(expected));  // "307 KB"
        QCOMPARE(fx->server.listingRequests().size(), 1);
        QVERIFY(fx->server.fileRequests().isEmpty());
    }

    void checkSizesListsEveryRepoOnce() {
        auto dialog = makeDialog();
        QTest::mouseClick(dialog->findChild<QPushButton*>(QStringLiteral("checkSizesButton")),
                          Qt::LeftButton);
        auto* table = dialog->findChild<QTableWidget*>(QStringLiteral("offeringsTable"));
        // The fake hub knows two repos; every other row ends as "unknown" with the reason as tooltip.
        QTRY_VERIFY_WITH_TIMEOUT(
            [&] {
                for (int row = 0; row < table->rowCount(); ++row)
                    if (table->item(row, 3)->text() == QStringLiteral("checking…")) return false;
                return true;
            }(),
            kTimeoutMs);
        QSet<QString> repos;
        for (int row = 0; row < table->rowCount(); ++row) repos.insert(table->item(row, 0)->text());
        QCOMPARE(fx->server.listingRequests().size(), repos.size());
        const int row = rowOfRepo(table, QStringLiteral("google/gemma-4-31B-it"));
        QCOMPARE(table->item(row, 3)->text(), QStringLiteral("unknown"));
        QVERIFY(table->item(row, 3)->toolTip().contains(QLatin1String("not found")));
    }

    void downloadsEndToEnd() {
        auto dialog = makeDialog();
        dialog->show();
        QSignalSpy downloaded(dialog.get(), &DownloadDialog::modelDownloaded);
        auto* table = dialog->findChild<QTableWidget*>(QStringLiteral("offeringsTable"));
        auto* destination = dialog->findChild<QLineEdit*>(QStringLiteral("destinationEdit"));
        auto* download = dialog->findChild<QPushButton*>(QStringLiteral("downloadButton"));
        destination->setText(fx->root() + QStringLiteral("/chosen"));
        table->selectRow(rowOfRepo(table, kSafetensorsRepo));
        QVERIFY(download->isEnabled());
        QTest::mouseClick(download, Qt::LeftButton);
        QTRY_COMPARE_WITH_TIMEOUT(downloaded.size(), 1, kTimeoutMs);
        const QString folder =
            DownloadManager::modelFolder(fx->root() + QStringLiteral("/chosen"), kSafetensorsRepo);
        QCOMPARE(downloaded.first().first().toString(), folder);
        QCOMPARE(gd::test::readFile(folder + QStringLiteral("/model.safetensors")),
                 fx->server.content(kSafetensorsRepo, QStringLiteral("model.safetensors")));
        QCOMPARE(dialog->findChild<QProgressBar*>(QStringLiteral("progressBar"))->value(), 1000);
        QVERIFY(dialog->findChild<QLabel*>(QStringLiteral("errorLabel"))->text().isEmpty());
        QVERIFY(download->isEnabled());
    }

    void pauseResumeAndErrorsThroughTheButtons() {
        fx->server.modes().throttleBytes = 4096;
        fx->server.modes().tickMs = 4;
        auto dialog = makeDialog();
        dialog->show();
        QSignalSpy downloaded(dialog.get(), &DownloadDialog::modelDownloaded);
        auto* table = dialog->findChild<QTableWidget*>(QStringLiteral("offeringsTable"));
        auto* pause = dialog->findChild<QPushButton*>(QStringLiteral("pauseButton"));
        auto* resume = dialog->findChild<QPushButton*>(QStringLiteral("resumeButton"));
        table->selectRow(rowOfRepo(table, kSafetensorsRepo));
        QTest::mouseClick(dialog->findChild<QPushButton*>(QStringLiteral("downloadButton")), Qt::LeftButton);
        QTRY_VERIFY_WITH_TIMEOUT(pause->isEnabled(), kTimeoutMs);
        QTest::mouseClick(pause, Qt::LeftButton);
        QCOMPARE(dialog->manager()->state(), DownloadManager::State::Paused);
        QVERIFY(resume->isEnabled());
        fx->server.modes().throttleBytes = 0;
        fx->server.modes().fileStatus = 401;
        QTest::mouseClick(resume, Qt::LeftButton);
        auto* error = dialog->findChild<QLabel*>(QStringLiteral("errorLabel"));
        QTRY_VERIFY_WITH_TIMEOUT(error->text().contains(QLatin1String("accept Google's license")),
                                 kTimeoutMs);
        fx->server.modes().fileStatus = 0;
        QTest::mouseClick(dialog->findChild<QPushButton*>(QStringLiteral("downloadButton")), Qt::LeftButton);
        QTRY_COMPARE_WITH_TIMEOUT(downloaded.size(), 1, kTimeoutMs);
        QVERIFY(error->text().isEmpty());
    }
};

QTEST_MAIN(DownloadDialogTest)
#include "tst_download_dialog.moc"
