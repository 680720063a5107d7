#pragma once
// The vision tower's weights (spec §6.2, §6.4), bound by internal name from the HF checkpoint or the
// GGUF mmproj and placed on a backend. Matrices keep their stored type; norm weights, clip bounds and
// the standardisation vectors are also kept as f32 on the host.
#include <memory>
#include <vector>

#include "backend/backend.h"
#include "model/model_files.h"
#include "towers/tower_weights.h"

namespace gd {

struct VisionLayerWeights {
    Weight ln1, attn_post_norm, ln2, ffn_post_norm;  // input / post-attention / pre-FFN / post-FFN norms
    ClippedLinear q, k, v, o, gate, up, down;
    Weight q_norm, k_norm;                           // per head, [head_dim]
};

struct VisionWeights {
    Weight patch_embd;       // [Hv, p*p*3], input index (py*p + px)*3 + c
    Weight pos_x, pos_y;     // the two halves of the position table, [position_embedding_size, Hv] each
    std::vector<VisionLayerWeights> layers;
    std::vector<float> std_bias, std_scale;  // [Hv] on the 26B/31B tower, else empty
    Weight embedding;        // embed_vision.embedding_projection [H, Hv]
    // Host storage of tensors converted at load (the patch embedding of a GGUF, stored as a conv
    // kernel): the backend may use it in place, so it lives as long as the weights.
    std::vector<std::shared_ptr<const std::vector<float>>> owned;
};

// Binds and places every tower tensor. Throws ModelError when the model has no vision tower, for a
// missing or mis-shaped tensor (naming it), and for NaN in the small vectors or clip bounds.
VisionWeights load_vision_weights(const ModelFiles& files, Backend& backend);

}  // namespace gd
