#pragma once
// RoPE inverse frequencies per layer kind (spec §2.6.3). Sliding layers: default RoPE over the whole
// head, f[j] = θ^(-2j/d). Full layers: "proportional" RoPE: only the first
// int(partial_rotary_factor · d / 2) pairs rotate, with exponents over the FULL head dim d; the other
// pairs get frequency 0 (cos 1, sin 0). Values are formed in f32 the way the reference forms them.
#include <vector>
#include "model/model_config.h"

namespace gd {

std::vector<float> rope_inv_freq(const TextConfig& c, LayerKind kind);

}  // namespace gd
