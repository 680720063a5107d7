#include "audio/audio_recorder.h"

#include <QAudioSource>
#include <QMediaDevices>
#include <QTimer>
#include <algorithm>
#include <cmath>
#include <cstring>

namespace gd::ui {

namespace {

// One sample of the interleaved frame data as a float in [-1, 1].
float sampleAt(const char* p, QAudioFormat::SampleFormat f) {
    switch (f) {
    case QAudioFormat::UInt8: return (float(quint8(*p)) - 128.0f) / 128.0f;
    case QAudioFormat::Int16: { qint16 v; std::memcpy(&v, p, 2); return float(v) / 32768.0f; }
    case QAudioFormat::Int32: { qint32 v; std::memcpy(&v, p, 4); return float(double(v) / 2147483648.0); }
    case QAudioFormat::Float: { float v; std::memcpy(&v, p, 4); return std::isfinite(v) ? v : 0.0f; }
    default: return 0.0f;
    }
}

QString deviceGoneNotice(const QString& name) {
    return QObject::tr("The microphone “%1” stopped working (was it unplugged?). The recording up to that "
                       "moment is attached.").arg(name);
}

}  // namespace

AudioRecorder::AudioRecorder(QObject* parent) : QObject(parent) {
    qRegisterMetaType<std::vector<float>>();
}

AudioRecorder::~AudioRecorder() { teardown(); }

bool AudioRecorder::start(const QAudioDevice& device) {
    if (source_) return false;  // (still collecting the tail of the last one)
    if (device.isNull()) {
        emit failed(tr("No microphone was found."));
        return false;
    }
    QAudioFormat wanted;
    wanted.setSampleRate(16000);
    wanted.setChannelCount(1);
    wanted.setSampleFormat(QAudioFormat::Int16);
    format_ = device.isFormatSupported(wanted) ? wanted : device.preferredFormat();
    if (format_.sampleRate() <= 0 || format_.channelCount() <= 0 || format_.bytesPerSample() <= 0) {
        emit failed(tr("The microphone “%1” offers no sound format the app can record.").arg(device.description()));
        return false;
    }
    device_ = device;
    samples_.clear();
    samples_.reserve(size_t(format_.sampleRate()) * 30);
    peak_ = level_ = 0;
    finishing_ = false;
    stopping_ = false;
    source_ = new QAudioSource(device, format_, this);
    // A fifth of a second of buffer: Qt 6.4's PulseAudio source delivered nothing at all with a
    // tenth (measured); this still gives the level meter several updates a second.
    source_->setBufferSize(format_.bytesForDuration(200000));
    connect(source_, &QAudioSource::stateChanged, this, &AudioRecorder::onStateChanged);
    io_ = source_->start();
    if (!io_ || source_->error() != QAudio::NoError) {
        teardown();
        emit failed(tr("The microphone “%1” could not be opened.").arg(device.description()));
        return false;
    }
    connect(io_, &QIODevice::readyRead, this, &AudioRecorder::readAvailable);
    // An unplugged microphone: the sound server may move the stream to another source instead of
    // failing it, so the list of inputs is watched too.
    devices_ = new QMediaDevices(this);
    connect(devices_, &QMediaDevices::audioInputsChanged, this, &AudioRecorder::onDevicesChanged);
    // Qt 6.4 with PulseAudio does not always emit audioInputsChanged when a source is removed (its
    // list is updated all the same; measured with the test's fake microphone): it is also polled.
    devicePoll_ = new QTimer(this);
    devicePoll_->setInterval(500);
    connect(devicePoll_, &QTimer::timeout, this, &AudioRecorder::onDevicesChanged);
    devicePoll_->start();
    emit started();
    return true;
}

double AudioRecorder::elapsedSeconds() const {
    return format_.sampleRate() > 0 ? double(samples_.size()) / format_.sampleRate() : 0.0;
}

void AudioRecorder::readAvailable() {
    if (!io_ || finishing_) return;
    const QByteArray bytes = io_->readAll();
    const int channels = format_.channelCount();
    const int width = format_.bytesPerSample();
    const qsizetype frames = bytes.size() / (qsizetype(channels) * width);
    float chunkPeak = 0;
    const char* p = bytes.constData();
    for (qsizetype i = 0; i < frames; ++i) {
        float sum = 0;
        for (int c = 0; c < channels; ++c, p += width) sum += sampleAt(p, format_.sampleFormat());
        const float mono = sum / float(channels);
        chunkPeak = std::max(chunkPeak, std::fabs(mono));
        samples_.push_back(mono);
    }
    level_ = std::min(1.0f, chunkPeak);
    peak_ = std::max(peak_, level_);
    emit levelChanged(level_);
    if (elapsedSeconds() >= limitSeconds_) {
        samples_.resize(size_t(limitSeconds_ * format_.sampleRate()));
        finish(tr("Recording stopped at the %1-minute limit; it is attached. Record again to add more.")
                   .arg(limitSeconds_ / 60.0, 0, 'g', 3));
    }
}

void AudioRecorder::onStateChanged() {
    if (!source_ || finishing_) return;
    // A stream the server killed (device gone, server gone) stops with an error.
    if (source_->state() == QAudio::StoppedState && source_->error() != QAudio::NoError)
        finish(deviceGoneNotice(device_.description()));
}

void AudioRecorder::onDevicesChanged() {
    if (!source_ || finishing_) return;
    for (const QAudioDevice& d : QMediaDevices::audioInputs())
        if (d.id() == device_.id()) return;
    finish(deviceGoneNotice(device_.description()));
}

void AudioRecorder::stop() {
    if (!source_ || finishing_ || stopping_) return;
    stopping_ = true;
    QTimer::singleShot(kTailMs, this, [this] {
        if (!source_ || finishing_) return;  // cancelled, or the device went away meanwhile
        readAvailable();  // what the device has delivered up to now
        if (!finishing_) finish({});
    });
}

void AudioRecorder::cancel() {
    if (!source_) return;
    teardown();
    samples_.clear();
    samples_.shrink_to_fit();
}

void AudioRecorder::finish(const QString& notice) {
    finishing_ = true;
    std::vector<float> samples = std::move(samples_);
    samples_ = {};
    const int rate = format_.sampleRate();
    teardown();  // (the source itself is deleted later: this may run inside its own signal)
    emit finished(samples, rate, notice);
}

void AudioRecorder::teardown() {
    if (devicePoll_) {
        devicePoll_->stop();
        devicePoll_->deleteLater();
        devicePoll_ = nullptr;
    }
    if (devices_) {
        devices_->disconnect(this);
        devices_->deleteLater();
        devices_ = nullptr;
    }
    if (!source_) return;
    if (io_) io_->disconnect(this);
    source_->disconnect(this);
    source_->stop();
    source_->deleteLater();
    source_ = nullptr;
    io_ = nullptr;
    finishing_ = false;
    stopping_ = false;
}

}  // namespace gd::ui
