#include "audio/audio_player.h"

#include <QAudioFormat>
#include <QAudioSink>
#include <QBuffer>
#include <QMediaDevices>
#include "audio/audio_library.h"

namespace gd::ui {

AudioPlayer::AudioPlayer(AudioLibrary& library, QObject* parent) : QObject(parent), library_(library) {
    connect(&library_, &AudioLibrary::decoded, this, &AudioPlayer::onDecoded);
}

AudioPlayer::~AudioPlayer() { release(); }

void AudioPlayer::toggle(const QString& file) {
    if (isPlaying(file)) stop();
    else play(file);
}

void AudioPlayer::play(const QString& file) {
    stop();
    current_ = file;
    ticket_ = library_.decodeForPlayback(file);
    emit playingChanged(file, true);  // the button turns into Stop at once, while decoding
}

void AudioPlayer::stop() {
    const QString was = current_;
    ticket_ = 0;  // a decode still running is ignored when it arrives
    current_.clear();
    release();
    if (!was.isEmpty()) emit playingChanged(was, false);
}

void AudioPlayer::onDecoded(quint64 ticket, const QByteArray& pcm16, const QString& error) {
    if (ticket != ticket_ || current_.isEmpty()) return;
    const QString file = current_;
    if (!error.isEmpty()) {
        stop();
        emit failed(tr("Could not play the recording: %1").arg(error));
        return;
    }
    const QAudioDevice output = QMediaDevices::defaultAudioOutput();
    if (output.isNull()) {
        stop();
        emit failed(tr("There is no speaker or headphones to play the recording on."));
        return;
    }
    QAudioFormat format;
    format.setSampleRate(16000);
    format.setChannelCount(1);
    format.setSampleFormat(QAudioFormat::Int16);
    buffer_ = new QBuffer(this);
    buffer_->setData(pcm16);
    buffer_->open(QIODevice::ReadOnly);
    sink_ = new QAudioSink(output, format, this);
    connect(sink_, &QAudioSink::stateChanged, this, [this, file](QAudio::State state) {
        if (!sink_ || file != current_) return;
        // Idle: everything was played. Stopped with an error: the device went away.
        if (state == QAudio::IdleState || (state == QAudio::StoppedState && sink_->error() != QAudio::NoError)) stop();
    });
    sink_->start(buffer_);
    if (sink_->error() != QAudio::NoError) {
        stop();
        emit failed(tr("Could not play the recording on %1.").arg(output.description()));
    }
}

void AudioPlayer::release() {
    if (sink_) {
        sink_->disconnect(this);
        sink_->stop();
        sink_->deleteLater();
        sink_ = nullptr;
    }
    if (buffer_) {
        buffer_->deleteLater();  // after the sink, which reads it
        buffer_ = nullptr;
    }
}

}  // namespace gd::ui
