#pragma once
// Shared setup for the download tests: a fake hub with a tiny "safetensors" Gemma repo and a
// tiny GGUF repo, a scratch folder under GD_UI_TMP, and small helpers.

#include "download/download_manager.h"
#include "download/hub_catalog.h"
#include "local_hub_server_support.h"

#include <QString>
#include <QTemporaryDir>

#include <memory>

namespace gd::test {

// The official E2B repo name, so the dialog's real catalog entry downloads from the fake hub.
inline const QString kSafetensorsRepo = QStringLiteral("google/gemma-4-E2B-it");
inline const QString kGgufRepo = QStringLiteral("ggml-org/gemma-4-E4B-it-GGUF");
constexpr int kWeightsSize = 300 * 1024;

struct HubFixture {
    LocalHubServer server;
    std::unique_ptr<QTemporaryDir> dir;

    // Fills the server, starts it and points HF_ENDPOINT at it. False when loopback is unusable.
    bool setUp();
    QString root() const { return dir->path(); }
    QString folder(const QString& repo) const { return gd::ui::DownloadManager::modelFolder(root(), repo); }
    static gd::ui::HubOffering safetensorsOffering();
    static gd::ui::HubOffering ggufOffering();
};

// Every file under `folder`, relative, sorted (to compare what landed on disk).
QStringList filesUnder(const QString& folder);
QByteArray readFile(const QString& path);

}  // namespace gd::test
