#pragma once
// The engine API the app and the CLI use (never the backend directly):
//   Model    — model files opened, weights placed on a backend, tokenizer; shared by sessions.
//   Session  — one sequence with its KV cache: generate (streaming, cancellable), score.
//   ChatSession (chat_session.h) — a conversation of messages on top of a Session.
// Loading reports progress and can be cancelled; generation streams tokens through a callback and
// can be cancelled from another thread within one token; every call reports statistics.
#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>
#include "backend/backend.h"
#include "engine/load_quantizer.h"
#include "common/media_embedding.h"
#include "model/model_files.h"
#include "sampling/sampler.h"
#include "text/decoder.h"
#include "tokenizer/tokenizer.h"
#include "vision/image/rgb_image.h"

namespace gd {

struct LoadOptions {
    std::vector<std::string> paths;   // an HF folder, or a GGUF file (+ optional mmproj)
    int threads = 0;                  // CPU threads, 0 = one per core
    int64_t context = 8192;           // tokens a session may hold; capped at the model's maximum
    int64_t batch = 512;              // most tokens per forward chunk (prefill)
    bool prefetch = true;             // read every weight page during load (progress is meaningful,
                                      // the first answer is not slowed by page faults)
    // Where the model runs. Auto: the first CUDA GPU when this build has CUDA and the weights (less
    // the per-layer-embedding table, which stays in RAM) and the KV cache fit in 90% of its free
    // memory; else the CPU. Cuda: the GPU or an error saying why not.
    // When the whole model does not fit, Auto puts as many decoder layers as fit on the GPU (from the
    // first) and the rest on the CPU (catalog/memory_model.h), or all on the CPU when none fit.
    enum class Device { Auto, Cpu, Cuda };
    Device device = Device::Auto;
    int gpu = 0;                      // which CUDA device (Device::Cuda / Auto)
    int64_t gpu_layers = -1;          // Cuda/Auto: decoder layers on the GPU, from the first (-1: all for
                                      // Cuda, as many as fit for Auto); the others run on the CPU
    // Re-encode the text model's bf16/f16/f32 matrices as this type while loading (q8_0, q4_k, ...;
    // engine/load_quantizer.h): a model that does not fit as stored, as the fit planner proposes.
    std::optional<DType> quantize;
};

// fraction in [0, 1] and a short stage name; return false to cancel (load throws gd::Cancelled).
using ProgressCallback = std::function<bool(double fraction, const std::string& stage)>;

class VisionEncoder;
class AudioEncoder;

class Model {
public:
    static std::shared_ptr<Model> load(const LoadOptions& options, const ProgressCallback& progress = {});

    const ModelConfig& config() const { return files_.config(); }
    const ModelFiles& files() const { return files_; }
    const Tokenizer& tokenizer() const { return tokenizer_; }
    TextDecoder& decoder() { return *decoder_; }
    Backend& backend() { return *backend_; }       // where the logits are (the GPU when one is used)
    // "GPU (…): all 35 layers", "GPU (…): 20 of 35 layers, the rest on the CPU (…)", or the CPU's name.
    std::string placement() const;
    const LoadOptions& options() const { return options_; }
    // Tensors re-encoded at load time (LoadOptions::quantize), 0 when none; bytes before and after.
    uint64_t quantized_tensors() const { return quantized_ ? quantized_->tensors : 0; }
    uint64_t quantized_bytes_in() const { return quantized_ ? quantized_->bytes_in : 0; }
    uint64_t quantized_bytes_out() const { return quantized_ ? quantized_->bytes_out : 0; }
    double load_seconds() const { return load_seconds_; }

    // Image input: present when the files hold a vision tower (HF folder, or GGUF + mmproj).
    bool has_vision() const { return vision_ != nullptr; }
    // Resizes `image` for `budget` soft tokens (1..1120; the official budgets are 70, 140, 280, 560,
    // 1120) and runs the vision tower. Throws gd::Error without a vision tower; gd::Cancelled when
    // `cancel` is set. Not safe to call while a session of this model runs on another thread.
    std::shared_ptr<const MediaEmbedding> encode_image(const RgbImage& image, int64_t budget,
                                                       const std::atomic<bool>* cancel = nullptr,
                                                       const TensorObserver& observe = {});

    // Audio input: present when the files hold an audio tower (E2B/E4B: HF folder, or GGUF + mmproj).
    bool has_audio() const { return audio_ != nullptr; }
    // Runs the audio tower on a clip of 16 kHz mono samples (audio/io/audio_decode.h makes them from
    // files). Clips over 30 s are split into 30 s pieces (audio/features/audio_pieces.h), each encoded
    // on its own; the soft tokens of all pieces come back as one MediaEmbedding (25 per second), for
    // one <|audio> ... <audio|> span. Throws gd::Error without an audio tower or for a clip shorter
    // than one frame (~10 ms); gd::Cancelled when `cancel` is set. Same threading rule as encode_image.
    std::shared_ptr<const MediaEmbedding> encode_audio(const std::vector<float>& samples_16k,
                                                       const std::atomic<bool>* cancel = nullptr,
                                                       const TensorObserver& observe = {});
    ~Model();

private:
    Model(ModelFiles files, Tokenizer tok);
    ModelFiles files_;
    Tokenizer tokenizer_;
    std::unique_ptr<LoadQuantization> quantized_;  // bytes the files point at after load-time quantization
    std::unique_ptr<Backend> backend_;
    std::unique_ptr<Backend> cpu_rest_;  // the CPU backend of the layers past the GPU's share, if split
    std::unique_ptr<TextDecoder> decoder_;
    std::unique_ptr<VisionEncoder> vision_;
    std::string vision_error_;  // why a tower the config names could not be placed
    std::unique_ptr<AudioEncoder> audio_;
    std::string audio_error_;
    LoadOptions options_;
    double load_seconds_ = 0;
};

struct GenerationStats {
    int64_t prompt_tokens = 0;       // tokens of the prompt
    int64_t prefilled_tokens = 0;    // of those, how many were computed (the rest came from the cache)
    int64_t generated_tokens = 0;
    double prefill_seconds = 0, generation_seconds = 0;
    double time_to_first_token = 0;  // from the call to the first generated token
    double prompt_tokens_per_second() const { return prefill_seconds > 0 ? prefilled_tokens / prefill_seconds : 0; }
    double generated_tokens_per_second() const;
    uint64_t peak_rss_bytes = 0;     // of the process, so far
    uint64_t kv_cache_bytes = 0;
};

struct TokenEvent {
    int32_t id = 0;                  // -1: no new token, only the rest of the text (end of generation)
    std::string text;                // the new text (empty while a run of byte tokens may continue);
                                     // the texts of all events add up to GenerationResult::text
    float logprob = 0;               // natural log-softmax of the softcapped logits
    std::vector<std::pair<int32_t, float>> top;  // top_logprobs alternatives, most likely first
};
// Return false to stop generating.
using TokenCallback = std::function<bool(const TokenEvent&)>;

struct GenerateOptions {
    SamplingParams sampling;         // temperature 0 = greedy
    int64_t max_tokens = 512;
    int top_logprobs = 0;
    std::vector<int32_t> stop_ids;   // empty = the model's stop tokens
};

enum class FinishReason { Stop, Length, ContextFull, Cancelled, CallbackStopped };
const char* finish_reason_name(FinishReason r);

struct GenerationResult {
    std::vector<int32_t> ids;        // generated ids (without the stop token)
    std::string text;
    FinishReason finish = FinishReason::Length;
    int32_t stop_id = -1;            // the stop token that ended it, if any
    GenerationStats stats;
};

struct PositionScore {
    std::vector<std::pair<int32_t, float>> top;  // most likely next tokens after ids[0..i]
};

// log Σ exp(logits): logprob(id) = logits[id] - log_sum_exp.
double log_sum_exp(const float* logits, int64_t n);
// The k most likely ids with their log-probabilities, given the row's log_sum_exp.
std::vector<std::pair<int32_t, float>> top_logprobs(const float* logits, int64_t n, int k, double lse);

// A prompt: token ids, with media soft tokens replacing the placeholder ids at some positions
// (each span is `media->tokens` placeholders between begin/end markers, spec §3.7).
struct PromptMedia {
    int64_t position = 0;  // index in ids of the first soft token
    std::shared_ptr<const MediaEmbedding> media;
};
struct Prompt {
    std::vector<int32_t> ids;
    std::vector<PromptMedia> media;  // ordered by position, non-overlapping
};

class Session {
public:
    Session(std::shared_ptr<Model> model, int64_t context = 0);  // 0 = the model's load option

    // Feeds `prompt` (reusing what the cache already holds of it) and generates after it.
    GenerationResult generate(const std::vector<int32_t>& prompt, const GenerateOptions& options,
                              const TokenCallback& on_token = {});
    GenerationResult generate(const Prompt& prompt, const GenerateOptions& options, const TokenCallback& on_token = {});
    // Teacher forcing on a fresh cache: the distribution after each prefix ids[0..i].
    std::vector<PositionScore> score(const std::vector<int32_t>& ids, int top_k);
    // Thread-safe; the running generate() or score() stops within one token (or one layer of a prefill).
    void cancel() { cancel_.store(true); }
    void reset();

    const std::vector<int32_t>& history() const { return history_; }  // ids in the cache
    int64_t context() const { return cache_.context(); }
    Model& model() { return *model_; }

private:
    // Brings the cache to hold exactly the prompt, running what it does not hold yet; returns the
    // last position's logits. Reuses the longest cached prefix the KV rings allow and whose media
    // are the same.
    // Returns the last position's logits [1, vocab] on the model's backend.
    Tensor feed(const Prompt& prompt, GenerationStats& stats);
    // The next token from logits on the backend: on a GPU only the id (and its log-probability)
    // comes back, unless top log-probabilities were asked for.
    int32_t choose(const Tensor& logits, const GenerateOptions& o, Sampler& sampler, const std::vector<int32_t>& recent,
                   TokenEvent& ev);
    // How many leading positions of `prompt` the cache holds identically (ids and media).
    size_t cached_prefix(const Prompt& prompt) const;

    std::shared_ptr<Model> model_;
    KvCache cache_;
    std::vector<int32_t> history_;
    std::vector<PromptMedia> history_media_;  // media inside history_
    std::atomic<bool> cancel_{false};
};

// Peak resident memory of this process in bytes (0 when unknown).
uint64_t peak_rss_bytes();

}  // namespace gd
