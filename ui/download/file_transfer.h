#pragma once
// Downloads one file of a model: bytes go to "<file>.part" and are hashed as they are written;
// only when size and hash match what the hub listed is the .part renamed into place. A later
// start() resumes from the .part with a Range request (hashing what is on disk first).

#include "download/download_messages.h"
#include "download/hub_listing.h"

#include <QFile>
#include <QObject>
#include <QPointer>
#include <QUrl>

#include <memory>

namespace gd::ui {

class BlobHasher;
class ChunkedFileHasher;
class HubClient;
class HubGet;

class FileTransfer : public QObject {
    Q_OBJECT
public:
    FileTransfer(HubClient* client, const QString& repo, const PlannedFile& file, const QString& modelFolder,
                 QObject* parent = nullptr);
    ~FileTransfer() override;

    // Starts, or resumes after stop() / a failure. Emits exactly one of succeeded / failed later.
    void start();
    // Pause: drops the connection, keeps the .part (and the hash of it, so resuming is instant).
    void stop();
    // Cancel: stop() and delete the .part.
    void discard();

    const PlannedFile& file() const { return file_; }
    QString finalPath() const { return finalPath_; }
    QString partPath() const { return finalPath_ + QStringLiteral(".part"); }
    quint64 bytesOnDisk() const { return onDisk_; }

signals:
    // Hashing bytes already on disk: a .part being resumed, or a finished file without a record.
    void checking();
    // Requesting / receiving bytes from the hub.
    void transferring();
    void progressed(quint64 bytesOnDisk, quint64 bytesJustReceived);
    // downloaded false: the file was already complete on disk and its hash checked out.
    void succeeded(bool downloaded);
    void failed(const gd::ui::HttpFailure& failure);

private:
    void resumeFromPart();
    void hashOnDisk(const QString& path, quint64 bytes, BlobHasher* hasher, std::function<void(bool)> done);
    void request(quint64 offset);
    void onResponse(int status);
    void onData();
    void onDone();
    void scheduleRestart(int status);
    void restartFromZero(int status);
    void finish();
    void fail(const HttpFailure& failure);
    void stopNetwork();
    HttpFailure writeFailure() const;

    HubClient* client_;
    QString repo_;
    PlannedFile file_;
    QString finalPath_;
    QFile part_;
    std::unique_ptr<BlobHasher> hasher_;       // state of the .part's bytes, kept across pauses
    std::unique_ptr<BlobHasher> finalHasher_;  // checking an already-present final file
    QPointer<HubGet> get_;
    QPointer<ChunkedFileHasher> chunked_;
    quint64 onDisk_ = 0;
    bool accepting_ = false;
    bool restartPending_ = false;
    int rangeRestarts_ = 0;
};

}  // namespace gd::ui
