#pragma once
// The MoE router's rule on the host (spec §2.9), shared by the CPU backend and the tests of the CUDA
// one, and the packing of a routing into the [T, 2k] tensor Backend::moe_route produces.
#include <cstdint>

#include "backend/backend.h"

namespace gd {

// logits [T, E] row-major -> routing [T, 2k]: softmax over all E (in double), the top k (ties to the
// lower expert id, as torch.topk), renormalised over those k, times expert_scale[e].
void route_experts(const float* logits, int64_t T, int64_t E, int64_t k, const float* expert_scale, float* routing);

// The [T, 2k] packing back into ExpertRouting (ids from the float columns, checked to be integers).
ExpertRouting unpack_routing(const float* routing, int64_t T, int64_t k);

}  // namespace gd
