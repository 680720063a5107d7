#pragma once
// Plays stored clips, one at a time, through QAudioSink. The clip is decoded with the engine's own
// decoder (AudioLibrary, on its pool) to 16 kHz mono 16-bit and handed to the sink from memory.
// Why not QMediaPlayer: in Qt 6.4 its default backend (GStreamer) plays nothing without the
// gst plugins packages, and its FFmpeg backend must be chosen by an environment variable before
// the app starts; the sink needs neither, plays exactly what the model hears (every format the
// decoder reads, nothing else), and works wherever the microphone works (both talk to PulseAudio).
#include <QObject>
#include <QString>

class QAudioSink;
class QBuffer;

namespace gd::ui {

class AudioLibrary;

class AudioPlayer : public QObject {
    Q_OBJECT
public:
    AudioPlayer(AudioLibrary& library, QObject* parent = nullptr);
    ~AudioPlayer() override;

    void play(const QString& file);    // stops what plays
    void stop();
    void toggle(const QString& file);  // the play/stop button
    QString current() const { return current_; }   // the clip loading or playing ("" = none)
    bool isPlaying(const QString& file) const { return !file.isEmpty() && file == current_; }

signals:
    // `file` started (true) or stopped (false): every play button of that clip follows it.
    void playingChanged(const QString& file, bool playing);
    void failed(const QString& message);

private:
    void onDecoded(quint64 ticket, const QByteArray& pcm16, const QString& error);
    void release();

    AudioLibrary& library_;
    QString current_;
    quint64 ticket_ = 0;
    QAudioSink* sink_ = nullptr;
    QBuffer* buffer_ = nullptr;
};

}  // namespace gd::ui
