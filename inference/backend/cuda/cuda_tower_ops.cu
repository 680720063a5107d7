// The vision tower's average pool and the audio conformer's causal depthwise convolution on the CUDA
// backend. Both are a few products per output element, one thread per output element (rows on grid y,
// columns on grid x, both grid-strided). Each thread sums in the CPU backend's order with every
// product and sum rounded on its own (no FMA contraction), so the two backends agree bit for bit.
#include <algorithm>
#include <string>

#include "backend/cuda/cuda_kernels.h"
#include "common/error.h"

namespace gd::cuda {
namespace {

constexpr int kThreads = 256;

dim3 grid_for(int64_t rows, int64_t cols) {
    return dim3(static_cast<unsigned>(std::min<int64_t>((cols + kThreads - 1) / kThreads, 64)),
                static_cast<unsigned>(std::min<int64_t>(rows, 65535)));
}

// out row o = (oy, ox) of the pooled grid: sum over the k x k patches of its block in raster order
// (dy outer, dx inner) of patch * (1/k²), starting from 0, as the CPU's loop does.
__global__ void average_pool_kernel(const float* x, int64_t ldx, float* out, int64_t ldo, int64_t out_rows,
                                    int64_t cols, int64_t grid_w, int64_t k, float w) {
    const int64_t ow = grid_w / k;
    for (int64_t o = blockIdx.y; o < out_rows; o += gridDim.y) {
        const int64_t oy = o / ow, ox = o % ow;
        for (int64_t c = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; c < cols;
             c += static_cast<int64_t>(gridDim.x) * blockDim.x) {
            float acc = 0.0f;
            for (int64_t dy = 0; dy < k; ++dy)
                for (int64_t dx = 0; dx < k; ++dx)
                    acc = __fadd_rn(acc, __fmul_rn(x[((oy * k + dy) * grid_w + ox * k + dx) * ldx + c], w));
            out[o * ldo + c] = acc;
        }
    }
}

// out[t, c] = sum over j < K of taps[c*K + j] * x[t - K + 1 + j, c], rows before 0 skipped, summed in
// j order from 0 as the CPU does.
__global__ void causal_conv_kernel(const float* x, int64_t ldx, float* out, int64_t ldo, int64_t rows, int64_t cols,
                                   const float* taps, int64_t K) {
    for (int64_t t = blockIdx.y; t < rows; t += gridDim.y) {
        for (int64_t c = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; c < cols;
             c += static_cast<int64_t>(gridDim.x) * blockDim.x) {
            float acc = 0.0f;
            for (int64_t j = 0; j < K; ++j) {
                const int64_t src = t - K + 1 + j;
                if (src < 0) continue;
                acc = __fadd_rn(acc, __fmul_rn(taps[c * K + j], x[src * ldx + c]));
            }
            out[t * ldo + c] = acc;
        }
    }
}

}  // namespace

void average_pool(const Mat& x, int64_t grid_w, int64_t grid_h, int64_t k, const Mat& out, cudaStream_t s) {
    if (k <= 0 || grid_w <= 0 || grid_h <= 0 || grid_w % k != 0 || grid_h % k != 0)
        throw Error("cuda average_pool: the grid (" + std::to_string(grid_w) + " x " + std::to_string(grid_h) +
                    ") is not a whole number of " + std::to_string(k) + " x " + std::to_string(k) + " blocks");
    if (x.rows != grid_w * grid_h || out.rows != (grid_w / k) * (grid_h / k) || out.cols != x.cols)
        throw Error("cuda average_pool: shapes do not fit the grid");
    if (out.rows == 0 || out.cols == 0) return;
    // 1/k² in f32, as the CPU's weight (the reference's one-hot pooling matrix holds that f32 value).
    const float w = 1.0f / static_cast<float>(k * k);
    average_pool_kernel<<<grid_for(out.rows, out.cols), kThreads, 0, s>>>(x.data, x.ld, out.data, out.ld, out.rows,
                                                                          out.cols, grid_w, k, w);
    GD_CUDA_LAUNCHED("average_pool");
}

void causal_depthwise_conv(const Mat& x, const float* taps, int64_t K, const Mat& out, cudaStream_t s) {
    if (K <= 0) throw Error("cuda causal_depthwise_conv: the kernel size must be positive");
    if (x.rows != out.rows || x.cols != out.cols) throw Error("cuda causal_depthwise_conv: tensor shapes differ");
    if (out.rows == 0 || out.cols == 0) return;
    // Output row t reads input rows t-K+1..t, which other threads may already have overwritten.
    if (x.data == out.data) throw Error("cuda causal_depthwise_conv: the output may not alias the input");
    causal_conv_kernel<<<grid_for(out.rows, out.cols), kThreads, 0, s>>>(x.data, x.ld, out.data, out.ld, out.rows,
                                                                         out.cols, taps, K);
    GD_CUDA_LAUNCHED("causal_depthwise_conv");
}

}  // namespace gd::cuda
