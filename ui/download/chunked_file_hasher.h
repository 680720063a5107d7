#pragma once
// Feeds the first N bytes of a file on disk into a BlobHasher in short slices on the event loop,
// so checking a multi-gigabyte .part after a resume never freezes the window: each slice stops
// after ~15 ms and lets the event loop run.

#include <QFile>
#include <QObject>
#include <QTimer>

namespace gd::ui {

class BlobHasher;

class ChunkedFileHasher : public QObject {
  Q_OBJECT
 public:
  ChunkedFileHasher(const QString& path, quint64 bytes, BlobHasher* hasher, QObject* parent = nullptr);

  void start();
  void stop();
  bool running() const { return m_timer.isActive(); }

  // How long one slice may hash before it yields to the event loop.
  static constexpr int kSliceMs = 15;

 signals:
  void progressed(quint64 bytesDone);
  // ok false: the file could not be read to the end.
  void finished(bool ok);

 private:
  void slice();

  QFile m_file;
  quint64 m_bytes;
  quint64 m_done = 0;
  BlobHasher* m_hasher;
  QTimer m_timer;
};

}  // namespace gd::ui
