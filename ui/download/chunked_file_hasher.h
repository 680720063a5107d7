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
    bool running() const { return timer_.isActive(); }

    // How long one slice may hash before it yields to the event loop.
    static constexpr int kSliceMs = 15;

signals:
    void progressed(quint64 bytesDone);
    // ok false: the file could not be read to the end.
    void finished(bool ok);

private:
    void slice();

    QFile file_;
    quint64 bytes_;
    quint64 done_ = 0;
    BlobHasher* hasher_;
    QTimer timer_;
};

}  // namespace gd::ui
