#pragma once
// A horizontal level meter for the microphone: the loudest sample of the latest chunk on a decibel
// scale (-60 dBFS empty, 0 dBFS full), falling back smoothly, so speech visibly moves it and silence
// leaves it empty. Green, then amber near clipping.
#include <QWidget>

class QTimer;

namespace gd::ui {

class AudioLevelMeter : public QWidget {
    Q_OBJECT
public:
    explicit AudioLevelMeter(QWidget* parent = nullptr);

    void setLevel(float peak);        // 0..1 linear
    void reset();
    float shownFraction() const { return shown_; }  // 0..1 of the bar, after the dB scale
    QSize sizeHint() const override { return {120, 10}; }

protected:
    void paintEvent(QPaintEvent* event) override;

private:
    float shown_ = 0;
    QTimer* decay_ = nullptr;
};

}  // namespace gd::ui
