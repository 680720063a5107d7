#include "model/model_config.h"

#include <algorithm>
#include <sstream>

#include "common/error.h"
#include "model/variants.h"

namespace gd {

const char* variant_name(Variant v) {
    switch (v) {
        case Variant::E2B: return "e2b";
        case Variant::E4B: return "e4b";
        case Variant::A26B: return "26b-a4b";
        case Variant::B31: return "31b";
        case Variant::Custom: return "custom";
    }
    return "custom";
}

std::optional<Variant> variant_from_name(const std::string& name) {
    for (Variant v : {Variant::E2B, Variant::E4B, Variant::A26B, Variant::B31})
        if (name == variant_name(v)) return v;
    return std::nullopt;
}

int64_t TextConfig::kv_source_layer(int64_t layer) const {
    if (!is_kv_shared(layer)) return layer;
    const LayerKind kind = layer_types.at(static_cast<size_t>(layer));
    for (int64_t j = first_kv_shared_layer() - 1; j >= 0; --j)
        if (layer_types[static_cast<size_t>(j)] == kind) return j;
    return -1;
}

int64_t TextConfig::count_layers(LayerKind k) const {
    int64_t n = 0;
    for (auto t : layer_types) n += t == k;
    return n;
}

namespace {

// Limits far above any real Gemma model; they keep hostile metadata from driving huge allocations.
constexpr int64_t kMaxWidth = 1 << 16;
constexpr int64_t kMaxLayers = 1024;
constexpr int64_t kMaxVocab = 1 << 24;
constexpr int64_t kMaxHeads = 1024;
constexpr int64_t kMaxHeadDim = 4096;

class Checker {
public:
    explicit Checker(const std::string& source) : source_(source) {}
    void require(bool ok, const std::string& what) {
        if (!ok) throw ModelError(source_ + ": invalid model configuration: " + what);
    }
    void range(int64_t v, int64_t lo, int64_t hi, const char* field) {
        require(v >= lo && v <= hi, std::string(field) + " is " + std::to_string(v) + ", expected " + std::to_string(lo) +
                                        ".." + std::to_string(hi));
    }

private:
    const std::string& source_;
};

}  // namespace

void validate(const ModelConfig& c, const std::string& source) {
    Checker k(source);
    const TextConfig& t = c.text;
    k.range(t.hidden_size, 1, kMaxWidth, "hidden_size");
    k.range(t.num_layers, 1, kMaxLayers, "num_hidden_layers");
    k.range(t.vocab_size, 1, kMaxVocab, "vocab_size");
    k.range(t.num_heads, 1, kMaxHeads, "num_attention_heads");
    k.range(t.num_kv_heads, 1, kMaxHeads, "num_key_value_heads");
    k.range(t.num_global_kv_heads, 0, kMaxHeads, "num_global_key_value_heads");
    k.range(t.head_dim, 2, kMaxHeadDim, "head_dim");
    k.range(t.global_head_dim, 2, kMaxHeadDim, "global_head_dim");
    k.require(t.head_dim % 2 == 0 && t.global_head_dim % 2 == 0, "head dims must be even (RoPE pairs dimensions)");
    k.range(t.intermediate_size, 1, 1 << 20, "intermediate_size");
    k.range(t.num_kv_shared_layers, 0, t.num_layers - 1, "num_kv_shared_layers");
    k.range(t.hidden_size_per_layer_input, 0, kMaxWidth, "hidden_size_per_layer_input");
    k.range(t.max_position_embeddings, 1, int64_t(1) << 24, "max_position_embeddings");
    k.require(static_cast<int64_t>(t.layer_types.size()) == t.num_layers,
              "layer_types lists " + std::to_string(t.layer_types.size()) + " layers, the model has " +
                  std::to_string(t.num_layers));
    if (t.count_layers(LayerKind::Sliding) > 0) k.range(t.sliding_window, 1, int64_t(1) << 24, "sliding_window");
    k.require(t.partial_rotary_factor_full > 0 && t.partial_rotary_factor_full <= 1,
              "partial_rotary_factor of full-attention layers must be in (0, 1]");
    k.require(t.rope_theta_sliding > 0 && t.rope_theta_full > 0, "rope_theta must be positive");
    k.require(t.rms_norm_eps > 0 && t.rms_norm_eps < 1, "rms_norm_eps must be in (0, 1)");
    k.require(t.final_logit_softcapping >= 0, "final_logit_softcapping must not be negative");
    for (int64_t i = 0; i < t.num_layers; ++i) {
        const int64_t kv = t.layer_kv_heads(i);
        k.require(t.num_heads % kv == 0, "layer " + std::to_string(i) + ": " + std::to_string(t.num_heads) +
                                             " query heads are not a multiple of " + std::to_string(kv) + " KV heads");
        k.require(t.kv_source_layer(i) >= 0, "layer " + std::to_string(i) +
                                                 " shares K/V but no earlier non-shared layer of its kind exists");
    }
    if (t.has_ple()) k.range(t.vocab_size_per_layer_input, 1, kMaxVocab, "vocab_size_per_layer_input");
    if (t.enable_moe_block) {
        k.range(t.num_experts, 1, 4096, "num_experts");
        k.range(t.top_k_experts, 1, t.num_experts, "top_k_experts");
        k.range(t.moe_intermediate_size, 1, 1 << 20, "moe_intermediate_size");
    }
    if (c.vision) {
        const VisionConfig& v = *c.vision;
        k.range(v.hidden_size, 1, kMaxWidth, "vision hidden_size");
        k.range(v.num_layers, 1, kMaxLayers, "vision num_hidden_layers");
        k.range(v.num_heads, 1, kMaxHeads, "vision num_attention_heads");
        k.range(v.intermediate_size, 1, 1 << 20, "vision intermediate_size");
        k.range(v.head_dim, 1, kMaxHeadDim, "vision head_dim");
        k.require(v.head_dim * v.num_heads == v.hidden_size, "vision head_dim x heads must equal hidden_size");
        k.require(v.head_dim % 4 == 0, "vision head_dim must be a multiple of 4 (2-D RoPE rotates two halves in pairs)");
        k.range(v.patch_size, 1, 1024, "vision patch_size");
        k.range(v.pooling_kernel_size, 1, 64, "vision pooling_kernel_size");
        k.range(v.position_embedding_size, 1, 1 << 20, "vision position_embedding_size");
    }
    if (c.audio) {
        const AudioConfig& a = *c.audio;
        k.range(a.hidden_size, 1, kMaxWidth, "audio hidden_size");
        k.range(a.num_layers, 1, kMaxLayers, "audio num_hidden_layers");
        k.range(a.num_heads, 1, kMaxHeads, "audio num_attention_heads");
        k.require(a.hidden_size % a.num_heads == 0, "audio hidden_size must be a multiple of its heads");
        k.range(a.n_mels, 4, 4096, "audio mel bins");
        k.require(a.n_mels % 4 == 0, "audio mel bins must be a multiple of 4");
        k.range(a.subsampling_channels0, 1, 4096, "audio subsampling_conv_channels[0]");
        k.range(a.subsampling_channels1, 1, 4096, "audio subsampling_conv_channels[1]");
        k.range(a.conv_kernel_size, 1, 64, "audio conv_kernel_size");
        k.range(a.output_proj_dims, 1, kMaxWidth, "audio output_proj_dims");
    }
    const TokenIds& ids = c.tokens;
    std::vector<int64_t> all_ids = {ids.pad, ids.eos, ids.bos, ids.boi, ids.eoi, ids.boa, ids.eoa, ids.image, ids.audio, ids.video};
    all_ids.insert(all_ids.end(), ids.stop.begin(), ids.stop.end());
    for (int64_t id : all_ids)
        k.require(id >= -1 && id < t.vocab_size, "token id " + std::to_string(id) + " is outside the vocabulary of " +
                                                     std::to_string(t.vocab_size));
    k.require(ids.stop.size() <= 64, "more than 64 stop tokens");
}

Variant detect_variant(const ModelConfig& c, bool* tiny) {
    for (ModelSize size : {ModelSize::Full, ModelSize::Tiny}) {
      if (size == ModelSize::Tiny && !tiny) break;
      for (Variant v : published_variants()) {
        const ModelConfig p = preset_config(v, size);
        const TextConfig &a = c.text, &b = p.text;
        if (a.hidden_size == b.hidden_size && a.num_layers == b.num_layers && a.num_heads == b.num_heads &&
            a.num_kv_heads == b.num_kv_heads && a.layer_kv_heads(a.num_layers - 1) == b.layer_kv_heads(b.num_layers - 1) &&
            a.intermediate_size == b.intermediate_size && a.num_kv_shared_layers == b.num_kv_shared_layers &&
            a.hidden_size_per_layer_input == b.hidden_size_per_layer_input && a.enable_moe_block == b.enable_moe_block &&
            a.num_experts == b.num_experts && a.attention_k_eq_v == b.attention_k_eq_v && a.head_dim == b.head_dim &&
            a.global_head_dim == b.global_head_dim && a.layer_types == b.layer_types &&
            a.vocab_size == b.vocab_size) {
            if (tiny) *tiny = size == ModelSize::Tiny;
            return v;
        }
      }
    }
    return Variant::Custom;
}

Variant family_of(const ModelConfig& c) {
    if (c.text.enable_moe_block) return Variant::A26B;
    if (c.text.has_ple()) return c.text.num_kv_heads > 1 ? Variant::E4B : Variant::E2B;
    return Variant::B31;
}

std::string describe(const ModelConfig& c) {
    const TextConfig& t = c.text;
    std::ostringstream s;
    s << variant_name(c.variant) << ": " << t.num_layers << " layers (" << t.count_layers(LayerKind::Sliding) << " sliding, "
      << t.count_layers(LayerKind::Full) << " full), hidden " << t.hidden_size << ", " << t.num_heads << " heads, "
      << t.num_kv_heads << " KV heads";
    if (t.attention_k_eq_v) s << " (" << t.layer_kv_heads(t.num_layers - 1) << " on full layers, K=V)";
    s << ", window " << t.sliding_window;
    if (t.num_kv_shared_layers) s << ", " << t.num_kv_shared_layers << " KV-shared layers";
    if (t.enable_moe_block) s << ", MoE " << t.num_experts << " experts top-" << t.top_k_experts;
    if (t.has_ple()) s << ", per-layer embeddings " << t.hidden_size_per_layer_input;
    return s.str();
}

int64_t prefill_chunk(const ModelConfig& c, int64_t batch) {
    constexpr int64_t kLargestImage = 1120;  // soft tokens at the largest budget (vision/image)
    return c.vision && c.text.bidirectional_attention == "vision" ? std::max(batch, kLargestImage) : batch;
}

}  // namespace gd
