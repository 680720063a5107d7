#include "download/chunked_file_hasher.h"

#include "download/blob_hasher.h"

#include <QElapsedTimer>

#include <algorithm>

namespace gd::ui {
namespace {
// Small enough that one read plus its hash stays well inside a slice even on a slow disk.
constexpr qint64 kChunk = 1 << 20;
}  // namespace

ChunkedFileHasher::ChunkedFileHasher(const QString& path, quint64 bytes, BlobHasher* hasher, QObject* parent)
    : QObject(parent), file_(path), bytes_(bytes), hasher_(hasher) {
    timer_.setInterval(0);
    connect(&timer_, &QTimer::timeout, this, &ChunkedFileHasher::slice);
}

void ChunkedFileHasher::start() {
    done_ = 0;
    if (!file_.isOpen() && !file_.open(QIODevice::ReadOnly)) {
        // Reported from the event loop like every other outcome, so callers see one code path.
        QTimer::singleShot(0, this, [this] { emit finished(false); });
        return;
    }
    file_.seek(0);
    timer_.start();
}

void ChunkedFileHasher::stop() {
    timer_.stop();
    file_.close();
}

void ChunkedFileHasher::slice() {
    QElapsedTimer clock;
    clock.start();
    QByteArray buffer;
    while (done_ < bytes_ && clock.elapsed() < kSliceMs) {
        const qint64 want = static_cast<qint64>(std::min<quint64>(kChunk, bytes_ - done_));
        buffer = file_.read(want);
        if (buffer.size() != want) {
            stop();
            emit finished(false);
            return;
        }
        hasher_->addData(buffer);
        done_ += static_cast<quint64>(buffer.size());
    }
    emit progressed(done_);
    if (done_ >= bytes_) {
        stop();
        emit finished(true);
    }
}

}  // namespace gd::ui
