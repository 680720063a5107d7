#pragma once
// The app's sounds, for the widgets on the UI thread: attaching a file or a recording (checked with
// the engine's decoder, copied into the data folder) and decoding a stored clip for playback, on a
// small thread pool so that a long file never stalls the event loop; answers come back as signals.
// Mirrors ImageLibrary: stored clips live in <root>/audio/ (see audio_files.h); with no root (the
// history could not be opened) a temporary folder holds this session's recordings.
#include <QObject>
#include <QThreadPool>
#include <functional>
#include <memory>
#include <vector>
#include "audio/audio_jobs.h"
#include "audio/stored_audio.h"

class QTemporaryDir;

namespace gd::ui {

class AudioLibrary : public QObject {
    Q_OBJECT
public:
    explicit AudioLibrary(const QString& root, QObject* parent = nullptr);
    ~AudioLibrary() override;  // waits for the jobs that run

    QString root() const { return root_; }
    QString pathOf(const QString& file) const;  // "" when the name is not one of ours

    // Answered by attached() or attachFailed() with the returned ticket.
    quint64 attachFile(const QString& path);
    quint64 attachRecording(std::vector<float> samples, int rate, const QString& name);
    // Answered by decoded() with the ticket.
    quint64 decodeForPlayback(const QString& file);

    // Deletes a stored clip (the caller checked nothing refers to it any more).
    void remove(const QString& file);

signals:
    void attached(quint64 ticket, const gd::ui::StoredAudio& clip);
    void attachFailed(quint64 ticket, const QString& message);
    void decoded(quint64 ticket, const QByteArray& pcm16, const QString& error);

private:
    template <typename Result>
    void run(std::function<Result()> job, std::function<void(const Result&)> deliver);
    void deliverAttach(quint64 ticket, const AudioAttachResult& r);

    QString root_;
    std::unique_ptr<QTemporaryDir> temp_;
    QThreadPool pool_;
    quint64 nextTicket_ = 1;
};

}  // namespace gd::ui
