#pragma once
// Records the microphone with QAudioSource (which talks to PulseAudio/PipeWire directly in Qt 6.4,
// whatever media backend is active). It asks for 16 kHz mono 16-bit, what the model hears; a device
// that offers only something else is recorded in its preferred format and mixed down to mono here,
// at its own rate: the stored WAV keeps that rate and the engine's decoder (FFmpeg's resampler)
// brings it to 16 kHz exactly as it does for any file.
//
// A recording ends in one of four ways, all on the UI thread:
//   stop()               finished(samples, rate, "") kTailMs later
//   the time limit       finished(samples, rate, notice)   (10 minutes, the decoder's limit)
//   the device vanished  finished(samples, rate, notice)   (unplugged, the sound server went away:
//                        what was recorded so far is kept)
//   cancel()             nothing (the samples are dropped)
// A device that can't be opened at all gives failed(message).
#include <QAudioDevice>
#include <QAudioFormat>
#include <QElapsedTimer>
#include <QObject>
#include <QPointer>
#include <vector>

class QAudioSource;
class QIODevice;
class QMediaDevices;
class QTimer;

namespace gd::ui {

class AudioRecorder : public QObject {
    Q_OBJECT
public:
    static constexpr double kDefaultLimitSeconds = 600;
    // stop() keeps listening this long: the sound server delivers in chunks, and a push-to-talk
    // release must not cut off the last syllable.
    static constexpr int kTailMs = 150;

    explicit AudioRecorder(QObject* parent = nullptr);
    ~AudioRecorder() override;

    // Starts recording from `device`; false (and failed() emitted) when it can't.
    bool start(const QAudioDevice& device);
    void stop();
    void cancel();
    bool isRecording() const { return source_ != nullptr && !stopping_; }
    bool isBusy() const { return source_ != nullptr; }  // recording, or collecting the tail after stop()

    double elapsedSeconds() const;             // of sound captured so far
    float peak() const { return peak_; }       // loudest sample of the whole recording, 0..1
    float level() const { return level_; }     // loudest sample of the last chunk, 0..1
    QAudioFormat format() const { return format_; }
    QAudioDevice device() const { return device_; }
    // The longest recording; stops with a notice there. Tests shorten it.
    void setLimitSeconds(double seconds) { limitSeconds_ = seconds; }
    double limitSeconds() const { return limitSeconds_; }

signals:
    void started();
    void levelChanged(float level);
    void finished(const std::vector<float>& samples, int rate, const QString& notice);
    void failed(const QString& message);

private:
    void readAvailable();
    void onStateChanged();
    void onDevicesChanged();
    void finish(const QString& notice);
    void teardown();

    QAudioSource* source_ = nullptr;
    QPointer<QIODevice> io_;
    QMediaDevices* devices_ = nullptr;
    QTimer* devicePoll_ = nullptr;
    QAudioDevice device_;
    QAudioFormat format_;
    std::vector<float> samples_;               // mono at format_.sampleRate()
    float peak_ = 0, level_ = 0;
    double limitSeconds_ = kDefaultLimitSeconds;
    bool finishing_ = false;
    bool stopping_ = false;                    // stop() was called; the tail is being collected
};

}  // namespace gd::ui

Q_DECLARE_METATYPE(std::vector<float>)
