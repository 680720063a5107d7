#pragma once
// The checks every backend makes before attention over a KV cache (shapes, the ring's reach,
// bidirectional blocks inside the call's rows), in one place so the CPU and the GPU refuse the same
// calls with the same words.
#include "backend/backend.h"

namespace gd {

// Throws gd::Error when the call cannot be computed as asked.
void check_attention(const Tensor& q, const KvLayer& cache, const AttentionParams& p, const Tensor& out);

}  // namespace gd
