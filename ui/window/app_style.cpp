#include "window/app_style.h"

#include <QApplication>
#include <QFile>
#include <QIcon>

// Resources compiled into a static library must be registered by name before use.
static void initResources() { Q_INIT_RESOURCE(resources); }

namespace gd::ui {

void applyAppStyle(QApplication& app) {
    initResources();
    QApplication::setWindowIcon(QIcon(QStringLiteral(":/icons/gemmadesk.png")));
    QFile style(QStringLiteral(":/style/gemmadesk.qss"));
    if (style.open(QIODevice::ReadOnly)) app.setStyleSheet(QString::fromUtf8(style.readAll()));
}

}  // namespace gd::ui
