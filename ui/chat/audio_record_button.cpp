#include "chat/audio_record_button.h"

#include <QHBoxLayout>
#include <QLabel>
#include <QTimer>
#include <QToolButton>
#include "audio/audio_recorder.h"
#include "audio/stored_audio.h"
#include "chat/audio_icons.h"
#include "chat/audio_level_meter.h"

namespace gd::ui {

namespace {
QString idleToolTip() {
    return QObject::tr("Record a voice message: hold to talk, or click to start and click again to stop "
                       "(in the message box: hold Ctrl+Space, or Ctrl+Shift+Space to start and stop)");
}
}  // namespace

AudioRecordButton::AudioRecordButton(QWidget* parent) : QWidget(parent) {
    setObjectName(QStringLiteral("voiceRecorder"));
    auto* row = new QHBoxLayout(this);
    row->setContentsMargins(0, 0, 0, 0);
    row->setSpacing(6);

    panel_ = new QWidget(this);
    panel_->setObjectName(QStringLiteral("recordingPanel"));
    auto* pl = new QHBoxLayout(panel_);
    pl->setContentsMargins(0, 0, 0, 0);
    pl->setSpacing(6);
    auto* dot = new QLabel(QStringLiteral("●"), panel_);
    dot->setObjectName(QStringLiteral("recordingDot"));
    dot->setStyleSheet(QStringLiteral("color: #d1242f;"));
    meter_ = new AudioLevelMeter(panel_);
    meter_->setFixedWidth(110);
    elapsed_ = new QLabel(panel_);
    elapsed_->setObjectName(QStringLiteral("recordingTime"));
    elapsed_->setAccessibleName(tr("Recording time"));
    cancel_ = new QToolButton(panel_);
    cancel_->setObjectName(QStringLiteral("cancelRecordingButton"));
    cancel_->setText(tr("Discard"));
    cancel_->setAccessibleName(tr("Discard the recording"));
    cancel_->setToolTip(tr("Discard the recording (Esc)"));
    cancel_->setAutoRaise(true);
    pl->addWidget(dot);
    pl->addWidget(meter_);
    pl->addWidget(elapsed_);
    pl->addWidget(cancel_);
    panel_->hide();
    row->addWidget(panel_);

    mic_ = new QToolButton(this);
    mic_->setObjectName(QStringLiteral("micButton"));
    mic_->setAccessibleName(tr("Record a voice message"));
    mic_->setToolTip(idleToolTip());
    mic_->setIcon(microphoneIcon(palette().color(QPalette::WindowText)));
    mic_->setIconSize(QSize(20, 20));
    mic_->setAutoRaise(true);
    mic_->setCheckable(false);
    row->addWidget(mic_);

    recorder_ = new AudioRecorder(this);
    tick_ = new QTimer(this);
    tick_->setInterval(100);

    connect(mic_, &QToolButton::pressed, this, &AudioRecordButton::pressBegin);
    connect(mic_, &QToolButton::released, this, &AudioRecordButton::pressEnd);
    connect(cancel_, &QToolButton::clicked, this, &AudioRecordButton::cancel);
    connect(tick_, &QTimer::timeout, this, &AudioRecordButton::updateElapsed);
    connect(recorder_, &AudioRecorder::levelChanged, meter_, &AudioLevelMeter::setLevel);
    connect(recorder_, &AudioRecorder::finished, this,
            [this](const std::vector<float>& samples, int rate, const QString& notice) {
                showRecording(false);
                emit recorded(samples, rate, notice);
            });
    connect(recorder_, &AudioRecorder::failed, this, [this](const QString& message) {
        showRecording(false);
        emit failed(message);
    });
    setUnavailable(tr("No microphone was found."));
}

void AudioRecordButton::setDevice(const QAudioDevice& device) { device_ = device; }

void AudioRecordButton::setUnavailable(const QString& reason) {
    reason_ = reason;
    // A recording under way goes on (its device may still be there): only new ones are refused.
    mic_->setEnabled(reason.isEmpty() || isRecording());
    mic_->setToolTip(reason.isEmpty() ? idleToolTip() : reason);
    mic_->setAccessibleDescription(reason);
}

bool AudioRecordButton::isRecording() const { return recorder_->isRecording(); }

bool AudioRecordButton::start() {
    if (!isAvailable() || isRecording()) return false;
    if (!recorder_->start(device_)) return false;
    showRecording(true);
    return true;
}

void AudioRecordButton::pressBegin() {
    pressed_.start();
    startedByThisPress_ = false;
    if (isRecording()) {
        stop();  // the second click of click-to-toggle
        return;
    }
    startedByThisPress_ = start();
}

void AudioRecordButton::pressEnd() {
    if (!startedByThisPress_) return;
    startedByThisPress_ = false;
    if (pressed_.isValid() && pressed_.elapsed() >= kHoldMs) stop();  // push-to-talk released
}

void AudioRecordButton::toggle() {
    if (isRecording()) stop();
    else start();
}

void AudioRecordButton::stop() { recorder_->stop(); }

void AudioRecordButton::cancel() {
    if (!isRecording()) return;
    recorder_->cancel();
    showRecording(false);
    emit discarded();
}

QString AudioRecordButton::elapsedText() const {
    return tr("%1 / %2").arg(formatDuration(recorder_->elapsedSeconds()), formatDuration(recorder_->limitSeconds()));
}

void AudioRecordButton::updateElapsed() { elapsed_->setText(elapsedText()); }

void AudioRecordButton::showRecording(bool on) {
    panel_->setVisible(on);
    mic_->setIcon(on ? stopIcon(QColor(0xd1, 0x24, 0x2f)) : microphoneIcon(palette().color(QPalette::WindowText)));
    mic_->setAccessibleName(on ? tr("Stop recording") : tr("Record a voice message"));
    if (on) {
        mic_->setToolTip(tr("Stop recording (release, or click)"));
        meter_->reset();
        updateElapsed();
        tick_->start();
    } else {
        tick_->stop();
        meter_->reset();
        setUnavailable(reason_);  // the tooltip and state for the next one
    }
    emit recordingChanged(on);
}

}  // namespace gd::ui
