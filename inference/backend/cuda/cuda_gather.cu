#include "backend/cuda/cuda_gather.h"

namespace gd::cuda {
namespace {

// One block per moved row; threads stride over the columns.
__global__ void gather_rows_kernel(const float* src, int64_t ld_src, const int32_t* rows, float* dst, int64_t ld_dst,
                                   int64_t cols) {
    const int64_t i = blockIdx.x;
    const float* in = src + static_cast<int64_t>(rows[i]) * ld_src;
    float* out = dst + i * ld_dst;
    for (int64_t c = threadIdx.x; c < cols; c += blockDim.x) out[c] = in[c];
}

__global__ void scatter_add_rows_kernel(const float* src, int64_t ld_src, const int32_t* rows, const float* weights,
                                        float* dst, int64_t ld_dst, int64_t cols) {
    const int64_t i = blockIdx.x;
    const float w = weights[i];
    const float* in = src + i * ld_src;
    float* out = dst + static_cast<int64_t>(rows[i]) * ld_dst;
    for (int64_t c = threadIdx.x; c < cols; c += blockDim.x) out[c] += w * in[c];
}

}  // namespace

void gather_rows(const Mat& src, const int32_t* rows, int64_t n, const Mat& dst, cudaStream_t s) {
    if (n == 0) return;
    gather_rows_kernel<<<static_cast<unsigned>(n), 256, 0, s>>>(src.data, src.ld, rows, dst.data, dst.ld, src.cols);
    GD_CUDA_LAUNCHED("gather_rows");
}

void scatter_add_rows(const Mat& src, const int32_t* rows, const float* weights, int64_t n, const Mat& dst,
                      cudaStream_t s) {
    if (n == 0) return;
    scatter_add_rows_kernel<<<static_cast<unsigned>(n), 256, 0, s>>>(src.data, src.ld, rows, weights, dst.data, dst.ld,
                                                                     src.cols);
    GD_CUDA_LAUNCHED("scatter_add_rows");
}

}  // namespace gd::cuda
