// gemmadesk: the desktop app. Opens the history database and settings, starts the engine's worker
// thread and shows the main window.
//
//   gemmadesk [--data-dir DIR] [--model PATH]... [--send TEXT] [--exit-when-done]
//
// --data-dir keeps history and settings in DIR (portable use, tests); --model loads a model at start
// (an HF folder, or a GGUF and optionally its mmproj); --send sends TEXT once the model is loaded;
// --exit-when-done prints that answer on stdout and quits.
#include <QApplication>
#include <QCommandLineParser>
#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QIcon>
#include <QStandardPaths>
#include <QTextStream>
#include <cstdio>
#include "engine/engine_controller.h"
#include "history/chat_store.h"
#include "settings/app_settings.h"
#include "window/app_style.h"
#include "window/main_window.h"

using namespace gd::ui;

int main(int argc, char** argv) {
    QApplication app(argc, argv);
    QApplication::setApplicationName(QStringLiteral("GemmaDesk"));
    QApplication::setApplicationDisplayName(QStringLiteral("Gemma Desk"));
    QApplication::setApplicationVersion(QStringLiteral(GEMMADESK_VERSION));
    QApplication::setDesktopFileName(QStringLiteral("gemmadesk"));

    QCommandLineParser parser;
    parser.setApplicationDescription(QStringLiteral("Gemma Desk: an offline assistant for Gemma 4 models."));
    parser.addHelpOption();
    parser.addVersionOption();
    QCommandLineOption dataDir(QStringLiteral("data-dir"), QStringLiteral("Keep history and settings in DIR."), QStringLiteral("DIR"));
    QCommandLineOption model(QStringLiteral("model"), QStringLiteral("Load this model at start (repeat for an mmproj)."), QStringLiteral("PATH"));
    QCommandLineOption send(QStringLiteral("send"), QStringLiteral("Send TEXT once the model is loaded."), QStringLiteral("TEXT"));
    QCommandLineOption exitWhenDone(QStringLiteral("exit-when-done"), QStringLiteral("Print the answer to --send and quit."));
    parser.addOptions({dataDir, model, send, exitWhenDone});
    parser.process(app);

    QString data = parser.value(dataDir);
    QString iniPath;
    if (data.isEmpty()) {
        data = QStandardPaths::writableLocation(QStandardPaths::AppDataLocation);
        iniPath = QDir(QStandardPaths::writableLocation(QStandardPaths::AppConfigLocation)).filePath(QStringLiteral("settings.ini"));
    } else {
        iniPath = QDir(data).filePath(QStringLiteral("settings.ini"));
    }
    QDir().mkpath(data);

    applyAppStyle(app);

    QString historyError;
    std::unique_ptr<ChatStore> store = ChatStore::open(QDir(data).filePath(QStringLiteral("history.sqlite")), &historyError);
    if (!store) {
        // Never overwrite a database we cannot read: run this session on an in-memory one instead.
        QString ignored;
        store = ChatStore::open(QStringLiteral(":memory:"), &ignored);
        if (!store) {
            std::fprintf(stderr, "gemmadesk: %s\n", qPrintable(historyError));
            return 1;
        }
    }
    AppSettings settings(iniPath);
    EngineController engine;
    MainWindow window(*store, settings, engine, historyError);
    window.show();

    const QStringList models = parser.values(model);
    const QString text = parser.value(send);
    if (parser.isSet(exitWhenDone)) {
        QObject::connect(&window, &MainWindow::answerFinished, &app, [&](qint64 id, const QString& reason) {
            for (const StoredMessage& m : store->messages(window.currentConversation()))
                if (m.id == id) QTextStream(stdout) << m.text << "\n[finish: " << reason << "]\n";
            app.exit(0);
        });
        QObject::connect(&window, &MainWindow::answerFailed, &app, [&](const QString& message) {
            std::fprintf(stderr, "gemmadesk: %s\n", qPrintable(message));
            app.exit(1);
        });
        QObject::connect(&engine, &EngineController::loadFailed, &app, [&](const QString& message, bool) {
            std::fprintf(stderr, "gemmadesk: %s\n", qPrintable(message));
            app.exit(1);
        });
    }
    if (!text.isEmpty())
        QObject::connect(&engine, &EngineController::loaded, &window, [&window, text] { window.sendMessage(text); },
                         Qt::SingleShotConnection);
    if (!models.isEmpty()) window.loadModel(models);
    else if (!settings.lastModelPaths().isEmpty() && QFileInfo::exists(settings.lastModelPaths().front()))
        window.loadModel(settings.lastModelPaths());
    return app.exec();
}
