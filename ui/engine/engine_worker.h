#pragma once
// The object that owns the engine. It lives on its own thread (EngineController moves it there), so
// loading and generating never run on the UI thread; results come back as queued signals.
// Cancelling a load and stopping an answer are atomic flags, safe to set from any thread.
#include <QObject>
#include <QElapsedTimer>
#include <atomic>
#include <mutex>
#include <memory>
#include "engine/engine_types.h"
#include "engine/turn_audio.h"
#include "engine/turn_images.h"

namespace gd {
class Model;
class ChatSession;
}

namespace gd::ui {

class EngineWorker : public QObject {
    Q_OBJECT
public:
    EngineWorker();
    ~EngineWorker() override;

    void requestCancelLoad() { cancelLoad_.store(true); }
    void clearCancelLoad() { cancelLoad_.store(false); }  // before queuing a load
    void requestStop();        // stops the running answer within one token

public slots:
    void load(const gd::ui::LoadRequest& request);
    void unload();
    void generate(const gd::ui::GenerateRequest& request);

signals:
    void loadProgress(double fraction, const QString& stage);
    void loaded(const gd::ui::ModelInfo& info);
    void loadFailed(const QString& message, bool cancelled);
    void unloaded();
    // New text of the answer and of the thinking channel since the last delta (coalesced so that a
    // fast model does not flood the UI thread: at most one delta per ~30 ms).
    void delta(quint64 id, const QString& answer, const QString& thinking);
    // What the answer waits for before its first token, when that takes a while ("reading image 1
    // of 2…"): shown as the answer's status.
    void progress(quint64 id, const QString& stage);
    void finished(quint64 id, const gd::ui::GenerationSummary& summary);
    void failed(quint64 id, const QString& message);

private:
    void prepareConversation(const GenerateRequest& request);

    std::shared_ptr<gd::Model> model_;
    std::unique_ptr<gd::ChatSession> chat_;
    std::atomic<bool> cancelLoad_{false};
    std::atomic<bool> stop_{false};
    std::mutex runningMutex_;               // guards running_ against the chat session's destruction
    gd::ChatSession* running_ = nullptr;    // the session generating now, for requestStop()
    // What chat_ holds, so a request that extends it only appends its new turns (and the engine
    // prefills only those); anything else rebuilds the conversation and reuses the cached prefix.
    QString sessionSystem_;
    bool sessionThinking_ = false;
    QList<ChatTurn> sessionTurns_;
    TurnImages images_;                     // soft tokens of sessionTurns_' images
    TurnAudio audio_;                       // and of their sounds
};

}  // namespace gd::ui
