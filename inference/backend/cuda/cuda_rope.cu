// RoPE of the CUDA backend: the text decoder's NeoX ("rotate half") rotation by the row's position,
// and the vision tower's 2-D form (first half of each head by pos_x, second half by pos_y).
//
// One block per row; thread j handles rotation pair j of every head of the row, so its angle, cosine
// and sine are computed once per row rather than once per head. The angle is formed in f32 exactly
// as the CPU backend forms it (float(position) * inv_freq[j]), and its cosine and sine are taken in
// double and rounded to f32, as the CPU does: the device's f32 sinf/cosf are within two ulps but
// not the same floats, and at positions near 131072 (angles ~1e5 rad) they also take a slow path.
// The rotation itself is two rounded products and a rounded sum or difference, like the CPU's.
#include <algorithm>
#include <string>

#include "backend/cuda/cuda_kernels.h"
#include "common/error.h"

namespace gd::cuda {
namespace {

constexpr int kMaxThreads = 256;

// v[j], v[j + half] <- (lo c - hi s, hi c + lo s), each product and the sum rounded on its own.
__device__ __forceinline__ void rotate(float* v, int64_t j, int64_t half, float c, float s) {
    const float lo = v[j], hi = v[j + half];
    v[j] = __fsub_rn(__fmul_rn(lo, c), __fmul_rn(hi, s));
    v[j + half] = __fadd_rn(__fmul_rn(hi, c), __fmul_rn(lo, s));
}

__device__ __forceinline__ void cos_sin(float angle, float& c, float& s) {
    double sd, cd;
    sincos(static_cast<double>(angle), &sd, &cd);
    c = static_cast<float>(cd);
    s = static_cast<float>(sd);
}

__global__ void rope_kernel(float* x, int64_t rows, int64_t ld, int64_t heads, int64_t head_dim,
                            const float* inv_freq, int64_t first_position, const int64_t* pos_offset) {
    const int64_t half = head_dim / 2;
    if (pos_offset) first_position += *pos_offset;  // a replayed CUDA graph's step (cuda_graph_step.h)
    for (int64_t t = blockIdx.x; t < rows; t += gridDim.x) {
        // int64 -> f32 rounds to nearest, as the CPU's static_cast<float> does (exact below 2^24).
        const float pos = static_cast<float>(first_position + t);
        float* row = x + t * ld;
        for (int64_t j = threadIdx.x; j < half; j += blockDim.x) {
            float c, s;
            cos_sin(__fmul_rn(pos, inv_freq[j]), c, s);
            for (int64_t h = 0; h < heads; ++h) rotate(row + h * head_dim, j, half, c, s);
        }
    }
}

// Pair j2 of a head: axis = j2 / quarter (0: x, first half of the head; 1: y, second half), and
// within that half the NeoX pair (j, j + quarter), j = j2 % quarter.
__global__ void rope_2d_kernel(float* x, int64_t rows, int64_t ld, int64_t heads, int64_t head_dim,
                               const float* inv_freq, const int32_t* pos_x, const int32_t* pos_y) {
    const int64_t quarter = head_dim / 4;
    for (int64_t t = blockIdx.x; t < rows; t += gridDim.x) {
        float* row = x + t * ld;
        for (int64_t j2 = threadIdx.x; j2 < 2 * quarter; j2 += blockDim.x) {
            const int axis = j2 < quarter ? 0 : 1;
            const int64_t j = j2 - axis * quarter;
            const float pos = static_cast<float>(axis == 0 ? pos_x[t] : pos_y[t]);
            float c, s;
            cos_sin(__fmul_rn(pos, inv_freq[j]), c, s);
            for (int64_t h = 0; h < heads; ++h) rotate(row + h * head_dim + axis * 2 * quarter, j, quarter, c, s);
        }
    }
}

unsigned row_blocks(int64_t rows) { return static_cast<unsigned>(std::min<int64_t>(rows, int64_t{1} << 30)); }

}  // namespace

void rope(const Mat& x, int64_t head_dim, const float* inv_freq, int64_t first_position, cudaStream_t s,
          const int64_t* pos_offset) {
    if (head_dim <= 0 || head_dim % 2 != 0 || x.cols % head_dim != 0)
        throw Error("cuda rope: the head size does not fit the row");
    if (x.rows == 0 || x.cols == 0) return;
    const int64_t half = head_dim / 2;
    const int threads = static_cast<int>(std::min<int64_t>(kMaxThreads, (half + 31) / 32 * 32));
    rope_kernel<<<row_blocks(x.rows), threads, 0, s>>>(x.data, x.rows, x.ld, x.cols / head_dim, head_dim, inv_freq,
                                                        first_position, pos_offset);
    GD_CUDA_LAUNCHED("rope");
}

// The positions are device memory, so their range (0 <= p < 2^20, Backend::rope_2d) is the caller's
// to check on the host; any int32 gives a finite angle here.
void rope_2d(const Mat& x, int64_t head_dim, const float* inv_freq, const int32_t* pos_x, const int32_t* pos_y,
             cudaStream_t s) {
    if (head_dim <= 0 || head_dim % 4 != 0 || x.cols % head_dim != 0)
        throw Error("cuda rope_2d: the head size does not fit the row");
    if (x.rows == 0 || x.cols == 0) return;
    const int64_t pairs = head_dim / 2;  // head_dim/4 per axis
    const int threads = static_cast<int>(std::min<int64_t>(kMaxThreads, (pairs + 31) / 32 * 32));
    rope_2d_kernel<<<row_blocks(x.rows), threads, 0, s>>>(x.data, x.rows, x.ld, x.cols / head_dim, head_dim, inv_freq,
                                                           pos_x, pos_y);
    GD_CUDA_LAUNCHED("rope_2d");
}

}  // namespace gd::cuda
