#pragma once
// The hub's repository listing (GET /api/models/{repo}/tree/main?recursive=true) and the choice of
// which listed files an offering needs.

#include "download/hub_catalog.h"

#include <QByteArray>
#include <QList>
#include <QString>
#include <QUrl>

#include <optional>

namespace gd::ui {

struct HubFile {
    QString path;  // path inside the repository, '/'-separated
    quint64 size = 0;
    QString sha256;  // LFS/xet files: lfs.oid, the sha256 of the content (hex); empty otherwise
    QString gitOid;  // the git blob sha1 (hex); for LFS files that of the pointer, so unused then
    bool isLfs() const { return !sha256.isEmpty(); }
    // What verification compares against: the sha256 for LFS files, the git blob sha1 otherwise.
    QString expectedHash() const { return isLfs() ? sha256 : gitOid; }
};

// One page of the listing: an array of {type, path, size, oid, lfs?: {oid, size}}. Directories are
// dropped. nullopt when the body is not such an array.
std::optional<QList<HubFile>> parseTreeListing(const QByteArray& json);

// The hub pages long listings with `Link: <url>; rel="next"`; an empty URL when there is no next.
QUrl nextPageUrl(const QByteArray& linkHeader, const QUrl& current);

struct PlannedFile {
    HubFile remote;
    QString localPath;  // relative to the model folder: the repo path (safetensors) or the file name (GGUF)
};

struct FileSelection {
    QList<PlannedFile> files;  // small files first, so a bad listing or a refusal shows up early
    QString modelFile;         // GGUF: localPath of the text model (first part when split); else empty
    QString error;             // plain words when the listing has nothing that fits the offering
};

// Safetensors: every file except other formats (original/, onnx, gguf, …) and git housekeeping.
// GGUF: the text model file(s) whose name carries the offering's quant tag, plus the best mmproj.
// Paths that could escape the model folder ("..", absolute) are refused.
FileSelection selectFiles(const HubOffering& offering, const QList<HubFile>& listing);

quint64 totalSize(const QList<PlannedFile>& files);

}  // namespace gd::ui
