#include "engine/engine.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <sys/resource.h>

#include "backend/device_query.h"
#include "catalog/memory_model.h"
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
// Decoder layers (from the first) whose weights and KV cache fit in 90% of the GPU's free memory
// beside everything outside the layers (embedding and head, towers), the activations, cuBLAS and the
// CUDA context; a split only where no layer would read a KV cache on the other side.
int64_t layers_that_fit(const ModelFiles& files, const GpuInfo& g, int64_t context, int64_t batch) {
    const TextConfig& c = files.config().text;
    const WeightLayout w = weight_layout(files);
    const int64_t chunk = prefill_chunk(files.config(), batch);
    const double budget = 0.9 * static_cast<double>(g.free_bytes);
    const double fixed = static_cast<double>(w.text_global + w.vision + w.audio + kCudaContextBytes +
                                             text_activation_bytes(c, chunk) + logits_bytes(c, chunk));
    int64_t best = 0;
    for (int64_t n = 1; n <= c.num_layers; ++n) {
        const double need = fixed + static_cast<double>(w.layers_bytes(0, n) + kv_bytes(c, context, chunk, KvCacheType::F32, 0, n));
        if (need > budget) break;
        if (TextDecoder::valid_split(c, n)) best = n;
    }
    return best;
}

struct Placement {
    std::unique_ptr<Backend> main, rest;
    int64_t gpu_layers = 0;
};

Placement choose_placement(const LoadOptions& o, const ModelFiles& files, int64_t context) {
    using Device = LoadOptions::Device;
    const int64_t L = files.config().text.num_layers;
    Placement p;
    if (o.device == Device::Cpu) {
        p.main = make_cpu_backend(o.threads);
        return p;
    }
    int64_t n = o.gpu_layers < 0 ? L : std::min(o.gpu_layers, L);
    if (o.device == Device::Auto) {
        if (!cuda_backend_built()) {
            p.main = make_cpu_backend(o.threads);
            return p;
        }
        n = 0;
        for (const GpuInfo& g : query_cuda_devices().gpus)
            if (g.index == o.gpu) n = std::min(o.gpu_layers < 0 ? L : o.gpu_layers, layers_that_fit(files, g, context, o.batch));
        if (n <= 0) {
            p.main = make_cpu_backend(o.threads);
            return p;
        }
        try {
            p.main = make_cuda_backend(o.gpu);
        } catch (const Error&) {  // a GPU that cannot be used (old, busy): the CPU still can
            p.main = make_cpu_backend(o.threads);
            return p;
        }
    } else {
        if (!TextDecoder::valid_split(files.config().text, n)) {
            throw Error("cannot put " + std::to_string(n) + " of " + std::to_string(L) +
                        " layers on the GPU: a layer there would read the KV cache of a layer on the CPU (or the "
                        "other way round); choose a split before the first KV-sharing layer's donor");
        }
        p.main = make_cuda_backend(o.gpu);
    }
    p.gpu_layers = n;
    if (n < L) p.rest = make_cpu_backend(o.threads);
    return p;
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
    if (options.quantize) {  // reads every weight page anyway: no separate prefetch
        m->quantized_ = std::make_unique<LoadQuantization>(quantize_while_loading(
            m->files_, *options.quantize, options.threads, [&](double f) {
                return !progress || progress(0.05 + 0.9 * f, std::string("quantizing to ") + dtype_name(*options.quantize));
            }));
    } else if (options.prefetch) {
        prefetch_weights(m->files_, progress);
    }
    Placement placed = choose_placement(options, m->files_, m->options_.context);
    m->backend_ = std::move(placed.main);
    m->cpu_rest_ = std::move(placed.rest);
    const LoadProgress on_weight = [&](size_t done, size_t total) {
        return !progress || progress(0.95 + 0.04 * static_cast<double>(done) / static_cast<double>(std::max<size_t>(1, total)),
                                     "placing weights");
    };
    if (m->cpu_rest_) {
        TextWeights w = load_text_weights(m->files_, *m->backend_, *m->cpu_rest_, placed.gpu_layers, on_weight);
        m->decoder_ = std::make_unique<TextDecoder>(m->config(), std::move(w), *m->backend_, *m->cpu_rest_, placed.gpu_layers);
    } else {
        TextWeights w = load_text_weights(m->files_, *m->backend_, on_weight);
        m->decoder_ = std::make_unique<TextDecoder>(m->config(), std::move(w), *m->backend_);
    }
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

std::string Model::placement() const {
    const int64_t L = config().text.num_layers;
    if (backend_->kind() == DeviceKind::Cpu) return backend_->name();
    if (!cpu_rest_) return backend_->name() + ": all " + std::to_string(L) + " layers";
    return backend_->name() + ": " + std::to_string(decoder_->gpu_layers()) + " of " + std::to_string(L) +
           " layers, the rest on the " + cpu_rest_->name();
}
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
