#include "download/file_transfer.h"

#include "download/blob_hasher.h"
#include "download/chunked_file_hasher.h"
#include "download/disk_space.h"
#include "download/hub_client.h"
#include "download/hub_get.h"

#include <QDir>
#include <QFileInfo>
#include <QRegularExpression>
#include <QTimer>

#include <utility>

namespace gd::ui {
namespace {

// "bytes 1000-4999/5000" → 1000; -1 when it cannot be read.
qint64 contentRangeStart(const QByteArray& header) {
    static const QRegularExpression re(QStringLiteral("^\\s*bytes\\s+(\\d+)-(\\d+)/(\\d+|\\*)\\s*$"),
                                       QRegularExpression::CaseInsensitiveOption);
    const auto m = re.match(QString::fromLatin1(header));
    return m.hasMatch() ? m.captured(1).toLongLong() : -1;
}

}  // namespace

FileTransfer::FileTransfer(HubClient* client, const QString& repo, const PlannedFile& file,
                           const QString& modelFolder, QObject* parent)
    : QObject(parent),
      client_(client),
      repo_(repo),
      file_(file),
      finalPath_(QDir(modelFolder).filePath(file.localPath)) {
    part_.setFileName(partPath());
}

FileTransfer::~FileTransfer() {
    stop();
}

void FileTransfer::start() {
    stop();
    rangeRestarts_ = 0;
    const QFileInfo final(finalPath_);
    // A complete-looking file with no record of having been verified (copied in by the user, or the
    // record was lost): hash it rather than download gigabytes again. If it does not match it is
    // deleted, so this happens at most once.
    if (final.exists() && static_cast<quint64>(final.size()) == file_.remote.size) {
        finalHasher_ = std::make_unique<BlobHasher>(file_.remote);
        emit checking();
        hashOnDisk(finalPath_, file_.remote.size, finalHasher_.get(), [this](bool ok) {
            const bool good = ok && finalHasher_->matches();
            finalHasher_.reset();
            if (good) {
                onDisk_ = file_.remote.size;
                emit succeeded(false);
                return;
            }
            QFile::remove(finalPath_);
            resumeFromPart();
        });
        return;
    }
    resumeFromPart();
}

void FileTransfer::resumeFromPart() {
    const QFileInfo part(partPath());
    quint64 onDisk = part.exists() ? static_cast<quint64>(part.size()) : 0;
    if (onDisk > file_.remote.size) {
        // Longer than the file can be: left over from another version of it.
        QFile::remove(partPath());
        onDisk = 0;
    }
    // After a pause in this session the hash state already covers exactly the bytes on disk.
    if (hasher_ && hasher_->bytesHashed() == onDisk) {
        request(onDisk);
        return;
    }
    hasher_ = std::make_unique<BlobHasher>(file_.remote);
    if (onDisk == 0) {
        request(0);
        return;
    }
    emit checking();
    hashOnDisk(partPath(), onDisk, hasher_.get(), [this, onDisk](bool ok) {
        if (!ok) {
            QFile::remove(partPath());
            hasher_->reset();
            request(0);
            return;
        }
        request(onDisk);
    });
}

void FileTransfer::hashOnDisk(const QString& path, quint64 bytes, BlobHasher* hasher,
                              std::function<void(bool)> done) {
    if (chunked_) {
        chunked_->stop();
        chunked_->deleteLater();
    }
    chunked_ = new ChunkedFileHasher(path, bytes, hasher, this);
    connect(chunked_, &ChunkedFileHasher::progressed, this, [this](quint64 n) {
        onDisk_ = n;  // checked bytes count as done: they will not be fetched again
        emit progressed(n, 0);
    });
    connect(chunked_, &ChunkedFileHasher::finished, this, [this, done = std::move(done)](bool ok) {
        chunked_->deleteLater();
        chunked_ = nullptr;
        done(ok);
    });
    chunked_->start();
}

void FileTransfer::request(quint64 offset) {
    onDisk_ = offset;
    if (offset == file_.remote.size) {
        finish();
        return;
    }
    if (!QDir().mkpath(QFileInfo(finalPath_).path())) {
        fail({DownloadMessages::cannotWrite(finalPath_,
                                            QDir::toNativeSeparators(QFileInfo(finalPath_).path())),
              false});
        return;
    }
    // Unbuffered, so a full disk shows up on the write that hits it, not on a later flush.
    if (!part_.isOpen() && !part_.open(QIODevice::WriteOnly | QIODevice::Append | QIODevice::Unbuffered)) {
        fail({DownloadMessages::cannotWrite(partPath(), part_.errorString()), false});
        return;
    }
    if (offset == 0 && part_.size() != 0) part_.resize(0);
    accepting_ = false;
    get_ = new HubGet(client_, client_->fileUrl(repo_, file_.remote.path),
                      offset > 0 ? std::optional<quint64>(offset) : std::nullopt, this);
    connect(get_, &HubGet::responseStarted, this, &FileTransfer::onResponse);
    connect(get_, &HubGet::readyRead, this, &FileTransfer::onData);
    connect(get_, &HubGet::finished, this, &FileTransfer::onDone);
    emit transferring();
    get_->start();
}

void FileTransfer::onResponse(int status) {
    if (status == 206) {
        if (contentRangeStart(get_->header("Content-Range")) != static_cast<qint64>(onDisk_)) {
            scheduleRestart(status);
            return;
        }
        accepting_ = true;
    } else if (status == 200) {
        if (onDisk_ > 0) {
            // The server ignored the Range and sends the whole file: start over from byte zero.
            part_.resize(0);
            hasher_->reset();
            onDisk_ = 0;
            emit progressed(0, 0);
        }
        accepting_ = true;
    } else if (status == 416) {
        // "Range not satisfiable": the .part does not belong to the file the hub has now.
        scheduleRestart(status);
    }
    // Any other status is an error page; onDone reports it.
}

void FileTransfer::scheduleRestart(int status) {
    // Aborting a reply from inside its own header signal confuses QNetworkReply; start over from
    // the event loop instead, ignoring whatever this response still delivers.
    accepting_ = false;
    restartPending_ = true;
    QTimer::singleShot(0, this, [this, status] {
        if (std::exchange(restartPending_, false)) restartFromZero(status);
    });
}

void FileTransfer::restartFromZero(int status) {
    stopNetwork();
    if (++rangeRestarts_ > 1) {
        fail({DownloadMessages::refused(client_->host(), status), false});
        return;
    }
    part_.resize(0);
    hasher_->reset();
    request(0);
}

void FileTransfer::onData() {
    if (!get_) return;
    const QByteArray data = get_->readAll();
    if (!accepting_ || data.isEmpty()) return;
    if (onDisk_ + static_cast<quint64>(data.size()) > file_.remote.size) {
        // More bytes than the listing promised: not the file the hash belongs to.
        stopNetwork();
        part_.close();
        QFile::remove(partPath());
        hasher_.reset();
        fail({DownloadMessages::damaged(file_.localPath), false});
        return;
    }
    const qint64 written = part_.write(data);
    if (written != data.size()) {
        stopNetwork();
        const HttpFailure failure = writeFailure();
        part_.close();
        hasher_.reset();  // a short write leaves the .part ahead of the hash; rehash on resume
        fail(failure);
        return;
    }
    hasher_->addData(data);
    onDisk_ += static_cast<quint64>(data.size());
    emit progressed(onDisk_, static_cast<quint64>(data.size()));
}

void FileTransfer::onDone() {
    if (!get_ || restartPending_) return;
    onData();           // anything still buffered
    if (!get_) return;  // onData failed
    const int status = get_->httpStatus();
    const QNetworkReply::NetworkError error = get_->error();
    stopNetwork();
    if (error != QNetworkReply::NoError || (status != 200 && status != 206)) {
        part_.close();
        fail(classifyHttpFailure(error, status, client_->host(), file_.localPath, false));
        return;
    }
    if (onDisk_ < file_.remote.size) {
        // The connection ended early without an error: worth another try from where it stopped.
        part_.close();
        fail({DownloadMessages::interrupted(client_->host()), true});
        return;
    }
    finish();
}

void FileTransfer::finish() {
    part_.close();
    emit checking();
    if (!hasher_ || !hasher_->matches()) {
        QFile::remove(partPath());
        hasher_.reset();
        fail({DownloadMessages::damaged(file_.localPath), false});
        return;
    }
    QFile::remove(finalPath_);
    QFile part(partPath());
    if (!part.rename(finalPath_)) {
        fail({DownloadMessages::cannotWrite(finalPath_, part.errorString()), false});
        return;
    }
    hasher_.reset();
    onDisk_ = file_.remote.size;
    emit succeeded(true);
}

void FileTransfer::fail(const HttpFailure& failure) {
    emit failed(failure);
}

void FileTransfer::stop() {
    stopNetwork();
    if (chunked_) {
        chunked_->stop();
        chunked_->deleteLater();
        chunked_ = nullptr;
    }
    finalHasher_.reset();
    part_.close();
}

void FileTransfer::discard() {
    stop();
    hasher_.reset();
    QFile::remove(partPath());
    onDisk_ = 0;
}

void FileTransfer::stopNetwork() {
    restartPending_ = false;
    if (!get_) return;
    get_->abort();
    get_->deleteLater();
    get_ = nullptr;
    accepting_ = false;
}

HttpFailure FileTransfer::writeFailure() const {
    const DiskSpace space = probeDiskSpace(QFileInfo(finalPath_).path());
    // Less than a network chunk left: the disk filled up under us.
    if (space.known && space.available < (1u << 20)) return {DownloadMessages::diskFull(space.volume), false};
    return {DownloadMessages::cannotWrite(partPath(), part_.errorString()), false};
}

}  // namespace gd::ui
