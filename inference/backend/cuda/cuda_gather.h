#pragma once
// Row moves for the mixture-of-experts pass of many tokens (cuda_gather.cu): the tokens routed to
// one expert are gathered into a contiguous block, multiplied by that expert's weights, and their
// outputs added back, weighted, into their token rows.
#include "backend/cuda/cuda_context.h"

namespace gd::cuda {

// dst[i] = src[rows[i]] for i < n.
void gather_rows(const Mat& src, const int32_t* rows, int64_t n, const Mat& dst, cudaStream_t s);
// dst[rows[i]] += weights[i] * src[i] for i < n; `rows` holds no duplicates within one call.
void scatter_add_rows(const Mat& src, const int32_t* rows, const float* weights, int64_t n, const Mat& dst,
                      cudaStream_t s);

}  // namespace gd::cuda
