#pragma once
// The Gemma 4 text decoder (spec §2), written once against the Backend op interface. A forward call
// takes token ids at the positions after what the KV cache holds, runs them through every layer in
// chunks of at most cache.max_chunk() tokens, and hands out logits (after the 30·tanh softcap) for
// every position or only the last.
//
// Where each tensor is computed:
//   decoder.cpp                 embedding scale, chunking, final norm, tied head, softcap
//   per_layer_embedding.cpp     PLE inputs (E2B/E4B) and the PLE branch of each layer
//   attention_block.cpp         q/k/v projections, norms, RoPE, KV cache, attention, o_proj
//   ffn_block.cpp               dense GeGLU MLP and the 26B-A4B mixture of experts
// Intermediate tensors carry the reference's names (inp_scaled, per_layer_inputs, attn_out-N,
// ffn_out-N, l_out-N, result_norm, logits); an observer receives them for layer-by-layer comparison.
#include <atomic>
#include <functional>
#include <string>
#include <vector>
#include "backend/backend.h"
#include "model/model_config.h"
#include "text/kv_cache.h"
#include "text/text_weights.h"

namespace gd {

// Rows that replace the token embeddings of ids[offset .. offset + rows) in a forward call: the soft
// tokens of an image or audio clip (spec §3.7), inserted as-is (no embedding scale). Their PLE token
// part uses the pad id (spec §9.12). `bidirectional`: on sliding-window layers every row of the span
// sees the whole span (26B/31B images, spec §2.6.4); a span is then never split across chunks.
struct SoftTokenSpan {
    int64_t offset = 0, rows = 0;
    const float* data = nullptr;  // rows * hidden floats, row-major, on the host
    bool bidirectional = false;
};

// One row of logits: the distribution of the token after `position`.
using LogitsSink = std::function<void(int64_t position, const float* logits, int64_t vocab)>;

class TextDecoder {
public:
    TextDecoder(const ModelConfig& config, TextWeights weights, Backend& backend);
    // Split placement: layers [0, gpu_layers) and everything outside the layers (embeddings, PLE
    // inputs, final norm and head) on `backend`, layers [gpu_layers, L) on `rest` (the CPU); the
    // weights must have been placed that way (load_text_weights with a placement). The activations
    // cross once each way per forward chunk. Throws if a KV-sharing layer would sit on another
    // backend than its donor (check with valid_split).
    TextDecoder(const ModelConfig& config, TextWeights weights, Backend& backend, Backend& rest, int64_t gpu_layers);
    // Whether layers [0, n) can go on one backend and the rest on another: every KV-shared layer on
    // the same side as the layer whose cache it reads.
    static bool valid_split(const TextConfig& c, int64_t n);
    int64_t gpu_layers() const { return split_; }

    const TextConfig& config() const { return text_; }
    const TextWeights& weights() const { return w_; }
    Backend& backend() { return backend_; }                     // the main (first) backend
    Backend& layer_backend(int64_t layer) const { return layer < split_ ? backend_ : *rest_; }
    KvCache make_cache(int64_t context, int64_t max_chunk = 512) const;

    // Runs `ids` at positions cache.length() .. and advances the cache. Throws gd::Error for an id out
    // of range or when the positions would pass the cache's context length (nothing is changed then).
    // `cancel`, when given, is checked between layers: setting it from another thread stops the call
    // with gd::Cancelled (the cache keeps the chunks completed before).
    void forward(const std::vector<int32_t>& ids, KvCache& cache, bool all_logits, const LogitsSink& sink,
                 const TensorObserver& observe = {}, const std::atomic<bool>* cancel = nullptr) {
        forward(ids, {}, cache, all_logits, sink, observe, cancel);
    }
    // The same with soft tokens in place of some ids (ordered, non-overlapping spans).
    void forward(const std::vector<int32_t>& ids, const std::vector<SoftTokenSpan>& spans, KvCache& cache,
                 bool all_logits, const LogitsSink& sink, const TensorObserver& observe = {},
                 const std::atomic<bool>* cancel = nullptr);
    // The same, but the last position's logits [1, vocab] stay on the backend (for sampling there:
    // a GPU decode step then reads back only the chosen id). Empty ids give an empty tensor.
    Tensor forward_to_logits(const std::vector<int32_t>& ids, const std::vector<SoftTokenSpan>& spans, KvCache& cache,
                             const TensorObserver& observe = {}, const std::atomic<bool>* cancel = nullptr);
    // Whether images get bidirectional attention on sliding layers (26B/31B, spec §2.6.4).
    bool bidirectional_images() const { return text_.bidirectional_attention == "vision"; }

private:
    // Runs ids and spans through every layer in chunks; calls `chunk_done` after each chunk with
    // whether it was the last and the chunk's logits (all rows when all_logits, else only for the
    // last chunk's last row; empty when want_logits is false).
    void run(const std::vector<int32_t>& ids, const std::vector<SoftTokenSpan>& spans, KvCache& cache, bool want_logits,
             bool all_logits, const std::function<void(int64_t first_position, const Tensor& logits)>& on_logits,
             const TensorObserver& observe, const std::atomic<bool>* cancel);
    // Returns the chunk's logits (empty unless want_logits).
    Tensor forward_chunk(const std::vector<int32_t>& ids, const std::vector<SoftTokenSpan>& spans, int64_t pos0,
                         KvCache& cache, bool want_logits, bool all_logits, const TensorObserver& observe,
                         const std::atomic<bool>* cancel);
    // per_layer_embedding.cpp
    Tensor per_layer_inputs(const std::vector<int32_t>& ids, const Tensor& x);
    void ple_branch(int64_t layer, const Tensor& x, const Tensor& ple_layer);
    // attention_block.cpp
    void attention_block(int64_t layer, const Tensor& x, KvCache& cache, int64_t pos0,
                         const std::vector<std::pair<int64_t, int64_t>>& blocks);
    // ffn_block.cpp
    void ffn_block(int64_t layer, const Tensor& x);
    Tensor dense_mlp(Backend& b, const LayerWeights& l, const Tensor& h);
    Tensor route(Backend& b, const LayerWeights& l, const Tensor& x);  // [T, 2k], Backend::moe_route
    // x (and the PLE inputs) copied to another backend at the split.
    static Tensor move_to(Backend& from, Backend& to, const Tensor& t);

    ModelConfig model_;
    TextConfig text_;
    TextWeights w_;
    Backend& backend_;
    Backend* rest_ = nullptr;   // the backend of layers >= split_ (null: none)
    int64_t split_ = 0;         // layers on backend_
    std::vector<float> inv_freq_sliding_, inv_freq_full_;
    float eps_;
};

}  // namespace gd
