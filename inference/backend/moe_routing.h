#pragma once
// The MoE router's rule on the host (spec §2.9), shared by the CPU backend and the tests of the CUDA
// one, and the packing of a routing into the [T, 2k] tensor Backend::moe_route produces.
#include <cstdint>
#include <map>
#include <vector>

#include "backend/backend.h"

namespace gd {

// logits [T, E] row-major -> routing [T, 2k]: softmax over all E (in double), the top k (ties to the
// lower expert id, as torch.topk), renormalised over those k, times expert_scale[e].
void route_experts(const float* logits, int64_t T, int64_t E, int64_t k, const float* expert_scale, float* routing);

// The shape checks of Backend::moe_experts (every backend's): throws gd::Error when they do not fit.
void check_moe_experts(const Tensor& x, const ExpertRouting& r, const Weight& gate_up, const Weight& down,
                       const Tensor& out);

// The routing's slots (indices into r.ids) grouped by expert, experts in ascending id (the order the
// reference visits them): each selected expert's weights are then read once for all its tokens.
std::map<int32_t, std::vector<int64_t>> slots_by_expert(const ExpertRouting& r);

// The [T, 2k] packing back into ExpertRouting (ids from the float columns, checked to be integers).
ExpertRouting unpack_routing(const float* routing, int64_t T, int64_t k);

}  // namespace gd
