#include "engine/engine_controller.h"

#include "engine/engine_worker.h"

namespace gd::ui {

EngineController::EngineController(QObject* parent) : QObject(parent) {
    qRegisterMetaType<LoadRequest>();
    qRegisterMetaType<ModelInfo>();
    qRegisterMetaType<GenerateRequest>();
    qRegisterMetaType<GenerationSummary>();
    thread_.setObjectName(QStringLiteral("engine"));
    worker_ = new EngineWorker;
    worker_->moveToThread(&thread_);
    connect(&thread_, &QThread::finished, worker_, &QObject::deleteLater);

    connect(worker_, &EngineWorker::loadProgress, this, &EngineController::loadProgress);
    connect(worker_, &EngineWorker::loaded, this, [this](const ModelInfo& info) {
        model_ = info;
        loading_ = false;
        emit loaded(info);
        emit busyChanged();
    });
    connect(worker_, &EngineWorker::loadFailed, this, [this](const QString& message, bool cancelled) {
        model_.reset();
        loading_ = false;
        emit loadFailed(message, cancelled);
        emit busyChanged();
    });
    connect(worker_, &EngineWorker::delta, this, &EngineController::delta);
    connect(worker_, &EngineWorker::progress, this, &EngineController::progress);
    connect(worker_, &EngineWorker::finished, this, [this](quint64 id, const GenerationSummary& s) {
        generating_ = false;
        emit finished(id, s);
        emit busyChanged();
    });
    connect(worker_, &EngineWorker::failed, this, [this](quint64 id, const QString& message) {
        generating_ = false;
        emit failed(id, message);
        emit busyChanged();
    });
    thread_.start();
}

EngineController::~EngineController() {
    worker_->requestCancelLoad();
    worker_->requestStop();
    thread_.quit();
    thread_.wait();  // the worker finishes its current call within one token or one load step
}

void EngineController::load(const LoadRequest& request) {
    lastLoad_ = request;
    loading_ = true;
    model_.reset();
    worker_->requestStop();
    worker_->clearCancelLoad();
    emit loadStarted(request.paths);
    emit busyChanged();
    QMetaObject::invokeMethod(worker_, [w = worker_, request] { w->load(request); }, Qt::QueuedConnection);
}

void EngineController::cancelLoad() { worker_->requestCancelLoad(); }

void EngineController::unload() {
    worker_->requestStop();
    model_.reset();
    QMetaObject::invokeMethod(worker_, [w = worker_] { w->unload(); }, Qt::QueuedConnection);
    emit busyChanged();
}

quint64 EngineController::generate(GenerateRequest request) {
    request.id = nextId_++;
    generating_ = true;
    emit busyChanged();
    QMetaObject::invokeMethod(worker_, [w = worker_, request] { w->generate(request); }, Qt::QueuedConnection);
    return request.id;
}

void EngineController::stop() { worker_->requestStop(); }

}  // namespace gd::ui
