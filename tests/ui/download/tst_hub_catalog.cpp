// Pure parts of the downloader: the catalog, listing parsing, file choice, hashing, messages.

#include "download/blob_hasher.h"
#include "download/chunked_file_hasher.h"
#include "download/disk_space.h"
#include "download/download_manager.h"
#include "download/download_messages.h"
#include "download/hub_catalog.h"
#include "download/hub_client.h"
#include "download/hub_listing.h"

#include <QCryptographicHash>
#include <QDir>
#include <QSet>
#include <QSignalSpy>
#include <QTemporaryDir>
#include <QTest>

#include <time.h>

using namespace gd::ui;

namespace {

HubFile file(const QString& path, quint64 size, bool lfs = true) {
    HubFile f;
    f.path = path;
    f.size = size;
    f.gitOid = QStringLiteral("1111111111111111111111111111111111111111");
    if (lfs) f.sha256 = QString(64, QLatin1Char('a'));
    return f;
}

QStringList localPaths(const FileSelection& sel) {
    QStringList out;
    for (const PlannedFile& f : sel.files) out.append(f.localPath);
    return out;
}

HubOffering ggufOffering(const QString& quant) {
    HubOffering o;
    o.repo = QStringLiteral("someone/gemma-4-E4B-it-GGUF");
    o.id = o.repo + QLatin1Char(':') + quant;
    o.format = HubFormat::Gguf;
    o.variant = QStringLiteral("E4B");
    o.quant = quant;
    return o;
}

}  // namespace

class HubCatalogTest : public QObject {
    Q_OBJECT
private slots:
    void catalogHasTheOfficialReposAndUniqueIds() {
        const QList<HubOffering> all = hubCatalog();
        QSet<QString> ids;
        for (const HubOffering& o : all) {
            QVERIFY2(!ids.contains(o.id), qPrintable(o.id));
            ids.insert(o.id);
            QVERIFY(!o.description.isEmpty());
            QVERIFY(o.repo.count(QLatin1Char('/')) == 1);
            if (o.format == HubFormat::Gguf) QVERIFY(!o.quant.isEmpty());
        }
        for (const char* repo : {"google/gemma-4-E2B-it", "google/gemma-4-E4B-it",
                                 "google/gemma-4-26B-A4B-it", "google/gemma-4-31B-it"}) {
            const auto o = findOffering(QString::fromLatin1(repo));
            QVERIFY2(o && o->format == HubFormat::Safetensors, repo);
        }
        QCOMPARE(findOffering(QStringLiteral("google/gemma-4-E4B-it"))->modalities(),
                 QStringLiteral("text, image, audio"));
        QCOMPARE(findOffering(QStringLiteral("google/gemma-4-31B-it"))->modalities(),
                 QStringLiteral("text, image"));
        QVERIFY(findOffering(QStringLiteral("ggml-org/gemma-4-E4B-it-GGUF:Q4_K_M")).has_value());
    }

    void parsesTreeListing() {
        const QByteArray json = R"([
      {"type":"directory","oid":"abc","size":0,"path":"original"},
      {"type":"file","oid":"0123456789abcdef0123456789abcdef01234567","size":42,"path":"config.json"},
      {"type":"file","oid":"ffff","size":134,"path":"model.safetensors",
       "lfs":{"oid":"sha256:ABCDEF","size":5000000000,"pointerSize":134},"xetHash":"x"}
    ])";
        const auto files = parseTreeListing(json);
        QVERIFY(files);
        QCOMPARE(files->size(), 2);
        QCOMPARE(files->at(0).path, QStringLiteral("config.json"));
        QVERIFY(!files->at(0).isLfs());
        QCOMPARE(files->at(0).expectedHash(), QStringLiteral("0123456789abcdef0123456789abcdef01234567"));
        QCOMPARE(files->at(1).size, quint64(5000000000));
        QCOMPARE(files->at(1).expectedHash(), QStringLiteral("abcdef"));
        QVERIFY(!parseTreeListing("{\"error\":\"x\"}"));
        QVERIFY(!parseTreeListing("not json"));
    }

    void followsLinkHeader() {
        const QUrl current(QStringLiteral("https://huggingface.co/api/models/a/b/tree/main?recursive=true"));
        QCOMPARE(
            nextPageUrl(
                R"(<https://huggingface.co/api/models/a/b/tree/main?recursive=true&cursor=Zm9v>; rel="next")",
                current),
            QUrl(QStringLiteral(
                "https://huggingface.co/api/models/a/b/tree/main?recursive=true&cursor=Zm9v")));
        QVERIFY(nextPageUrl(R"(<https://x/y>; rel="prev")", current).isEmpty());
        QVERIFY(nextPageUrl({}, current).isEmpty());
    }

    void safetensorsSkipsOtherFormats() {
        HubOffering o = *findOffering(QStringLiteral("google/gemma-4-E2B-it"));
        const QList<HubFile> listing = {
            file(QStringLiteral("model-00002-of-00002.safetensors"), 900),
            file(QStringLiteral("model-00001-of-00002.safetensors"), 1000),
            file(QStringLiteral("config.json"), 10, false),
            file(QStringLiteral(".gitattributes"), 10, false),
            file(QStringLiteral("original/params.json"), 10, false),
            file(QStringLiteral("onnx/model.onnx"), 100),
            file(QStringLiteral("gemma-4-e2b.gguf"), 500),
            file(QStringLiteral("tokenizer.model"), 50),
            file(QStringLiteral("model.safetensors.index.json"), 20, false),
        };
        const FileSelection sel = selectFiles(o, listing);
        QVERIFY2(sel.error.isEmpty(), qPrintable(sel.error));
        QCOMPARE(localPaths(sel), (QStringList{"config.json", "model.safetensors.index.json",
                                               "model-00001-of-00002.safetensors",
                                               "model-00002-of-00002.safetensors", "tokenizer.model"}));
        QCOMPARE(totalSize(sel.files), quint64(10 + 20 + 1000 + 900 + 50));
        QVERIFY(sel.modelFile.isEmpty());
        QVERIFY(!selectFiles(o, {file(QStringLiteral("README.md"), 5, false)}).error.isEmpty());
    }

    void refusesPathsThatEscapeTheFolder() {
        HubOffering o = *findOffering(QStringLiteral("google/gemma-4-E2B-it"));
        const FileSelection sel = selectFiles(
            o, {file(QStringLiteral("config.json"), 1, false), file(QStringLiteral("model.safetensors"), 1),
                file(QStringLiteral("../../.bashrc"), 1, false)});
        QVERIFY(!sel.error.isEmpty());
        QVERIFY(sel.files.isEmpty());
    }

    void ggufPicksPlainQuantSplitPartsAndBestMmproj() {
        const QList<HubFile> listing = {
            file(QStringLiteral("gemma-4-E4B-it-UD-Q4_K_M.gguf"), 10),
            file(QStringLiteral("gemma-4-E4B-it-IQ4_K_M.gguf"), 10),
            file(QStringLiteral("gemma-4-E4B-it-Q4_K_M-00002-of-00002.gguf"), 20),
            file(QStringLiteral("gemma-4-E4B-it-Q4_K_M-00001-of-00002.gguf"), 30),
            file(QStringLiteral("gemma-4-E4B-it-Q8_0.gguf"), 40),
            file(QStringLiteral("mmproj-F32.gguf"), 8),
            file(QStringLiteral("mmproj-BF16.gguf"), 4),
            file(QStringLiteral("mmproj-F16.gguf"), 4),
            file(QStringLiteral("README.md"), 1, false),
        };
        const FileSelection sel = selectFiles(ggufOffering(QStringLiteral("Q4_K_M")), listing);
        QVERIFY2(sel.error.isEmpty(), qPrintable(sel.error));
        QCOMPARE(localPaths(sel), (QStringList{"mmproj-F16.gguf", "gemma-4-E4B-it-Q4_K_M-00002-of-00002.gguf",
                                               "gemma-4-E4B-it-Q4_K_M-00001-of-00002.gguf"}));
        QCOMPARE(sel.modelFile, QStringLiteral("gemma-4-E4B-it-Q4_K_M-00001-of-00002.gguf"));

        const FileSelection q8 = selectFiles(ggufOffering(QStringLiteral("Q8_0")), listing);
        QCOMPARE(q8.modelFile, QStringLiteral("gemma-4-E4B-it-Q8_0.gguf"));
        QVERIFY(!selectFiles(ggufOffering(QStringLiteral("Q2_K")), listing).error.isEmpty());
    }

    void ggufFromSubfolderLandsFlat() {
        const FileSelection sel = selectFiles(ggufOffering(QStringLiteral("Q4_K_M")),
                                              {file(QStringLiteral("Q4_K_M/gemma-4-E4B-it-Q4_K_M.gguf"), 5),
                                               file(QStringLiteral("gemma-4-E4B-it-mmproj-bf16.gguf"), 2)});
        QCOMPARE(localPaths(sel),
                 (QStringList{"gemma-4-E4B-it-mmproj-bf16.gguf", "gemma-4-E4B-it-Q4_K_M.gguf"}));
        QCOMPARE(sel.files.last().remote.path, QStringLiteral("Q4_K_M/gemma-4-E4B-it-Q4_K_M.gguf"));
    }

    void gitBlobAndSha256Hashes() {
        // `printf 'hello\n' | git hash-object --stdin`
        HubFile small = file(QStringLiteral("a.txt"), 6, false);
        small.gitOid = QStringLiteral("ce013625030ba8dba906f756967f9e9ca394464a");
        BlobHasher git(small);
        git.addData("hel");
        git.addData("lo\n");
        QVERIFY(git.matches());
        git.reset();
        git.addData("hello!");
        QVERIFY(!git.matches());

        HubFile big = file(QStringLiteral("b.bin"), 3);
        big.sha256 = QString::fromLatin1(QCryptographicHash::hash("abc", QCryptographicHash::Sha256).toHex());
        BlobHasher sha(big);
        sha.addData("ab");
        QVERIFY(!sha.matches());  // too short
        sha.addData("c");
        QVERIFY(sha.matches());
    }

    void chunkedHashingYieldsToTheEventLoop() {
        QTemporaryDir dir(QStringLiteral(GD_UI_TMP) + QStringLiteral("/hash-XXXXXX"));
        QDir().mkpath(QStringLiteral(GD_UI_TMP));
        QVERIFY(dir.isValid());
        const QByteArray content(48 << 20, 'g');
        QFile f(dir.filePath(QStringLiteral("big.part")));
        QVERIFY(f.open(QIODevice::WriteOnly));
        f.write(content);
        f.close();
        HubFile remote = file(QStringLiteral("big"), quint64(content.size()));
        remote.sha256 =
            QString::fromLatin1(QCryptographicHash::hash(content, QCryptographicHash::Sha256).toHex());
        BlobHasher hasher(remote);
        ChunkedFileHasher chunked(f.fileName(), quint64(content.size()), &hasher);
        QSignalSpy finished(&chunked, &ChunkedFileHasher::finished);
        QSignalSpy slices(&chunked, &ChunkedFileHasher::progressed);
        // A timer that keeps firing while hashing runs: the most CPU time spent between two of its
        // ticks is the UI's worst stall. CPU time of this thread, so a busy test machine that
        // deschedules the process does not count as our stall.
        const auto threadCpuMs = [] {
            timespec ts{};
            clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
            return qint64(ts.tv_sec) * 1000 + ts.tv_nsec / 1000000;
        };
        qint64 last = threadCpuMs(), worst = 0;
        QTimer ticker;
        ticker.setInterval(1);
        connect(&ticker, &QTimer::timeout, this, [&] {
            const qint64 now = threadCpuMs();
            worst = std::max(worst, now - last);
            last = now;
        });
        ticker.start();
        chunked.start();
        QTRY_COMPARE_WITH_TIMEOUT(finished.size(), 1, 20000);
        QVERIFY(finished.first().first().toBool());
        QVERIFY(hasher.matches());
        QVERIFY(slices.size() >= 2);
        QVERIFY2(worst < 50, qPrintable(QStringLiteral("longest stall %1 ms").arg(worst)));
    }

    void folderNamesAndUrls() {
        QCOMPARE(DownloadManager::modelFolder(QStringLiteral("/m"), QStringLiteral("google/gemma-4-E2B-it")),
                 QStringLiteral("/m/google--gemma-4-E2B-it"));
        qputenv("HF_ENDPOINT", "https://hub.example:8443");
        HubClient client;
        QCOMPARE(client.treeUrl(QStringLiteral("google/gemma-4-E2B-it")).toString(),
                 QStringLiteral(
                     "https://hub.example:8443/api/models/google/gemma-4-E2B-it/tree/main?recursive=true"));
        QCOMPARE(client.fileUrl(QStringLiteral("org/name"), QStringLiteral("sub dir/a#b.json"))
                     .toString(QUrl::FullyEncoded),
                 QStringLiteral("https://hub.example:8443/org/name/resolve/main/sub%20dir/a%23b.json"));
        QVERIFY(!client.networkCreated());
        qunsetenv("HF_ENDPOINT");
        QCOMPARE(HubClient().endpoint(), QUrl(QStringLiteral("https://huggingface.co")));
    }

    void plainMessages() {
        QCOMPARE(DownloadMessages::bytes(5'300'000'000ull), QStringLiteral("5.3 GB"));
        QCOMPARE(DownloadMessages::bytes(840'000'000ull), QStringLiteral("840 MB"));
        QVERIFY(DownloadMessages::notEnoughSpace(10'500'000'000ull, 2'000'000'000ull, QStringLiteral("/home"))
                    .contains(QLatin1String("needs 10.5 GB, 2.0 GB free on /home")));
        QCOMPARE(spaceNeeded(1000), quint64(1050));
        const HttpFailure offline =
            classifyHttpFailure(QNetworkReply::ConnectionRefusedError, 0, QStringLiteral("huggingface.co"),
                                QStringLiteral("x"), false);
        QVERIFY(
            offline.message.startsWith(QLatin1String("Can't reach huggingface.co: check the connection")));
        QVERIFY(offline.transient);
        QVERIFY(
            !classifyHttpFailure(QNetworkReply::NoError, 403, QStringLiteral("h"), QStringLiteral("x"), false)
                 .transient);
        QVERIFY(
            classifyHttpFailure(QNetworkReply::NoError, 503, QStringLiteral("h"), QStringLiteral("x"), false)
                .transient);
    }

    void probesTheNearestExistingFolder() {
        const DiskSpace space =
            probeDiskSpace(QStringLiteral(GD_UI_TMP) + QStringLiteral("/does/not/exist/yet"));
        QVERIFY(space.known);
        QVERIFY(!space.volume.isEmpty());
    }
};

QTEST_GUILESS_MAIN(HubCatalogTest)
#include "tst_hub_catalog.moc"
