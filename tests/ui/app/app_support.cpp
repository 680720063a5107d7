#include "app_support.h"

#include <QApplication>
#include <QDir>
#include <QWidget>
#include <QtTest>
#include "engine/engine_controller.h"
#include "history/chat_store.h"
#include "settings/app_settings.h"
#include "testmodel/test_model.h"
#include "window/app_style.h"
#include "window/main_window.h"

namespace gd::uitest {

QString scratchDir(const QString& name) {
    const QString root = qEnvironmentVariable("GD_UI_TMP", QStringLiteral(GD_UI_TMP));
    QDir dir(QDir(root).filePath(QStringLiteral("%1-%2").arg(name).arg(QCoreApplication::applicationPid())));
    dir.removeRecursively();
    QDir().mkpath(dir.path());
    return dir.path();
}

QString tinyModel(const QString& variant) {
    static QMap<QString, QString> made;
    if (made.contains(variant)) return made[variant];
    const QString dir = scratchDir(QStringLiteral("models-") + variant);
    gd::TestModelOptions o;
    o.variant = *gd::variant_from_name(variant.toStdString());
    o.out = QDir(dir).filePath(variant + QStringLiteral(".gguf")).toStdString();
    gd::write_test_model(o);
    made[variant] = QString::fromStdString(o.out);
    return made[variant];
}

QString screenshot(QWidget* w, const QString& name) {
    QString dir = qEnvironmentVariable("GD_SCREENSHOT_DIR");
    if (dir.isEmpty()) dir = QDir(qEnvironmentVariable("GD_UI_TMP", QStringLiteral(GD_UI_TMP))).filePath(QStringLiteral("screenshots"));
    QDir().mkpath(dir);
    const QString path = QDir(dir).filePath(name + QStringLiteral(".png"));
    QCoreApplication::processEvents();
    w->grab().save(path);
    return path;
}

App::App(const QString& dir) : dataDir(dir) {
    gd::ui::applyAppStyle(*qApp);
    QString error;
    store = gd::ui::ChatStore::open(QDir(dir).filePath(QStringLiteral("history.sqlite")), &error);
    if (!store) qFatal("history: %s", qPrintable(error));
    settings = std::make_unique<gd::ui::AppSettings>(QDir(dir).filePath(QStringLiteral("settings.ini")));
    engine = std::make_unique<gd::ui::EngineController>();
    window = std::make_unique<gd::ui::MainWindow>(*store, *settings, *engine);
    window->resize(1100, 720);
    window->show();
}

App::~App() {
    window.reset();
    engine.reset();  // joins the worker thread
    settings.reset();
    store.reset();
}

EventLoopProbe::EventLoopProbe() {
    timer_.setInterval(5);
    timer_.setTimerType(Qt::PreciseTimer);
    connect(&timer_, &QTimer::timeout, this, [this] {
        const qint64 now = clock_.elapsed();
        maxGap_ = std::max(maxGap_, now - last_);
        last_ = now;
    });
}

void EventLoopProbe::start() {
    maxGap_ = 0;
    clock_.start();
    last_ = 0;
    timer_.start();
}

void EventLoopProbe::stop() { timer_.stop(); }

}  // namespace gd::uitest
