#pragma once
// The composer's voice control: a microphone button and, while recording, a level meter, the
// elapsed time and a Discard button.
//
// Push-to-talk: pressing the button (or Ctrl+Space in the message box) starts recording; releasing
// it after a hold stops it. A short press is a click instead: recording goes on until the next
// press (so a user who taps the button is not cut off after half a second). Esc discards.
//
// When the microphone can't be used (no device, the model has no audio input, no model) the button
// is disabled and its tooltip says why; setUnavailable() takes that reason.
#include <QAudioDevice>
#include <QElapsedTimer>
#include <QWidget>
#include <vector>

class QLabel;
class QTimer;
class QToolButton;

namespace gd::ui {

class AudioLevelMeter;
class AudioRecorder;

class AudioRecordButton : public QWidget {
    Q_OBJECT
public:
    static constexpr int kHoldMs = 350;  // a press longer than this is push-to-talk

    explicit AudioRecordButton(QWidget* parent = nullptr);

    void setDevice(const QAudioDevice& device);
    QAudioDevice device() const { return device_; }
    void setUnavailable(const QString& reason);   // "" = available
    QString unavailableReason() const { return reason_; }
    bool isAvailable() const { return reason_.isEmpty(); }

    bool isRecording() const;
    void pressBegin();   // mouse or key down
    void pressEnd();     // mouse or key up
    void toggle();       // start, or stop what records
    void stop();         // keep what was recorded
    void cancel();       // discard it

    QToolButton* micButton() const { return mic_; }
    AudioRecorder* recorder() const { return recorder_; }
    AudioLevelMeter* meter() const { return meter_; }
    QString elapsedText() const;

signals:
    void recorded(const std::vector<float>& samples, int rate, const QString& notice);
    void failed(const QString& message);
    void recordingChanged(bool recording);
    void discarded();   // cancel(): nothing will be recorded

private:
    bool start();
    void showRecording(bool on);
    void updateElapsed();

    QAudioDevice device_;
    QString reason_;
    AudioRecorder* recorder_ = nullptr;
    QToolButton* mic_ = nullptr;
    QWidget* panel_ = nullptr;
    AudioLevelMeter* meter_ = nullptr;
    QLabel* elapsed_ = nullptr;
    QToolButton* cancel_ = nullptr;
    QTimer* tick_ = nullptr;
    QElapsedTimer pressed_;
    bool startedByThisPress_ = false;
};

}  // namespace gd::ui
