// The download manager against a loopback fake of the Hugging Face hub.

#include "download/download_manager.h"
#include "download/hub_client.h"
#include "download_fixture_support.h"

#include <QFileInfo>
#include <QSignalSpy>
#include <QTest>

using gd::test::HubFixture;
using gd::test::kGgufRepo;
using gd::test::kSafetensorsRepo;
using gd::test::kWeightsSize;
using gd::test::LocalHubServer;
using gd::ui::DownloadManager;
using State = gd::ui::DownloadManager::State;

namespace {

constexpr int kTimeoutMs = 10000;

// A manager that reads the fixture's HF_ENDPOINT and retries quickly.
std::unique_ptr<DownloadManager> makeManager() {
    auto m = std::make_unique<DownloadManager>();
    m->setRetryPolicy(2, 20);
    return m;
}

QString weightsPath(const HubFixture& fx) {
    return fx.folder(kSafetensorsRepo) + QStringLiteral("/model.safetensors");
}

}  // namespace

class DownloadsTest : public QObject {
    Q_OBJECT

private:
    std::unique_ptr<HubFixture> fx;

    // Waits for the manager to settle in Finished (true) or Failed (false, the message in *error).
    bool runToEnd(DownloadManager& m, QString* error = nullptr) {
        QSignalSpy failed(&m, &DownloadManager::failed);
        if (m.state() != State::Finished && m.state() != State::Failed)
            [&] {
                QTRY_VERIFY_WITH_TIMEOUT(m.state() == State::Finished || m.state() == State::Failed,
                                         kTimeoutMs);
            }();
        if (error && !failed.isEmpty()) *error = failed.first().first().toString();
        return m.state() == State::Finished;
    }

    void checkSafetensorsComplete() {
        const QString folder = fx->folder(kSafetensorsRepo);
        QCOMPARE(gd::test::filesUnder(folder), (QStringList{".gemmadesk-download.json", "config.json",
                                                            "model.safetensors", "tokenizer_config.json"}));
        for (const QString& name : {QStringLiteral("config.json"), QStringLiteral("tokenizer_config.json"),
                                    QStringLiteral("model.safetensors")})
            QCOMPARE(gd::test::readFile(folder + QLatin1Char('/') + name),
                     fx->server.content(kSafetensorsRepo, name));
    }

    // Starts a throttled download and pauses it once the weights' .part holds some bytes.
    qint64 startAndPauseMidFile(DownloadManager& m) {
        fx->server.modes().throttleBytes = 4096;
        fx->server.modes().tickMs = 4;
        const QString part = weightsPath(*fx) + QStringLiteral(".part");
        connect(&m, &DownloadManager::progress, &m, [&m, part] {
            if (m.state() == State::Downloading && QFileInfo(part).size() > 64 * 1024) m.pause();
        });
        m.start(HubFixture::safetensorsOffering(), fx->root());
        [&] { QTRY_COMPARE_WITH_TIMEOUT(m.state(), State::Paused, kTimeoutMs); }();
        m.disconnect(&m);
        return QFileInfo(part).size();
    }

private slots:
    void init() {
        fx = std::make_unique<HubFixture>();
        QVERIFY(fx->setUp());
    }
    void cleanup() { fx.reset(); }

    void fullDownloadIsVerifiedAndIdentical() {
        auto m = makeManager();
        QSignalSpy finished(m.get(), &DownloadManager::finished);
        QSignalSpy progress(m.get(), &DownloadManager::progress);
        QSignalSpy started(m.get(), &DownloadManager::fileStarted);
        QSignalSpy states(m.get(), &DownloadManager::stateChanged);
        QVERIFY(m->start(HubFixture::safetensorsOffering(), fx->root()));
        QString error;
        QVERIFY2(runToEnd(*m, &error), qPrintable(error));
        QCOMPARE(finished.size(), 1);
        QCOMPARE(finished.first().first().toString(), fx->folder(kSafetensorsRepo));
        checkSafetensorsComplete();
        QCOMPARE(started.size(), 3);
        // Only the three needed files were fetched, whole, without a Range.
        const auto requests = fx->server.fileRequests();
        QCOMPARE(requests.size(), 3);
        for (const auto& r : requests) QVERIFY(r.header("range").isEmpty());
        QCOMPARE(fx->server.listingRequests().size(), 1);
        const auto last = progress.last();
        QCOMPARE(last.at(0).value<quint64>(), last.at(1).value<quint64>());
        QVERIFY(states.first().first().value<State>() == State::Listing);
    }

    void ggufPicksQuantAndMmprojSideBySide() {
        auto m = makeManager();
        QSignalSpy finished(m.get(), &DownloadManager::finished);
        m->start(HubFixture::ggufOffering(), fx->root());
        QString error;
        QVERIFY2(runToEnd(*m, &error), qPrintable(error));
        const QString folder = fx->folder(kGgufRepo);
        QCOMPARE(finished.first().first().toString(), folder + QStringLiteral("/gemma-4-E4B-it-Q4_K_M.gguf"));
        QCOMPARE(gd::test::filesUnder(folder),
                 (QStringList{".gemmadesk-download.json", "gemma-4-E4B-it-Q4_K_M.gguf",
                              "mmproj-gemma-4-E4B-it-f16.gguf"}));
        QCOMPARE(gd::test::readFile(folder + QStringLiteral("/gemma-4-E4B-it-Q4_K_M.gguf")),
                 fx->server.content(kGgufRepo, QStringLiteral("gemma-4-E4B-it-Q4_K_M.gguf")));
    }

    void pauseThenResumeSendsRangeOfPartSize() {
        auto m = makeManager();
        const qint64 n = startAndPauseMidFile(*m);
        QVERIFY(n > 0 && n < kWeightsSize);
        QVERIFY(!QFileInfo::exists(weightsPath(*fx)));
        fx->server.modes().throttleBytes = 0;
        fx->server.clearRequests();
        m->resume();
        QVERIFY(runToEnd(*m));
        const auto requests = fx->server.fileRequests();
        QCOMPARE(requests.size(), 1);
        QCOMPARE(requests.first().header("range"), "bytes=" + QByteArray::number(n) + '-');
        checkSafetensorsComplete();
    }

    void resumeInANewSessionHashesThePartFirst() {
        qint64 n = 0;
        {
            auto first = makeManager();
            n = startAndPauseMidFile(*first);
        }  // the app quits while paused
        QVERIFY(n > 0);
        fx->server.modes().throttleBytes = 0;
        fx->server.clearRequests();
        auto m = makeManager();
        QSignalSpy states(m.get(), &DownloadManager::stateChanged);
        m->start(HubFixture::safetensorsOffering(), fx->root());
        QVERIFY(runToEnd(*m));
        bool verified = false;
        for (const auto& s : states) verified = verified || s.first().value<State>() == State::Verifying;
        QVERIFY(verified);
        const auto requests = fx->server.fileRequests();
        QCOMPARE(requests.size(), 1);  // the two small files were recorded complete
        QCOMPARE(requests.first().header("range"), "bytes=" + QByteArray::number(n) + '-');
        checkSafetensorsComplete();
    }

    void serverIgnoringRangeRestartsCleanly() {
        // A .part from an earlier run; the server then ignores the Range and sends everything.
        QDir().mkpath(fx->folder(kSafetensorsRepo));
        QFile part(weightsPath(*fx) + QStringLiteral(".part"));
        QVERIFY(part.open(QIODevice::WriteOnly));
        part.write(fx->server.content(kSafetensorsRepo, QStringLiteral("model.safetensors")).left(100000));
        part.close();
        fx->server.modes().ignoreRange = true;
        auto m = makeManager();
        m->start(HubFixture::safetensorsOffering(), fx->root());
        QString error;
        QVERIFY2(runToEnd(*m, &error), qPrintable(error));
        checkSafetensorsComplete();
        bool sentRange = false;
        for (const auto& r : fx->server.fileRequests())
            sentRange = sentRange || r.header("range") == "bytes=100000-";
        QVERIFY(sentRange);
    }

    void rangeNotSatisfiableStartsOver() {
        QDir().mkpath(fx->folder(kSafetensorsRepo));
        QFile part(weightsPath(*fx) + QStringLiteral(".part"));
        QVERIFY(part.open(QIODevice::WriteOnly));
        part.write(QByteArray(1000, 'x'));  // not even the right bytes: the restart must drop them
        part.close();
        fx->server.modes().refuseFirstRange = true;
        auto m = makeManager();
        m->start(HubFixture::safetensorsOffering(), fx->root());
        QString error;
        QVERIFY2(runToEnd(*m, &error), qPrintable(error));
        checkSafetensorsComplete();
    }

    void redirectIsFollowedWithRangeAndWithoutToken() {
        QDir().mkpath(fx->folder(kSafetensorsRepo));
        QFile part(weightsPath(*fx) + QStringLiteral(".part"));
        QVERIFY(part.open(QIODevice::WriteOnly));
        part.write(fx->server.content(kSafetensorsRepo, QStringLiteral("model.safetensors")).left(5000));
        part.close();
        fx->server.modes().redirect = true;
        fx->server.modes().redirectHost = QStringLiteral("localhost");  // another host, like the CDN
        auto m = makeManager();
        m->setToken(QStringLiteral("hf_test_token"));
        m->start(HubFixture::safetensorsOffering(), fx->root());
        QString error;
        QVERIFY2(runToEnd(*m, &error), qPrintable(error));
        checkSafetensorsComplete();
        const LocalHubServer::Request* hub = nullptr;
        const LocalHubServer::Request* cdn = nullptr;
        const auto requests = fx->server.fileRequests();
        for (const auto& r : requests) {
            if (!r.path.endsWith(QLatin1String("model.safetensors"))) continue;
            (r.path.startsWith(QLatin1String("/cdn/")) ? cdn : hub) = &r;
        }
        QVERIFY(hub && cdn);
        QCOMPARE(hub->header("range"), QByteArray("bytes=5000-"));
        QCOMPARE(cdn->header("range"), QByteArray("bytes=5000-"));
        QCOMPARE(hub->header("authorization"), QByteArray("Bearer hf_test_token"));
        QVERIFY(cdn->header("authorization").isEmpty());
    }

    void checksumMismatchFailsAndKeepsNothing() {
        fx->server.modes().corruptPath = QStringLiteral("model.safetensors");
        auto m = makeManager();
        QString error;
        m->start(HubFixture::safetensorsOffering(), fx->root());
        QVERIFY(!runToEnd(*m, &error));
        QVERIFY2(error.contains(QLatin1String("damaged (checksum mismatch)")), qPrintable(error));
        QVERIFY(error.contains(QLatin1String("try again")));
        QVERIFY(!QFileInfo::exists(weightsPath(*fx)));
        QVERIFY(!QFileInfo::exists(weightsPath(*fx) + QStringLiteral(".part")));
    }

    void cancelRemovesPartFiles() {
        auto m = makeManager();
        const qint64 n = startAndPauseMidFile(*m);
        QVERIFY(n > 0);
        m->resume();
        QTRY_VERIFY_WITH_TIMEOUT(m->state() == State::Downloading, kTimeoutMs);
        m->cancel();
        QCOMPARE(m->state(), State::Cancelled);
        QVERIFY(!QFileInfo::exists(weightsPath(*fx) + QStringLiteral(".part")));
        QVERIFY(!QFileInfo::exists(weightsPath(*fx)));
        // Nothing arrives after a cancel.
        QTest::qWait(50);
        QCOMPARE(m->state(), State::Cancelled);
        QVERIFY(!QFileInfo::exists(weightsPath(*fx) + QStringLiteral(".part")));
    }

    void unauthorizedSaysAcceptLicense() {
        fx->server.modes().fileStatus = 401;
        auto m = makeManager();
        QString error;
        m->start(HubFixture::safetensorsOffering(), fx->root());
        QVERIFY(!runToEnd(*m, &error));
        QVERIFY2(error.contains(QLatin1String("accept Google's license")) &&
                     error.contains(QLatin1String("token")),
                 qPrintable(error));
        QCOMPARE(fx->server.fileRequests().size(), 1);  // not retried: waiting will not help
    }

    void missingFileSaysNotFound() {
        fx->server.modes().fileStatus = 404;
        auto m = makeManager();
        QString error;
        m->start(HubFixture::safetensorsOffering(), fx->root());
        QVERIFY(!runToEnd(*m, &error));
        QVERIFY2(error.contains(QLatin1String("not found")), qPrintable(error));
    }

    void unreachableHubSaysCheckConnection() {
        auto m = makeManager();
        m->hub()->setEndpoint(QUrl(QStringLiteral("http://127.0.0.1:%1").arg(LocalHubServer::closedPort())));
        QString error;
        m->start(HubFixture::safetensorsOffering(), fx->root());
        QVERIFY(!runToEnd(*m, &error));
        QVERIFY2(error.startsWith(QLatin1String("Can't reach")) &&
                     error.contains(QLatin1String("check the connection")),
                 qPrintable(error));
    }

    void transientErrorsAreRetried() {
        fx->server.modes().failFirstFileRequests = 1;  // one 503
        fx->server.modes().dropAfterBytes = 50000;     // then a connection cut mid-file
        auto m = makeManager();
        QString error;
        m->start(HubFixture::safetensorsOffering(), fx->root());
        QVERIFY2(runToEnd(*m, &error), qPrintable(error));
        checkSafetensorsComplete();
        // The cut-off weights continued from where the connection dropped.
        bool resumed = false;
        for (const auto& r : fx->server.fileRequests())
            resumed = resumed || r.header("range") == "bytes=50000-";
        QVERIFY(resumed);
    }

    void notEnoughSpaceIsRefusedBeforeAnyFileRequest() {
        auto m = makeManager();
        m->setDiskSpaceProbe([](const QString&) {
            return gd::ui::DiskSpace{true, 1000, QStringLiteral("/test-volume")};
        });
        QString error;
        m->start(HubFixture::safetensorsOffering(), fx->root());
        QVERIFY(!runToEnd(*m, &error));
        QVERIFY2(
            error.contains(QLatin1String("needs")) && error.contains(QLatin1String("free on /test-volume")),
            qPrintable(error));
        QVERIFY(fx->server.fileRequests().isEmpty());
    }

    void secondStartSkipsCompletedFiles() {
        {
            auto m = makeManager();
            m->start(HubFixture::safetensorsOffering(), fx->root());
            QVERIFY(runToEnd(*m));
        }
        fx->server.clearRequests();
        auto m = makeManager();
        QSignalSpy finished(m.get(), &DownloadManager::finished);
        m->start(HubFixture::safetensorsOffering(), fx->root());
        QVERIFY(runToEnd(*m));
        QCOMPARE(finished.size(), 1);
        QVERIFY(fx->server.fileRequests().isEmpty());
        checkSafetensorsComplete();
    }

    void unrecordedFilesAreHashedNotRefetched() {
        {
            auto m = makeManager();
            m->start(HubFixture::safetensorsOffering(), fx->root());
            QVERIFY(runToEnd(*m));
        }
        // As if the files were copied in by hand: no record; and one of them is wrong.
        QVERIFY(QFile::remove(fx->folder(kSafetensorsRepo) + QStringLiteral("/.gemmadesk-download.json")));
        QFile config(fx->folder(kSafetensorsRepo) + QStringLiteral("/config.json"));
        QVERIFY(config.open(QIODevice::ReadWrite));
        const QByteArray good = config.readAll();
        config.seek(0);
        config.write(QByteArray(good.size(), ' '));
        config.close();
        fx->server.clearRequests();
        auto m = makeManager();
        m->start(HubFixture::safetensorsOffering(), fx->root());
        QVERIFY(runToEnd(*m));
        const auto requests = fx->server.fileRequests();
        QCOMPARE(requests.size(), 1);
        QVERIFY(requests.first().path.endsWith(QLatin1String("/config.json")));
        checkSafetensorsComplete();
    }

    void pagedListingIsFollowed() {
        fx->server.modes().pageSize = 2;
        auto m = makeManager();
        m->start(HubFixture::safetensorsOffering(), fx->root());
        QString error;
        QVERIFY2(runToEnd(*m, &error), qPrintable(error));
        QVERIFY(fx->server.listingRequests().size() >= 3);
        checkSafetensorsComplete();
    }

    void constructingOpensNoConnection() {
        auto m = makeManager();
        QTest::qWait(50);
        QVERIFY(fx->server.requests().isEmpty());
        QVERIFY(!m->hub()->networkCreated());
        m->pause();
        m->resume();
        m->cancel();
        QTest::qWait(20);
        QVERIFY(fx->server.requests().isEmpty());
        QVERIFY(!m->hub()->networkCreated());
    }
};

QTEST_GUILESS_MAIN(DownloadsTest)
#include "tst_downloads.moc"
