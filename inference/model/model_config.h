#pragma once
// The shape of a Gemma 4 model as data: every hyperparameter of spec §1–§4 in one place, plus the
// derived per-layer facts (layer kind, head dim, KV heads, FFN width, KV sharing). Configs come from
// the presets in variants.cpp, from config.json (hf_config.cpp) or from GGUF metadata (gguf_config.cpp),
// and are checked by validate() before anything uses them.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace gd {

enum class Variant { E2B, E4B, A26B, B31, Custom };
const char* variant_name(Variant v);           // "e2b", "e4b", "26b-a4b", "31b", "custom"
std::optional<Variant> variant_from_name(const std::string& name);

enum class LayerKind { Sliding, Full };

struct TextConfig {
    int64_t vocab_size = 262144;
    int64_t hidden_size = 0;                 // H
    int64_t num_layers = 0;                  // L
    int64_t num_heads = 0;                   // query heads, same on every layer
    int64_t num_kv_heads = 0;                // KV heads on sliding layers (and on full layers unless k_eq_v)
    int64_t num_global_kv_heads = 0;         // KV heads on full layers (0 = same as num_kv_heads); the
                                             // published 26B/31B configs set it together with attention_k_eq_v
    int64_t head_dim = 256;                  // sliding layers
    int64_t global_head_dim = 512;           // full layers
    int64_t intermediate_size = 0;           // dense MLP width (x2 on KV-shared layers when use_double_wide_mlp)
    int64_t sliding_window = 0;              // W, keys including the current token
    int64_t num_kv_shared_layers = 0;        // the last N layers reuse K/V of earlier layers
    int64_t hidden_size_per_layer_input = 0; // P; 0 = no per-layer embeddings
    int64_t vocab_size_per_layer_input = 0;  // rows of the PLE table
    int64_t max_position_embeddings = 131072;
    bool attention_k_eq_v = false;           // full layers have no v_proj
    bool use_double_wide_mlp = false;
    bool enable_moe_block = false;
    int64_t num_experts = 0;
    int64_t top_k_experts = 0;
    int64_t moe_intermediate_size = 0;
    double rms_norm_eps = 1e-6;
    double final_logit_softcapping = 30.0;
    double rope_theta_sliding = 10000.0;
    double rope_theta_full = 1000000.0;
    double partial_rotary_factor_full = 0.25;  // "proportional" RoPE on full layers
    std::string bidirectional_attention;       // "", "vision" (26B/31B) or "all"
    std::string hidden_activation = "gelu_pytorch_tanh";
    bool tie_word_embeddings = true;
    std::vector<LayerKind> layer_types;        // one per layer

    // Derived per-layer facts (spec §1.2, §2.7).
    bool is_full(int64_t layer) const { return layer_types.at(static_cast<size_t>(layer)) == LayerKind::Full; }
    int64_t layer_head_dim(int64_t layer) const { return is_full(layer) ? global_head_dim : head_dim; }
    int64_t layer_kv_heads(int64_t layer) const {
        return is_full(layer) && num_global_kv_heads > 0 ? num_global_kv_heads : num_kv_heads;
    }
    int64_t first_kv_shared_layer() const { return num_layers - num_kv_shared_layers; }
    bool is_kv_shared(int64_t layer) const { return layer >= first_kv_shared_layer(); }
    // Whether layers [0, n) can run on one device and the rest on another: no layer may read the KV
    // cache of a layer on the other side (KV-shared layers and their donors stay together).
    bool valid_split(int64_t n) const {
        for (int64_t i = 0; i < num_layers; ++i)
            if ((i < n) != (kv_source_layer(i) < n)) return false;
        return true;
    }
    bool layer_has_v_proj(int64_t layer) const { return !is_kv_shared(layer) && !(is_full(layer) && attention_k_eq_v); }
    // The layer whose K/V a shared layer reads: the last non-shared layer of the same kind; the layer
    // itself when it is not shared; -1 when there is none (validate() rejects that).
    int64_t kv_source_layer(int64_t layer) const;
    int64_t layer_ffn_width(int64_t layer) const {
        return use_double_wide_mlp && is_kv_shared(layer) ? 2 * intermediate_size : intermediate_size;
    }
    bool has_ple() const { return hidden_size_per_layer_input > 0; }
    int64_t count_layers(LayerKind k) const;
};

struct VisionConfig {
    int64_t hidden_size = 0;
    int64_t intermediate_size = 0;
    int64_t num_layers = 0;
    int64_t num_heads = 0;
    int64_t head_dim = 0;
    int64_t patch_size = 16;
    int64_t pooling_kernel_size = 3;
    int64_t position_embedding_size = 10240;
    double rope_theta = 100.0;
    double rms_norm_eps = 1e-6;
    bool use_clipped_linears = false;   // E2B/E4B tower
    bool standardize = false;           // 26B/31B tower
    int64_t default_output_length = 280;
};

struct AudioConfig {
    int64_t hidden_size = 0;
    int64_t num_layers = 0;
    int64_t num_heads = 0;
    int64_t n_mels = 128;
    int64_t subsampling_channels0 = 128;
    int64_t subsampling_channels1 = 32;
    int64_t conv_kernel_size = 5;
    double residual_weight = 0.5;
    int64_t attention_chunk_size = 12;
    int64_t attention_context_left = 13;
    int64_t attention_context_right = 0;
    double attention_logit_cap = 50.0;
    bool use_clipped_linears = true;
    double rms_norm_eps = 1e-6;
    int64_t output_proj_dims = 1536;
    int64_t ffn_size() const { return 4 * hidden_size; }
    int64_t head_dim() const { return num_heads ? hidden_size / num_heads : 0; }
    int64_t sscp_flat_width() const { return (n_mels / 4) * subsampling_channels1; }
};

// Token ids the engine needs (spec §2.1, §5.2); -1 where the model has none.
struct TokenIds {
    int64_t pad = 0, eos = 1, bos = 2;
    int64_t boi = -1, eoi = -1, boa = -1, eoa = -1;  // begin/end of image and audio
    int64_t image = -1, audio = -1, video = -1;      // soft-token placeholders
    std::vector<int64_t> stop = {1};                 // generation stops on any of these
};

struct ModelConfig {
    Variant variant = Variant::Custom;
    bool tiny_test_preset = false;  // the shapes are one of the tiny test presets (set with variant)
    TextConfig text;
    std::optional<VisionConfig> vision;
    std::optional<AudioConfig> audio;
    TokenIds tokens;
};

// Checks every size and relation the decoder and towers rely on. Throws ModelError naming
// `source` (the file the config came from) and the field, in plain words.
void validate(const ModelConfig& c, const std::string& source);

// Which of the four published variants the text model's shapes are (Custom when none matches
// exactly; the towers do not count: a text-only download of E2B is still E2B). With `tiny` given,
// the tiny test presets are recognised too (and *tiny says which matched).
Variant detect_variant(const ModelConfig& c, bool* tiny = nullptr);
// The variant a custom model's structure resembles: MoE -> 26B-A4B, PLE -> E2B/E4B, else 31B.
Variant family_of(const ModelConfig& c);

// The most tokens one prefill chunk holds for a session with `batch` (the user's setting): on 26B/31B
// with a vision tower at least 1120, the largest image, since an image's soft tokens are attended
// bidirectionally and must share one chunk (spec §2.6.4). The sliding rings are sized by it.
int64_t prefill_chunk(const ModelConfig& c, int64_t batch);

// A one-line human description: "E2B (35 layers, hidden 1536, ...)".
std::string describe(const ModelConfig& c);

}  // namespace gd
