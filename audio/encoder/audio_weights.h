#pragma once
// The audio tower's weights (spec §4.3–4.6, §6.2, §6.4), bound by internal name from the HF checkpoint
// or the GGUF mmproj and placed on a backend. Matrices keep their stored type; the small per-channel
// values the ops take from the host (attention scales, depthwise taps, the output bias) are decoded
// to f32 here, with the format differences resolved (GGUF stores softplus(per_dim_scale)).
#include <vector>

#include "backend/backend.h"
#include "model/model_files.h"
#include "towers/tower_weights.h"

namespace gd {

struct AudioFeedForwardWeights {  // one macaron half (feed_forward1 / feed_forward2)
    Weight pre_norm, post_norm;
    ClippedLinear up, down;       // ffw_layer_1 [4Ha, Ha], ffw_layer_2 [Ha, 4Ha]
};

struct AudioLayerWeights {
    AudioFeedForwardWeights ffn1, ffn2;
    Weight attn_pre_norm, attn_post_norm;
    ClippedLinear q, k, v, post;
    Weight rel_k;                  // relative_k_proj [Ha, Ha], not clipped
    std::vector<float> q_scale;    // [Ha]: head_dim^-1/2 / ln 2 * softplus(per_dim_scale), per head
    std::vector<float> k_scale;    // [Ha]: ln(1+e) / ln 2 (* the optional GGUF per_dim_k_scale)
    Weight conv_pre_norm, conv_norm;
    ClippedLinear conv_start;      // linear_start [2Ha, Ha]
    ClippedLinear conv_end;        // linear_end [Ha, Ha]
    std::vector<float> conv_taps;  // depthwise kernel [Ha, K]
    Weight norm_out;
};

struct AudioWeights {
    Weight conv0, conv0_norm;      // SSCP block 0: kernel as [C0, 1*3*3], LayerNorm weight [C0]
    Weight conv1, conv1_norm;      // SSCP block 1: kernel as [C1, C0*3*3] (input index (ci, ky, kx))
    Weight input_proj;             // [Ha, F2*C1], input index f*C1 + c
    std::vector<AudioLayerWeights> layers;
    Weight output_proj;            // [P, Ha]
    std::vector<float> output_bias;  // [P]
    Weight embedding;              // embed_audio.embedding_projection [H, P]
};

// Binds and places every tower tensor. Throws ModelError when the model has no audio tower, for a
// missing or mis-shaped tensor (naming it), and for NaN in the small vectors or clip bounds.
AudioWeights load_audio_weights(const ModelFiles& files, Backend& backend);

}  // namespace gd
