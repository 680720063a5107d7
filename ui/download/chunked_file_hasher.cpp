#include "download/chunked_file_hasher.h"

#include "download/blob_hasher.h"

#include <QElapsedTimer>

#include <algorithm>

namespace gd::ui {
namespace {
// Small enough that one read plus its hash stays well inside a slice even on a slow disk.
constexpr qint64 kChunk = 1 << 20;
}

ChunkedFileHasher::ChunkedFileHasher(const QString& path, quint64 bytes, BlobHasher* hasher, QObject* parent)
    : QObject(parent), m_file(path), m_bytes(bytes), m_hasher(hasher) {
  m_timer.setInterval(0);
  connect(&m_timer, &QTimer::timeout, this, &ChunkedFileHasher::slice);
}

void ChunkedFileHasher::start() {
  m_done = 0;
  if (!m_file.isOpen() && !m_file.open(QIODevice::ReadOnly)) {
    // Reported from the event loop like every other outcome, so callers see one code path.
    QTimer::singleShot(0, this, [this] { emit finished(false); });
    return;
  }
  m_file.seek(0);
  m_timer.start();
}

void ChunkedFileHasher::stop() {
  m_timer.stop();
  m_file.close();
}

void ChunkedFileHasher::slice() {
  QElapsedTimer clock;
  clock.start();
  QByteArray buffer;
  while (m_done < m_bytes && clock.elapsed() < kSliceMs) {
    const qint64 want = static_cast<qint64>(std::min<quint64>(kChunk, m_bytes - m_done));
    buffer = m_file.read(want);
    if (buffer.size() != want) {
      stop();
      emit finished(false);
      return;
    }
    m_hasher->addData(buffer);
    m_done += static_cast<quint64>(buffer.size());
  }
  emit progressed(m_done);
  if (m_done >= m_bytes) {
    stop();
    emit finished(true);
  }
}

}  // namespace gd::ui
