#include "download_fixture_support.h"

#include <QDir>
#include <QDirIterator>
#include <QFile>

namespace gd::test {

bool HubFixture::setUp() {
    const QString tmpRoot = QStringLiteral(GD_UI_TMP);
    QDir().mkpath(tmpRoot);
    dir = std::make_unique<QTemporaryDir>(tmpRoot + QStringLiteral("/download-XXXXXX"));
    if (!dir->isValid()) return false;

    const QByteArray config =
        R"({"architectures": ["Gemma4ForConditionalGeneration"], "model_type": "gemma4"})";
    server.addFile(kSafetensorsRepo, QStringLiteral("config.json"), config, false);
    server.addFile(kSafetensorsRepo, QStringLiteral("tokenizer_config.json"), R"({"bos_token": "<bos>"})",
                   false);
    server.addFile(kSafetensorsRepo, QStringLiteral("model.safetensors"),
                   LocalHubServer::randomBytes(kWeightsSize, 7), true);
    // Present in real repos, never needed by the engine: must not be requested.
    server.addFile(kSafetensorsRepo, QStringLiteral(".gitattributes"), "*.safetensors filter=lfs\n", false);
    server.addFile(kSafetensorsRepo, QStringLiteral("original/params.json"), "{}", false);

    server.addFile(kGgufRepo, QStringLiteral("gemma-4-E4B-it-Q4_K_M.gguf"),
                   LocalHubServer::randomBytes(200 * 1024, 11), true);
    server.addFile(kGgufRepo, QStringLiteral("gemma-4-E4B-it-Q8_0.gguf"),
                   LocalHubServer::randomBytes(250 * 1024, 12), true);
    server.addFile(kGgufRepo, QStringLiteral("mmproj-gemma-4-E4B-it-f16.gguf"),
                   LocalHubServer::randomBytes(40 * 1024, 13), true);
    server.addFile(kGgufRepo, QStringLiteral("mmproj-gemma-4-E4B-it-f32.gguf"),
                   LocalHubServer::randomBytes(80 * 1024, 14), true);
    server.addFile(kGgufRepo, QStringLiteral("README.md"), "# GGUF\n", false);

    if (!server.listen()) return false;
    qputenv("HF_ENDPOINT", server.endpoint().toUtf8());
    qunsetenv("HF_TOKEN");
    return true;
}

gd::ui::HubOffering HubFixture::safetensorsOffering() {
    gd::ui::HubOffering o;
    o.id = kSafetensorsRepo;
    o.repo = kSafetensorsRepo;
    o.format = gd::ui::HubFormat::Safetensors;
    o.variant = QStringLiteral("E2B");
    return o;
}

gd::ui::HubOffering HubFixture::ggufOffering() {
    gd::ui::HubOffering o;
    o.id = kGgufRepo + QStringLiteral(":Q4_K_M");
    o.repo = kGgufRepo;
    o.format = gd::ui::HubFormat::Gguf;
    o.variant = QStringLiteral("E4B");
    o.quant = QStringLiteral("Q4_K_M");
    return o;
}

QStringList filesUnder(const QString& folder) {
    QStringList out;
    QDirIterator it(folder, QDir::Files | QDir::Hidden, QDirIterator::Subdirectories);
    while (it.hasNext()) out.append(QDir(folder).relativeFilePath(it.next()));
    out.sort();
    return out;
}

QByteArray readFile(const QString& path) {
    QFile f(path);
    return f.open(QIODevice::ReadOnly) ? f.readAll() : QByteArray();
}

}  // namespace gd::test
