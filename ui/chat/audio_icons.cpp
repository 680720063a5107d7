#include "chat/audio_icons.h"

#include <QPainter>
#include <QPainterPath>
#include <QPixmap>

namespace gd::ui {

namespace {
template <typename Draw>
QIcon drawn(Draw draw) {
    QPixmap pm(40, 40);
    pm.fill(Qt::transparent);
    QPainter p(&pm);
    p.setRenderHint(QPainter::Antialiasing);
    draw(p);
    return QIcon(pm);
}
}  // namespace

QIcon microphoneIcon(const QColor& color) {
    return drawn([&](QPainter& p) {
        p.setPen(Qt::NoPen);
        p.setBrush(color);
        p.drawRoundedRect(QRectF(14, 4, 12, 20), 6, 6);
        p.setBrush(Qt::NoBrush);
        p.setPen(QPen(color, 3, Qt::SolidLine, Qt::RoundCap));
        p.drawArc(QRectF(9, 10, 22, 20), 180 * 16, 180 * 16);
        p.drawLine(QPointF(20, 30), QPointF(20, 36));
        p.drawLine(QPointF(14, 36), QPointF(26, 36));
    });
}

QIcon playIcon(const QColor& color) {
    return drawn([&](QPainter& p) {
        QPainterPath triangle;
        triangle.moveTo(12, 7);
        triangle.lineTo(33, 20);
        triangle.lineTo(12, 33);
        triangle.closeSubpath();
        p.fillPath(triangle, color);
    });
}

QIcon stopIcon(const QColor& color) {
    return drawn([&](QPainter& p) { p.fillRect(QRectF(11, 11, 18, 18), color); });
}

QIcon speakerIcon(const QColor& color) {
    return drawn([&](QPainter& p) {
        QPainterPath body;
        body.moveTo(6, 15);
        body.lineTo(13, 15);
        body.lineTo(22, 7);
        body.lineTo(22, 33);
        body.lineTo(13, 25);
        body.lineTo(6, 25);
        body.closeSubpath();
        p.fillPath(body, color);
        p.setPen(QPen(color, 3, Qt::SolidLine, Qt::RoundCap));
        p.drawArc(QRectF(18, 12, 12, 16), -60 * 16, 120 * 16);
        p.drawArc(QRectF(16, 6, 20, 28), -60 * 16, 120 * 16);
    });
}

}  // namespace gd::ui
