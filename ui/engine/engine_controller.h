#pragma once
// The UI thread's handle on the engine: owns the worker thread and the EngineWorker on it, forwards
// requests to it as queued calls, and re-emits its signals (already on the UI thread). Tracks the
// state the views need (loaded model, busy) so widgets never ask the worker anything synchronously.
#include <QObject>
#include <QThread>
#include <optional>
#include "engine/engine_types.h"

namespace gd::ui {

class EngineWorker;

class EngineController : public QObject {
    Q_OBJECT
public:
    explicit EngineController(QObject* parent = nullptr);
    ~EngineController() override;  // stops what runs and joins the thread

    void load(const LoadRequest& request);
    void cancelLoad();
    void unload();
    // Returns the request id echoed by delta/finished/failed.
    quint64 generate(GenerateRequest request);
    void stop();

    bool isLoading() const { return loading_; }
    bool isGenerating() const { return generating_; }
    const std::optional<ModelInfo>& model() const { return model_; }
    const LoadRequest& lastLoadRequest() const { return lastLoad_; }
    QThread* workerThread() { return &thread_; }  // where the engine runs (tests hold it busy)

signals:
    void loadStarted(const QStringList& paths);
    void loadProgress(double fraction, const QString& stage);
    void loaded(const gd::ui::ModelInfo& info);
    void loadFailed(const QString& message, bool cancelled);
    void delta(quint64 id, const QString& answer, const QString& thinking);
    void progress(quint64 id, const QString& stage);
    void finished(quint64 id, const gd::ui::GenerationSummary& summary);
    void failed(quint64 id, const QString& message);
    void busyChanged();

private:
    QThread thread_;
    EngineWorker* worker_ = nullptr;  // lives on thread_, deleted when it finishes
    std::optional<ModelInfo> model_;
    LoadRequest lastLoad_;
    bool loading_ = false, generating_ = false;
    quint64 nextId_ = 1;
};

}  // namespace gd::ui
