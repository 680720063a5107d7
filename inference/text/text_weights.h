#pragma once
// The text decoder's weights, bound by internal name (tensor_names.cpp) from the model files and
// placed on a backend. Every tensor keeps its stored type; small vectors are also kept as f32.
#include <functional>
#include <vector>
#include "backend/backend.h"
#include "model/model_files.h"

namespace gd {

struct LayerWeights {
    // attention block
    Weight attn_norm, q, q_norm, k, k_norm, v, o, post_attn_norm;
    // dense MLP (the always-on branch on MoE layers)
    Weight ffn_norm, gate, up, down, post_ffw_norm;
    // mixture of experts (26B-A4B)
    Weight pre_ffw_norm_2, post_ffw_norm_1, post_ffw_norm_2;
    Weight router, router_scale, gate_up_exps, down_exps, expert_scale;
    // per-layer embedding branch (E2B/E4B)
    Weight ple_gate, ple_proj, ple_post_norm;
    float layer_scalar = 1.0f;
};

struct TextWeights {
    Weight token_embd;      // [V, H], also the tied LM head
    Weight output_norm;
    Weight ple_table;       // [V_ple, L*P], read one row per token from host memory
    Weight ple_model_proj;  // [L*P, H]
    Weight ple_proj_norm;   // [P]
    std::vector<LayerWeights> layers;
};

// Progress: called with (tensors done, tensors total); return false to cancel (throws gd::Cancelled).
using LoadProgress = std::function<bool(size_t, size_t)>;

// Binds and places every text tensor. Throws ModelError for a missing or mis-shaped tensor and for
// non-finite values in the small vectors (norms, scales); gd::Cancelled when progress returns false.
TextWeights load_text_weights(const ModelFiles& files, Backend& backend, const LoadProgress& progress = {});
// Split placement: decoder layers >= gpu_layers on `rest`, everything else on `backend`.
TextWeights load_text_weights(const ModelFiles& files, Backend& backend, Backend& rest, int64_t gpu_layers,
                              const LoadProgress& progress = {});

// Scans a weight's stored values for NaN/Inf (used at load time on every tensor when asked to).
bool weight_is_finite(const Weight& w);

}  // namespace gd
