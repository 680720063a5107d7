#pragma once
// The four Gemma 4 variants as validated data (spec §1.1, §3.1, §4.1), at full size and at a tiny
// size with the same structure (layer pattern, KV sharing, K=V, MoE, PLE, double-wide MLP, both
// tower kinds) for tests.
#include <string>
#include <vector>

#include "model/model_config.h"

namespace gd {

enum class ModelSize { Full, Tiny };

ModelConfig preset_config(Variant v, ModelSize size);
std::vector<Variant> published_variants();  // E2B, E4B, 26B-A4B, 31B

// Layer pattern: `sliding_per_full` sliding layers then one full layer, repeated; the last layer is
// always full (spec §2.1 layer_types).
std::vector<LayerKind> make_layer_types(int64_t num_layers, int64_t sliding_per_full);

}  // namespace gd
