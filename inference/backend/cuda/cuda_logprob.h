#pragma once
#include "backend/cuda/cuda_context.h"

namespace gd::cuda {
// *out = log softmax(row)[*id] (NaN when any value of the row is not finite); one row, device pointers.
void log_softmax_at(const Mat& row, const int32_t* id, float* out, cudaStream_t s);
}  // namespace gd::cuda
