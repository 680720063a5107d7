// RMSNorm and LayerNorm of the CUDA backend over every `group` consecutive elements of each row (the
// whole row, or one head of a per-head q/k/v norm).
//
// One block per (row, group): each thread walks the group at a stride of the block size, the partial
// sums meet in a warp-shuffle then a shared-memory reduction. The sums are taken in double as the
// CPU backend takes them: its sequential double sum and this tree-shaped one differ by ~1e-16
// relative, so the f32 scale 1/sqrt(mean + eps) rounds to the same float in all but rare half-way
// cases, and the per-element products are then the same f32 operations in the same order.
#include <algorithm>
#include <string>

#include "backend/cuda/cuda_kernels.h"
#include "common/error.h"

namespace gd::cuda {
namespace {

constexpr int kMaxThreads = 512;

// The sum of `v` over the block, returned to every thread. `partial` holds one double per warp; the
// leading barrier makes a second call in the same block wait until every thread has read the first
// call's partial sums. blockDim.x must be a multiple of 32 (the launcher rounds it up).
__device__ double block_sum(double v, double* partial) {
    for (int off = 16; off > 0; off >>= 1) v += __shfl_xor_sync(0xffffffffu, v, off);
    const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5, warps = blockDim.x >> 5;
    __syncthreads();
    if (lane == 0) partial[warp] = v;
    __syncthreads();
    double total = 0.0;
    for (int i = 0; i < warps; ++i) total += partial[i];  // same order in every thread: same result
    return total;
}

// Each thread reads and writes only the elements c = threadIdx.x + k * blockDim.x of its group, in
// every pass, so y may be x (in place) without any thread reading another's output.
template <bool kLayerNorm>
__global__ void norm_kernel(const float* x, int64_t ldx, float* y, int64_t ldy, const float* w, int64_t group,
                            int64_t groups_per_row, int64_t pairs, float eps) {
    __shared__ double partial[kMaxThreads / 32];
    // The loop bound is the same for every thread of the block, so the barriers in block_sum are met
    // by all of them.
    for (int64_t p = blockIdx.x; p < pairs; p += gridDim.x) {
        const int64_t r = p / groups_per_row, g0 = (p % groups_per_row) * group;
        const float* in = x + r * ldx + g0;
        float* out = y + r * ldy + g0;
        if constexpr (kLayerNorm) {
            // Two passes in double as the CPU does: the mean, then the variance about it.
            double acc = 0.0;
            for (int64_t c = threadIdx.x; c < group; c += blockDim.x) acc += static_cast<double>(in[c]);
            const double mean = block_sum(acc, partial) / static_cast<double>(group);
            acc = 0.0;
            for (int64_t c = threadIdx.x; c < group; c += blockDim.x) {
                const double d = static_cast<double>(in[c]) - mean;
                acc += d * d;
            }
            const double ss = block_sum(acc, partial);
            const float inv = static_cast<float>(1.0 / sqrt(ss / static_cast<double>(group) + static_cast<double>(eps)));
            const float m = static_cast<float>(mean);
            for (int64_t c = threadIdx.x; c < group; c += blockDim.x) {
                const float v = __fmul_rn(__fsub_rn(in[c], m), inv);
                out[c] = w ? __fmul_rn(v, w[c]) : v;
            }
        } else {
            double acc = 0.0;
            for (int64_t c = threadIdx.x; c < group; c += blockDim.x) {
                const double v = static_cast<double>(in[c]);
                acc += v * v;  // exact in double (two 24-bit significands), so a fused add changes nothing
            }
            const double ss = block_sum(acc, partial);
            const float inv = static_cast<float>(1.0 / sqrt(ss / static_cast<double>(group) + static_cast<double>(eps)));
            // (in * inv) * w, rounded after each product as on the CPU.
            for (int64_t c = threadIdx.x; c < group; c += blockDim.x) {
                const float v = __fmul_rn(in[c], inv);
                out[c] = w ? __fmul_rn(v, w[c]) : v;
            }
        }
    }
}

template <bool kLayerNorm>
void launch_norm(const Mat& x, const float* weight, int64_t group, float eps, const Mat& y, cudaStream_t s,
                 const char* name) {
    if (x.rows != y.rows || x.cols != y.cols) throw Error(std::string("cuda ") + name + ": tensor shapes differ");
    if (group <= 0 || x.cols % group != 0) throw Error(std::string("cuda ") + name + ": group does not divide the row");
    if (x.rows == 0 || x.cols == 0) return;
    const int64_t groups_per_row = x.cols / group;
    const int64_t pairs = x.rows * groups_per_row;
    // One thread per element up to kMaxThreads (a whole number of warps, as block_sum needs).
    const int threads = static_cast<int>(std::min<int64_t>(kMaxThreads, (group + 31) / 32 * 32));
    const unsigned blocks = static_cast<unsigned>(std::min<int64_t>(pairs, int64_t{1} << 30));
    norm_kernel<kLayerNorm><<<blocks, threads, 0, s>>>(x.data, x.ld, y.data, y.ld, weight, group, groups_per_row,
                                                        pairs, eps);
    GD_CUDA_LAUNCHED(name);
}

}  // namespace

void rms_norm(const Mat& x, const float* weight, int64_t group, float eps, const Mat& y, cudaStream_t s) {
    launch_norm<false>(x, weight, group, eps, y, s, "rms_norm");
}

void layer_norm(const Mat& x, const float* weight, int64_t group, float eps, const Mat& y, cudaStream_t s) {
    launch_norm<true>(x, weight, group, eps, y, s, "layer_norm");
}

}  // namespace gd::cuda
