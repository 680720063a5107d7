#include "engine/engine.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <sys/resource.h>

#include "backend/device_query.h"
#include "common/error.h"
#include "audio/encoder/audio_encoder.h"
#include "audio/features/audio_pieces.h"
#include "audio/features/log_mel.h"
#include "vision/encoder/vision_encoder.h"
#include "vision/image/image_preprocess.h"

namespace gd {

namespace {
double seconds_since(std::chrono::steady_clock::time_point t0) {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

// Reads one byte per page of every text weight so the file is in memory before the first answer;
// reports progress by bytes and stops when asked to.
void prefetch_weights(const ModelFiles& files, const ProgressCallback& progress) {
    uint64_t total = 0, done = 0;
    for (const ModelTensor& t : files.tensors())
        if (!t.spec.in_mmproj) total += t.view.nbytes;
    volatile uint8_t sink = 0;
    uint64_t next_report = 0;
    for (const ModelTensor& t : files.tensors()) {
        if (t.spec.in_mmproj) continue;
        for (uint64_t off = 0; off < t.view.nbytes; off += 4096) {
            sink = sink + t.view.data[off];
            if (done + off >= next_report) {
                next_report += 64ull << 20;
                if (progress && !progress(0.05 + 0.9 * static_cast<double>(done + off) / static_cast<double>(std::max<uint64_t>(1, total)),
                                          "reading weights"))
                    throw Cancelled("loading cancelled");
            }
        }
        done += t.view.nbytes;
    }
}
// Bytes the GPU would hold: every weight but the per-layer-embedding table, and an f32 KV cache of
// `context` positions (full layers) or the sliding window plus a chunk (ring layers).
uint64_t gpu_bytes_needed(const ModelFiles& files, int64_t context, int64_t batch) {
    uint64_t bytes = 0;
    for (const ModelTensor& t : files.tensors())
        if (t.spec.name != "per_layer_token_embd.weight") bytes += t.view.nbytes;
    const TextConfig& c = files.config().text;
    for (int64_t i = 0; i < c.num_layers; ++i) {
        if (c.is_kv_shared(i)) continue;
        int64_t slots = context;
        if (!c.is_full(i)) slots = std::min<int64_t>(context, c.sliding_window + batch - 1);
        bytes += 2ull * static_cast<uint64_t>(slots) * static_cast<uint64_t>(c.layer_kv_heads(i) * c.layer_head_dim(i)) *
                 sizeof(float);
    }
    return bytes;
}

std::unique_ptr<Backend> choose_backend(const LoadOptions& o, const ModelFiles& files, int64_t context) {
    using Device = LoadOptions::Device;
    if (o.device == Device::Cpu) return make_cpu_backend(o.threads);
    if (o.device == Device::Cuda) return make_cuda_backend(o.gpu);
    if (!cuda_backend_built()) return make_cpu_backend(o.threads);
    const DeviceReport r = query_cuda_devices();
    for (const GpuInfo& g : r.gpus) {
        if (g.index != o.gpu) continue;
        // Activations, cuBLAS workspace and the CUDA context need room beside weights and cache.
        const uint64_t need = gpu_bytes_needed(files, context, o.batch) + (768ull << 20);
        if (static_cast<double>(need) > 0.9 * static_cast<double>(g.free_bytes)) break;
        try {
            return make_cuda_backend(o.gpu);
        } catch (const Error&) {
            break;  // a GPU that cannot be used (old, busy): the CPU still can
        }
    }
    return make_cpu_backend(o.threads);
}

}  // namespace

std::shared_ptr<Model> Model::load(const LoadOptions& options, const ProgressCallback& progress) {
    const auto t0 = std::chrono::steady_clock::now();
    if (progress && !progress(0.0, "opening files")) throw Cancelled("loading cancelled");
    ModelFiles files = ModelFiles::open(options.paths);
    if (!files.computable()) {
        throw ModelError("this model stores some tensors in a type the engine cannot compute with yet "
                         "(see gemmadesk-cli inspect)");
    }
    Tokenizer tok = load_tokenizer(files);
    if (static_cast<int64_t>(tok.vocab_size()) > files.config().text.vocab_size) {
        throw ModelError("the tokenizer has " + std::to_string(tok.vocab_size()) + " tokens but the model's embedding has " +
                         std::to_string(files.config().text.vocab_size) + " rows: they do not belong together");
    }
    std::shared_ptr<Model> m(new Model(std::move(files), std::move(tok)));
    m->options_ = options;
    m->options_.context = std::min(options.context, m->config().text.max_position_embeddings);
    if (m->options_.context <= 0 || m->options_.batch <= 0) throw Error("the context and batch sizes must be positive");
    if (options.prefetch) prefetch_weights(m->files_, progress);
    m->backend_ = choose_backend(options, m->files_, m->options_.context);
    TextWeights w = load_text_weights(m->files_, *m->backend_, [&](size_t done, size_t total) {
        return !progress || progress(0.95 + 0.04 * static_cast<double>(done) / static_cast<double>(std::max<size_t>(1, total)),
                                     "placing weights");
    });
    m->decoder_ = std::make_unique<TextDecoder>(m->config(), std::move(w), *m->backend_);
    if (m->config().vision) {
        if (progress && !progress(0.99, "placing the vision tower")) throw Cancelled("loading cancelled");
        // A tower that cannot be placed costs image input, not the text model.
        try {
            m->vision_ = std::make_unique<VisionEncoder>(m->files_, *m->backend_);
        } catch (const ModelError& e) {
            m->vision_error_ = e.what();
        }
    }
    if (m->config().audio) {
        if (progress && !progress(0.995, "placing the audio tower")) throw Cancelled("loading cancelled");
        try {
            m->audio_ = std::make_unique<AudioEncoder>(m->files_, *m->backend_);
        } catch (const ModelError& e) {
            m->audio_error_ = e.what();
        }
    }
    m->load_seconds_ = seconds_since(t0);
    if (progress) progress(1.0, "ready");
    return m;
}

Model::Model(ModelFiles files, Tokenizer tok) : files_(std::move(files)), tokenizer_(std::move(tok)) {}
Model::~Model() = default;

std::shared_ptr<const MediaEmbedding> Model::encode_image(const RgbImage& image, int64_t budget,
                                                         const std::atomic<bool>* cancel, const TensorObserver& observe) {
    if (!vision_ && !vision_error_.empty()) throw Error("this model's vision tower could not be loaded: " + vision_error_);
    if (!vision_) {
        throw Error(files_.format() == ModelFormat::Gguf
                        ? "this model has no image input: no vision projector (mmproj) file was found next to it"
                        : "this model has no image input: its files hold no vision tower");
    }
    const auto t0 = std::chrono::steady_clock::now();
    const VisionConfig& vc = *config().vision;
    const PatchedImage patched = preprocess_image(image, budget, vc.patch_size, vc.pooling_kernel_size);
    auto m = std::make_shared<MediaEmbedding>();
    m->kind = MediaEmbedding::Kind::Image;
    m->tokens = patched.size.soft_tokens();
    m->width = config().text.hidden_size;
    m->data = vision_->encode(patched, observe, cancel);
    m->image_width = patched.size.width;
    m->image_height = patched.size.height;
    m->grid_width = patched.size.grid_width();
    m->grid_height = patched.size.grid_height();
    if (m->data.size() != static_cast<size_t>(m->tokens * m->width)) throw Error("the vision tower returned the wrong shape");
    m->key = media_content_key(*m);
    m->encode_seconds = seconds_since(t0);
    return m;
}

std::shared_ptr<const MediaEmbedding> Model::encode_audio(const std::vector<float>& samples,
                                                         const std::atomic<bool>* cancel, const TensorObserver& observe) {
    if (!audio_ && !audio_error_.empty()) throw Error("this model's audio tower could not be loaded: " + audio_error_);
    if (!audio_) {
        throw Error(files_.format() == ModelFormat::Gguf && config().text.has_ple()
                        ? "this model has no audio input: no projector (mmproj) file with an audio tower was found next to it"
                        : "this model has no audio input (Gemma 4 E2B and E4B understand speech; 26B and 31B do not)");
    }
    for (float v : samples)
        if (!std::isfinite(v)) throw Error("the audio holds invalid (NaN or infinite) samples");
    const std::vector<AudioPiece> pieces = split_audio(static_cast<int64_t>(samples.size()));
    if (pieces.empty()) throw Error("the audio is too short to hear anything (under 10 ms)");
    const auto t0 = std::chrono::steady_clock::now();
    auto m = std::make_shared<MediaEmbedding>();
    m->kind = MediaEmbedding::Kind::Audio;
    m->width = config().text.hidden_size;
    for (const AudioPiece& p : pieces) {
        const LogMel mel = log_mel_spectrogram(samples.data() + p.first, static_cast<size_t>(p.count));
        const std::vector<float> rows = audio_->encode(mel, observe, cancel);
        const int64_t tokens = AudioEncoder::tokens_for_frames(mel.frames);
        if (rows.size() != static_cast<size_t>(tokens * m->width)) throw Error("the audio tower returned the wrong shape");
        m->data.insert(m->data.end(), rows.begin(), rows.end());
        m->tokens += tokens;
    }
    m->audio_seconds = static_cast<double>(samples.size()) / 16000.0;
    m->audio_pieces = static_cast<int64_t>(pieces.size());
    m->key = media_content_key(*m);
    m->encode_seconds = seconds_since(t0);
    return m;
}

double GenerationStats::generated_tokens_per_second() const {
    // The first generated token comes from the prefill's logits; the rate counts the decode steps.
    return generation_seconds > 0 && generated_tokens > 1 ? (generated_tokens - 1) / generation_seconds : 0;
}

const char* finish_reason_name(FinishReason r) {
    switch (r) {
    case FinishReason::Stop: return "stop";
    case FinishReason::Length: return "length";
    case FinishReason::ContextFull: return "context_full";
    case FinishReason::Cancelled: return "cancelled";
    case FinishReason::CallbackStopped: return "stopped";
    }
    return "?";
}

double log_sum_exp(const float* logits, int64_t n) {
    const float mx = *std::max_element(logits, logits + n);
    double sum = 0;
    for (int64_t i = 0; i < n; ++i) sum += std::exp(static_cast<double>(logits[i]) - mx);
    return mx + std::log(sum);
}

std::vector<std::pair<int32_t, float>> top_logprobs(const float* logits, int64_t n, int k, double lse) {
    k = static_cast<int>(std::min<int64_t>(std::max(k, 0), n));
    if (k == 0) return {};
    std::vector<int32_t> idx(static_cast<size_t>(n));
    for (int64_t i = 0; i < n; ++i) idx[static_cast<size_t>(i)] = static_cast<int32_t>(i);
    std::partial_sort(idx.begin(), idx.begin() + k, idx.end(), [&](int32_t a, int32_t b) {
        return logits[a] > logits[b] || (logits[a] == logits[b] && a < b);
    });
    std::vector<std::pair<int32_t, float>> out;
    for (int j = 0; j < k; ++j) {
        const int32_t id = idx[static_cast<size_t>(j)];
        out.emplace_back(id, static_cast<float>(logits[id] - lse));
    }
    return out;
}

uint64_t peak_rss_bytes() {
    rusage u{};
    if (getrusage(RUSAGE_SELF, &u) != 0) return 0;
    return static_cast<uint64_t>(u.ru_maxrss) * 1024;  // Linux reports KiB
}

}  // namespace gd
