#include "chat/audio_level_meter.h"

#include <QPainter>
#include <QTimer>
#include <algorithm>
#include <cmath>

namespace gd::ui {

AudioLevelMeter::AudioLevelMeter(QWidget* parent) : QWidget(parent) {
    setObjectName(QStringLiteral("audioLevelMeter"));
    setAccessibleName(tr("Microphone level"));
    setMinimumSize(80, 8);
    setSizePolicy(QSizePolicy::Expanding, QSizePolicy::Fixed);
    decay_ = new QTimer(this);
    decay_->setInterval(50);
    connect(decay_, &QTimer::timeout, this, [this] {
        shown_ = std::max(0.0f, shown_ - 0.04f);
        if (shown_ == 0) decay_->stop();
        update();
    });
}

void AudioLevelMeter::setLevel(float peak) {
    const float db = peak > 0 ? 20.0f * std::log10(peak) : -100.0f;
    const float fraction = std::clamp((db + 60.0f) / 60.0f, 0.0f, 1.0f);
    if (fraction >= shown_) shown_ = fraction;
    if (!decay_->isActive()) decay_->start();
    update();
}

void AudioLevelMeter::reset() {
    shown_ = 0;
    decay_->stop();
    update();
}

void AudioLevelMeter::paintEvent(QPaintEvent*) {
    QPainter p(this);
    p.setRenderHint(QPainter::Antialiasing);
    const QRectF r = QRectF(rect()).adjusted(0.5, 0.5, -0.5, -0.5);
    p.setPen(QColor(0xd0, 0xd7, 0xde));
    p.setBrush(QColor(0xf6, 0xf8, 0xfa));
    p.drawRoundedRect(r, 3, 3);
    if (shown_ <= 0) return;
    QRectF bar = r.adjusted(1, 1, -1, -1);
    bar.setWidth(bar.width() * shown_);
    p.setPen(Qt::NoPen);
    p.setBrush(shown_ > 0.9f ? QColor(0xe0, 0x9b, 0x1a) : QColor(0x2d, 0xa4, 0x4e));
    p.drawRoundedRect(bar, 2, 2);
}

}  // namespace gd::ui
