// log softmax(x)[id] of one row of logits on the device, so a decode step's token event needs only
// four more bytes from the GPU. One block: a max pass, then Σ exp(x - max) in double.
#include <cmath>

#include "backend/cuda/cuda_logprob.h"

namespace gd::cuda {
namespace {

constexpr int kThreads = 1024;

__device__ double block_sum(double v, double* shared) {
    for (int o = 16; o > 0; o >>= 1) v += __shfl_xor_sync(0xffffffffu, v, o);
    const int warp = threadIdx.x / 32, lane = threadIdx.x % 32;
    if (lane == 0) shared[warp] = v;
    __syncthreads();
    double total = 0;
    for (int w = 0; w < kThreads / 32; ++w) total += shared[w];
    __syncthreads();
    return total;
}

__device__ float block_max(float v, float* shared) {
    for (int o = 16; o > 0; o >>= 1) v = fmaxf(v, __shfl_xor_sync(0xffffffffu, v, o));
    const int warp = threadIdx.x / 32, lane = threadIdx.x % 32;
    if (lane == 0) shared[warp] = v;
    __syncthreads();
    float m = shared[0];
    for (int w = 1; w < kThreads / 32; ++w) m = fmaxf(m, shared[w]);
    __syncthreads();
    return m;
}

__global__ void __launch_bounds__(kThreads) log_softmax_at_kernel(const float* x, int64_t n, const int32_t* id,
                                                                   float* out) {
    __shared__ float fmax_shared[kThreads / 32];
    __shared__ double sum_shared[kThreads / 32];
    float mx = -INFINITY;
    int bad = 0;
    for (int64_t i = threadIdx.x; i < n; i += kThreads) {
        const float v = x[i];
        if (!isfinite(v)) bad = 1;
        mx = fmaxf(mx, v);
    }
    bad = __syncthreads_or(bad);
    mx = block_max(mx, fmax_shared);
    double s = 0;
    for (int64_t i = threadIdx.x; i < n; i += kThreads) s += exp(static_cast<double>(x[i]) - mx);
    s = block_sum(s, sum_shared);
    if (threadIdx.x == 0) *out = bad ? NAN : static_cast<float>(static_cast<double>(x[*id]) - mx - log(s));
}

}  // namespace

void log_softmax_at(const Mat& row, const int32_t* id, float* out, cudaStream_t s) {
    log_softmax_at_kernel<<<1, kThreads, 0, s>>>(row.data, row.cols, id, out);
    GD_CUDA_LAUNCHED("log_softmax_at");
}

}  // namespace gd::cuda
