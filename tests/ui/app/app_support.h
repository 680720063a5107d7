#pragma once
// Shared by the app's QtTest files: scratch folders, a tiny real model, the whole app assembled on
// a data folder (the real engine, a real SQLite file, real settings), an event-loop probe that
// measures how long the UI thread was ever busy, and screenshots.
#include <QElapsedTimer>
#include <QObject>
#include <QString>
#include <QTimer>
#include <memory>

class QWidget;

namespace gd::ui {
class AppSettings;
class ChatStore;
class EngineController;
class MainWindow;
}  // namespace gd::ui

namespace gd::uitest {

QString scratchDir(const QString& name);     // fresh, under GD_UI_TMP
// A tiny random Gemma 4 model (GGUF + mmproj), written once per test process; returns the .gguf.
QString tinyModel(const QString& variant = QStringLiteral("e2b"));
// Saves a screenshot of `w` as NAME.png under $GD_SCREENSHOT_DIR (docs/screenshots when set by the
// maintainer) or the test's scratch folder; returns the path.
QString screenshot(QWidget* w, const QString& name);

struct App {
    explicit App(const QString& dataDir);
    ~App();
    QString dataDir;
    std::unique_ptr<gd::ui::ChatStore> store;
    std::unique_ptr<gd::ui::AppSettings> settings;
    std::unique_ptr<gd::ui::EngineController> engine;
    std::unique_ptr<gd::ui::MainWindow> window;
};

// Ticks every few milliseconds on the UI thread and records the longest gap between ticks: how long
// the event loop was blocked at worst while it ran.
class EventLoopProbe : public QObject {
public:
    EventLoopProbe();
    void start();
    void stop();
    qint64 maxGapMs() const { return maxGap_; }

private:
    QTimer timer_;
    QElapsedTimer clock_;
    qint64 last_ = 0, maxGap_ = 0;
};

}  // namespace gd::uitest
