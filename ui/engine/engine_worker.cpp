#include "engine/engine_worker.h"

#include <QDateTime>
#include <QDir>
#include <QFileInfo>
#include <thread>
#include "common/error.h"
#include "engine/chat_session.h"
#include "engine/engine.h"
#include "engine/engine_errors.h"
#include "model/generation_defaults.h"
#include "model/model_report.h"

namespace gd::ui {

namespace {

constexpr qint64 kDeltaIntervalMs = 30;  // coalescing period of streamed text

QString displayName(const QStringList& paths) {
    if (paths.isEmpty()) return {};
    QFileInfo fi(paths.front());
    return fi.isDir() ? QFileInfo(QDir::cleanPath(fi.absoluteFilePath())).fileName() : fi.fileName();
}

bool startsWith(const QList<ChatTurn>& all, const QList<ChatTurn>& prefix) {
    if (prefix.size() > all.size()) return false;
    for (qsizetype i = 0; i < prefix.size(); ++i)
        if (all[i].role != prefix[i].role || all[i].text != prefix[i].text || all[i].images != prefix[i].images ||
            all[i].audio != prefix[i].audio)
            return false;
    return true;
}

}  // namespace

EngineWorker::EngineWorker() = default;
EngineWorker::~EngineWorker() {
    std::lock_guard lock(runningMutex_);
    chat_.reset();
}

void EngineWorker::requestStop() {
    stop_.store(true);
    std::lock_guard lock(runningMutex_);
    if (running_) running_->cancel();
}

void EngineWorker::load(const LoadRequest& request) {
    unload();  // (the cancel flag was cleared by whoever queued this load: a cancel may precede it)
    gd::LoadOptions options;
    for (const QString& p : request.paths) options.paths.push_back(p.toStdString());
    // Automatic: one thread per core but one, so the UI thread always finds a free core (the CPU
    // backend's workers spin between ops; on a 2-core laptop they would otherwise starve the UI).
    const int cores = int(std::max(1u, std::thread::hardware_concurrency()));
    const int threads = request.threads > 0 ? request.threads : std::max(1, cores - 1);
    options.threads = threads;
    options.context = request.context;
    options.gpu_layers = request.gpuLayers;
    options.gpu = request.gpu;
    try {
        if (!request.quantize.isEmpty()) {
            const auto type = gd::dtype_from_name(request.quantize.toStdString());
            if (!type) throw gd::Error("unknown weight type " + request.quantize.toStdString());
            options.quantize = *type;
        }
        auto model = gd::Model::load(options, [this](double fraction, const std::string& stage) {
            emit loadProgress(fraction, QString::fromStdString(stage));
            return !cancelLoad_.load();
        });
        const gd::ModelReport report = gd::make_report(model->files());
        const gd::GenerationDefaults defaults = gd::read_generation_defaults(model->files());
        ModelInfo info;
        info.name = displayName(request.paths);
        info.variant = QString::fromStdString(report.variant);
        info.quantization = QString::fromStdString(report.weight_type);
        info.device = threads == 1 ? tr("CPU, 1 thread") : tr("CPU, %1 threads").arg(threads);
        info.maxContext = model->config().text.max_position_embeddings;
        info.context = std::min<qint64>(request.context, info.maxContext);
        info.vision = model->has_vision();  // the tower was loaded, not only described
        info.audio = model->has_audio();  // the tower was loaded, not only described
        info.loadSeconds = model->load_seconds();
        info.defaults.temperature = defaults.temperature;
        info.defaults.topK = defaults.top_k;
        info.defaults.topP = defaults.top_p;
        info.defaults.minP = defaults.min_p;
        info.defaultsSource = QString::fromStdString(defaults.source);
        model_ = std::move(model);
        emit loaded(info);
    } catch (const gd::Cancelled&) {
        emit loadFailed(tr("Loading was cancelled."), true);
    } catch (const std::exception& e) {
        emit loadFailed(describeLoadError(e, request.paths.value(0)), false);
    }
}

void EngineWorker::unload() {
    {
        std::lock_guard lock(runningMutex_);
        chat_.reset();
    }
    sessionTurns_.clear();
    images_.clear();
    audio_.clear();
    const bool had = model_ != nullptr;
    model_.reset();
    if (had) emit unloaded();
}

void EngineWorker::prepareConversation(const GenerateRequest& request) {
    const bool extends = chat_ && request.system == sessionSystem_ && request.thinking == sessionThinking_ &&
                         startsWith(request.turns, sessionTurns_);
    if (!extends) {
        gd::ChatOptions options;
        options.system = request.system.toStdString();
        options.thinking = request.thinking;
        if (!chat_) {
            std::lock_guard lock(runningMutex_);
            chat_ = std::make_unique<gd::ChatSession>(model_, options);
        } else {
            chat_->options().system = options.system;
            chat_->options().thinking = options.thinking;
            chat_->clear();  // the session's cache stays: the longest cached prefix is reused
        }
        sessionTurns_.clear();
        sessionSystem_ = request.system;
        sessionThinking_ = request.thinking;
    }
    const QList<ChatTurn> fresh = request.turns.mid(sessionTurns_.size());
    // Images are decoded and encoded here, before the first token: say so when there are any.
    const auto onImage = [this, &request](int index, int total) {
        emit progress(request.id, total == 1 ? tr("reading the image…") : tr("reading image %1 of %2…").arg(index).arg(total));
    };
    std::vector<gd::ChatMessage> messages = images_.toMessages(*model_, fresh, &stop_, onImage);
    const auto onAudio = [this, &request](int index, int total) {
        emit progress(request.id, total == 1 ? tr("listening to the recording…") : tr("listening to sound %1 of %2…").arg(index).arg(total));
    };
    audio_.addTo(messages, *model_, fresh, &stop_, onAudio);
    for (const gd::ChatMessage& m : messages) chat_->add(m);
    images_.retainOnly(request.turns);
    audio_.retainOnly(request.turns);
    sessionTurns_ = request.turns;
}

void EngineWorker::generate(const GenerateRequest& request) {
    stop_.store(false);
    if (!model_) {
        emit failed(request.id, tr("No model is loaded. Pick one in the model picker first."));
        return;
    }
    if (!model_->has_vision() && hasImages(request.turns)) {
        emit failed(request.id, noImageInputMessage());
        return;
    }
    if (!model_->has_audio() && hasAudio(request.turns)) {
        emit failed(request.id, noAudioInputMessage());
        return;
    }
    GenerationSummary summary;
    QString pendingAnswer, pendingThinking;
    QElapsedTimer sinceDelta;
    sinceDelta.start();
    auto flush = [&] {
        if (pendingAnswer.isEmpty() && pendingThinking.isEmpty()) return;
        emit delta(request.id, pendingAnswer, pendingThinking);
        pendingAnswer.clear();
        pendingThinking.clear();
        sinceDelta.restart();
    };
    try {
        prepareConversation(request);
        gd::ChatOptions& options = chat_->options();
        options.generate.max_tokens = request.maxTokens;
        options.generate.sampling.temperature = float(request.sampling.temperature);
        options.generate.sampling.top_k = request.sampling.topK;
        options.generate.sampling.top_p = float(request.sampling.topP);
        options.generate.sampling.min_p = float(request.sampling.minP);
        options.generate.sampling.seed = request.sampling.seed ? request.sampling.seed
                                                               : quint64(QDateTime::currentMSecsSinceEpoch());
        {
            std::lock_guard lock(runningMutex_);
            running_ = chat_.get();
        }
        const gd::ChatReply reply = chat_->reply([&](const gd::ChatOutputParser::Delta& d) {
            // The engine streams whole UTF-8 characters (it holds byte-fallback runs until they end).
            pendingAnswer += QString::fromStdString(d.answer);
            pendingThinking += QString::fromStdString(d.thinking);
            if (sinceDelta.elapsed() >= kDeltaIntervalMs) flush();
            return !stop_.load();
        });
        {
            std::lock_guard lock(runningMutex_);
            running_ = nullptr;
        }
        flush();
        sessionTurns_.append(ChatTurn{QStringLiteral("assistant"), QString::fromStdString(reply.answer)});
        const gd::GenerationStats& st = reply.result.stats;
        summary.finishReason = QString::fromLatin1(gd::finish_reason_name(reply.result.finish));
        // A stop by the user ends as "cancelled" (during the prompt) or "stopped" (while answering):
        // to the user both are "stopped".
        if (reply.result.finish == gd::FinishReason::Cancelled) summary.finishReason = QStringLiteral("stopped");
        summary.promptTokens = st.prompt_tokens;
        summary.audioTokens = audio_.tokensOf(sessionTurns_);
        summary.prefilledTokens = st.prefilled_tokens;
        summary.generatedTokens = st.generated_tokens;
        summary.tokensPerSecond = st.generated_tokens_per_second();
        summary.promptTokensPerSecond = st.prompt_tokens_per_second();
        summary.timeToFirstToken = st.time_to_first_token;
        summary.contextUsed = qint64(chat_->session().history().size());
        summary.contextSize = chat_->session().context();
        summary.peakRssBytes = st.peak_rss_bytes;
        emit finished(request.id, summary);
    } catch (const std::exception& e) {
        {
            std::lock_guard lock(runningMutex_);
            running_ = nullptr;
        }
        flush();
        // The conversation state is unknown after a failure: rebuild it on the next request.
        sessionTurns_.clear();
        sessionSystem_.clear();
        {
            std::lock_guard lock(runningMutex_);
            chat_.reset();
        }
        if (dynamic_cast<const gd::Cancelled*>(&e)) {
            summary.finishReason = QStringLiteral("stopped");
            emit finished(request.id, summary);
        } else {
            emit failed(request.id, describeGenerationError(e));
        }
    }
}

}  // namespace gd::ui
