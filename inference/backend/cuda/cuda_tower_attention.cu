// The encoders' attention on the CUDA backend: attention_dense (the vision tower: every query over
// every key, up to ~10k patches) and attention_local (the audio conformer: 12 keys back, with a
// relative-position term and a logit cap).
//
// attention_dense is a tiled online-softmax ("flash") kernel in f32 on the CUDA cores. Tensor cores
// would need TF32 or bf16 inputs, whose 10- or 8-bit mantissas put the scores far outside the f32
// tolerance the CPU backend is held to. A block owns one head and kBQ query rows and walks the keys
// in tiles of kBK: the tile's scores live in registers (each thread a 4 x 8 sub-tile), the running
// maximum and sum per row in registers, and the output rows' accumulators in registers (4 rows x
// head_dim/8 columns per thread), so memory holds nothing of size N x M. Shared memory holds the
// block's queries and the tile's keys, both transposed ([dimension][row]) so that one 16-byte load
// gives a thread its 4 query rows or 4 of its keys, and the tile's values; the tile's probabilities
// go back through the keys' space for the product with the values.
//
// attention_local is small work (a 30 s clip is 750 rows x 8 heads x 12 keys): one warp per (row,
// head), lanes over the keys for the logits and over the head's columns for the output, with the sums
// in the CPU backend's order and rounding so the two agree to the last bit or so.
#include <algorithm>
#include <cmath>
#include <string>

#include "backend/cuda/cuda_kernels.h"
#include "common/error.h"

namespace gd::cuda {
namespace {

// ---------------------------------------------------------------------------------------------
// attention_dense

constexpr int kBQ = 64;          // query rows per block
constexpr int kBK = 64;          // keys per tile
constexpr int kDenseThreads = 128;  // 16 row groups (ty) x 8 column groups (tx)
// Row stride of the transposed tiles (queries, keys, probabilities): 64 + 4 keeps every 4-float group
// 16-byte aligned, and spreads the transposing stores over all 32 banks (see load_transposed).
constexpr int kTS = kBQ + 4;
static_assert(kBQ == kBK, "the transposed tiles share one stride");
static_assert(kBQ == 16 * 4 && kBK == 8 * 8, "the thread layout covers 4 rows x 8 keys per thread");

// Rows [row0, row0 + 64) of one head (src points at the head's first column), dimensions [0, DP),
// into dst[d * kTS + j]; rows past `rows` and dimensions past head_dim as zeros (they then add exact
// zeros to every dot product). Lane l of a warp takes dimension 8a + (l % 8) of row 4b + (l / 8):
// in global memory each 8 lanes read 32 consecutive bytes of a row, and in shared memory the 32 lanes
// land on banks (4 (l % 8) + l / 8) mod 32, all different.
template <int DP>
__device__ __forceinline__ void load_transposed(float* dst, const float* src, int64_t ld, int64_t row0, int64_t rows,
                                                int head_dim) {
    for (int idx = threadIdx.x; idx < 64 * DP; idx += kDenseThreads) {
        const int d_lo = idx & 7, j_lo = (idx >> 3) & 3, t = idx >> 5;
        const int j = (t & 15) * 4 + j_lo, d = (t >> 4) * 8 + d_lo;
        const int64_t row = row0 + j;
        dst[d * kTS + j] = (row < rows && d < head_dim) ? src[row * ld + d] : 0.0f;
    }
}

// DC = output columns per thread; the head is padded with zeros to DP = 8 * DC dimensions.
template <int DC>
__global__ void __launch_bounds__(kDenseThreads) attention_dense_kernel(const float* q, int64_t ldq, const float* k,
                                                                        int64_t ldk, const float* v, int64_t ldv,
                                                                        float* out, int64_t ldo, int64_t N, int64_t M,
                                                                        int head_dim, float scale) {
    constexpr int DP = 8 * DC;
    constexpr int kKeyRows = DP > kBK ? DP : kBK;  // the key tile's space also holds P [kBK][kTS]
    extern __shared__ float4 smem4[];               // float4: 16-byte alignment for the vector loads
    float* qs = reinterpret_cast<float*>(smem4);    // [DP][kTS]  queries, transposed
    float* ks = qs + DP * kTS;                      // [DP][kTS]  keys, transposed; then P [kBK][kTS]
    float* vs = ks + kKeyRows * kTS;                // [kBK][DP]  values
    float* ps = ks;

    const int tx = threadIdx.x & 7;   // keys tx*4 + {0..3} and 32 + tx*4 + {0..3}; output columns tx + 8c
    const int ty = threadIdx.x >> 3;  // query rows ty*4 + {0..3}
    const int64_t head_off = static_cast<int64_t>(blockIdx.y) * head_dim;
    const int64_t q0 = static_cast<int64_t>(blockIdx.x) * kBQ;

    load_transposed<DP>(qs, q + head_off, ldq, q0, N, head_dim);  // published by the barrier after the first key tile

    float o[4][DC];
    float mx[4], sum[4];  // running max of the scaled scores, and sum of exp(score - mx), per row
#pragma unroll
    for (int i = 0; i < 4; ++i) {
        mx[i] = -INFINITY;
        sum[i] = 0.0f;
#pragma unroll
        for (int c = 0; c < DC; ++c) o[i][c] = 0.0f;
    }

    for (int64_t k0 = 0; k0 < M; k0 += kBK) {
        __syncthreads();  // every thread is done with the previous tile's P (in ks) and values
        load_transposed<DP>(ks, k + head_off, ldk, k0, M, head_dim);
        for (int idx = threadIdx.x; idx < kBK * DP; idx += kDenseThreads) {
            const int j = idx / DP, c = idx % DP;
            const int64_t key = k0 + j;
            // Zeros past the last key: their probabilities are 0, and 0 * 0 adds nothing (garbage
            // could be NaN, and 0 * NaN is NaN).
            vs[idx] = (key < M && c < head_dim) ? v[key * ldv + head_off + c] : 0.0f;
        }
        __syncthreads();

        // Scores: s[i][n] = q_row(i) . k_key(n), dimension by dimension with FMA in order 0..DP-1 (the
        // CPU's SIMD kernels form each score the same way).
        float s[4][8];
#pragma unroll
        for (int i = 0; i < 4; ++i)
#pragma unroll
            for (int n = 0; n < 8; ++n) s[i][n] = 0.0f;
#pragma unroll 4
        for (int d = 0; d < DP; ++d) {
            const float4 a = *reinterpret_cast<const float4*>(qs + d * kTS + ty * 4);
            const float4 b0 = *reinterpret_cast<const float4*>(ks + d * kTS + tx * 4);
            const float4 b1 = *reinterpret_cast<const float4*>(ks + d * kTS + 32 + tx * 4);
            const float av[4] = {a.x, a.y, a.z, a.w};
            const float bv[8] = {b0.x, b0.y, b0.z, b0.w, b1.x, b1.y, b1.z, b1.w};
#pragma unroll
            for (int i = 0; i < 4; ++i)
#pragma unroll
                for (int n = 0; n < 8; ++n) s[i][n] = fmaf(av[i], bv[n], s[i][n]);
        }

        // Online softmax per row. The 8 threads of a row group are 8 consecutive lanes of one warp
        // (lane = 8 (ty % 4) + tx), so xor-shuffles over 1, 2, 4 combine exactly them; every lane
        // takes part (no thread has returned), as the full mask requires.
#pragma unroll
        for (int i = 0; i < 4; ++i) {
            float top = -INFINITY;
#pragma unroll
            for (int n = 0; n < 8; ++n) {
                const int64_t key = k0 + (n >> 2) * 32 + tx * 4 + (n & 3);
                s[i][n] = key < M ? s[i][n] * scale : -INFINITY;
                top = fmaxf(top, s[i][n]);
            }
            top = fmaxf(top, __shfl_xor_sync(0xffffffffu, top, 1));
            top = fmaxf(top, __shfl_xor_sync(0xffffffffu, top, 2));
            top = fmaxf(top, __shfl_xor_sync(0xffffffffu, top, 4));
            // Key k0 (< M) is in every tile, so m_new is finite for finite inputs.
            const float m_new = fmaxf(mx[i], top);
            float part = 0.0f;
#pragma unroll
            for (int n = 0; n < 8; ++n) {
                s[i][n] = expf(s[i][n] - m_new);  // exp(-inf) = 0 for the keys past M
                part += s[i][n];
            }
            part += __shfl_xor_sync(0xffffffffu, part, 1);
            part += __shfl_xor_sync(0xffffffffu, part, 2);
            part += __shfl_xor_sync(0xffffffffu, part, 4);
            const float alpha = expf(mx[i] - m_new);  // 0 on the first tile (mx = -inf; o and sum are 0)
            sum[i] = sum[i] * alpha + part;
            mx[i] = m_new;
#pragma unroll
            for (int c = 0; c < DC; ++c) o[i][c] *= alpha;
        }

        __syncthreads();  // every thread is done reading the keys: P may overwrite them
        // P transposed, ps[key][row]: one 16-byte store per key gives the thread's 4 rows.
#pragma unroll
        for (int n = 0; n < 8; ++n) {
            const int j = (n >> 2) * 32 + tx * 4 + (n & 3);
            *reinterpret_cast<float4*>(ps + j * kTS + ty * 4) = make_float4(s[0][n], s[1][n], s[2][n], s[3][n]);
        }
        __syncthreads();

        // o[i][c] += sum over the tile's keys j of P[row i][j] * V[j][column tx + 8c].
#pragma unroll 4
        for (int j = 0; j < kBK; ++j) {
            const float4 p = *reinterpret_cast<const float4*>(ps + j * kTS + ty * 4);
            const float* vr = vs + j * DP + tx;
#pragma unroll
            for (int c = 0; c < DC; ++c) {
                const float vv = vr[8 * c];
                o[0][c] = fmaf(p.x, vv, o[0][c]);
                o[1][c] = fmaf(p.y, vv, o[1][c]);
                o[2][c] = fmaf(p.z, vv, o[2][c]);
                o[3][c] = fmaf(p.w, vv, o[3][c]);
            }
        }
    }

#pragma unroll
    for (int i = 0; i < 4; ++i) {
        const int64_t row = q0 + ty * 4 + i;
        if (row >= N) continue;
        const float inv = 1.0f / sum[i];  // the CPU's normalisation: o * (1 / sum)
        float* dst = out + row * ldo + head_off;
#pragma unroll
        for (int c = 0; c < DC; ++c) {
            const int col = tx + 8 * c;
            if (col < head_dim) dst[col] = o[i][c] * inv;
        }
    }
}

template <int DC>
void launch_dense(const Mat& q, const Mat& k, const Mat& v, int64_t heads, int head_dim, float scale, const Mat& out,
                  cudaStream_t s) {
    constexpr int DP = 8 * DC;
    constexpr int kKeyRows = DP > kBK ? DP : kBK;
    constexpr size_t bytes = sizeof(float) * (static_cast<size_t>(DP) * kTS + static_cast<size_t>(kKeyRows) * kTS +
                                              static_cast<size_t>(kBK) * DP);
    // Above 48 KiB a kernel must ask for its dynamic shared memory: 57.6 KB at the towers' 72 columns,
    // 100 KB at 128. Compute capability 7.5 allows 64 KiB (head sizes up to 80), 8.6 and 8.9 99 KiB
    // (up to 96), 8.0 and 9.0 more than enough; a wider head on a smaller GPU fails here with the
    // driver's words rather than at launch.
    GD_CUDA(cudaFuncSetAttribute(attention_dense_kernel<DC>, cudaFuncAttributeMaxDynamicSharedMemorySize,
                                 static_cast<int>(bytes)));
    const dim3 grid(static_cast<unsigned>((q.rows + kBQ - 1) / kBQ), static_cast<unsigned>(heads));
    attention_dense_kernel<DC><<<grid, kDenseThreads, bytes, s>>>(q.data, q.ld, k.data, k.ld, v.data, v.ld, out.data,
                                                                  out.ld, q.rows, k.rows, head_dim, scale);
    GD_CUDA_LAUNCHED("attention_dense");
}

// ---------------------------------------------------------------------------------------------
// attention_local

constexpr int kLocalWarps = 4;  // (row, head) pairs per block, one warp each

__device__ __forceinline__ float tanh_f32(float x) { return static_cast<float>(tanh(static_cast<double>(x))); }
__device__ __forceinline__ float exp_f32(float x) { return static_cast<float>(exp(static_cast<double>(x))); }

// The CPU backend's loop for one (row t, head h), with its order of f32 operations: each logit from two
// dot products summed in dimension order (content and position terms apart, then added), capped; the
// exponentials' sum in distance order; the output summed in distance order from 0. tanh and exp are
// taken in double and rounded once (within an ulp of glibc's tanhf and expf).
__global__ void __launch_bounds__(kLocalWarps * 32) attention_local_kernel(
    const float* q, int64_t ldq, const float* k, int64_t ldk, const float* v, int64_t ldv, const float* rel,
    int64_t ldr, float* out, int64_t ldo, int64_t T, int64_t heads, int64_t head_dim, int64_t window, float cap) {
    extern __shared__ float logits_all[];  // [kLocalWarps][window]
    const int warp = threadIdx.x >> 5, lane = threadIdx.x & 31;
    const int64_t pair = static_cast<int64_t>(blockIdx.x) * kLocalWarps + warp;
    if (pair >= T * heads) return;  // a whole warp leaves; the kernel has no block-wide barrier
    const int64_t t = pair / heads, off = (pair % heads) * head_dim;
    float* logit = logits_all + warp * window;
    const int64_t n = window < t + 1 ? window : t + 1;  // distances 0..n-1

    const float* qt = q + t * ldq + off;
    for (int64_t d = lane; d < n; d += 32) {
        const float* ks = k + (t - d) * ldk + off;
        const float* rd = rel + d * ldr + off;
        float ac = 0.0f, bd = 0.0f;
        for (int64_t i = 0; i < head_dim; ++i) {
            const float qi = qt[i];
            ac = __fadd_rn(ac, __fmul_rn(qi, ks[i]));
            bd = __fadd_rn(bd, __fmul_rn(qi, rd[i]));
        }
        logit[d] = __fmul_rn(cap, tanh_f32(__fdiv_rn(__fadd_rn(ac, bd), cap)));
    }
    __syncwarp();
    float top = -INFINITY;
    for (int64_t d = 0; d < n; ++d) top = top < logit[d] ? logit[d] : top;  // std::max(top, l)
    __syncwarp();  // every lane has its maximum before the logits are overwritten
    for (int64_t d = lane; d < n; d += 32) logit[d] = exp_f32(__fsub_rn(logit[d], top));
    __syncwarp();
    float sum = 0.0f;
    for (int64_t d = 0; d < n; ++d) sum = __fadd_rn(sum, logit[d]);
    for (int64_t c = lane; c < head_dim; c += 32) {
        float acc = 0.0f;
        for (int64_t d = 0; d < n; ++d)
            acc = __fadd_rn(acc, __fmul_rn(__fdiv_rn(logit[d], sum), v[(t - d) * ldv + off + c]));
        out[t * ldo + off + c] = acc;
    }
}

bool same_data(const Mat& out, const Mat& a) { return out.data == a.data; }

}  // namespace

void attention_dense(const Mat& q, const Mat& k, const Mat& v, int64_t heads, int64_t head_dim, float scale,
                     const Mat& out, cudaStream_t s) {
    const int64_t width = heads * head_dim;
    if (heads <= 0 || head_dim <= 0 || q.cols != width || k.cols != width || v.cols != width || k.rows != v.rows ||
        out.rows != q.rows || out.cols != width)
        throw Error("cuda attention_dense: shapes do not fit");
    if (!(scale > 0.0f)) throw Error("cuda attention_dense: the scale must be positive");
    if (q.rows == 0) return;
    if (k.rows == 0) throw Error("cuda attention_dense: no keys");
    if (same_data(out, q) || same_data(out, k) || same_data(out, v))
        throw Error("cuda attention_dense: the output may not alias q, k or v");
    if (heads > 65535) throw Error("cuda attention_dense: more than 65535 heads");
    // The accumulators of 4 rows x head_dim/8 columns per thread stay in registers up to 128 columns
    // (the towers use 64 and 72). Each width gets the smallest instantiation that holds it; the
    // padding columns are zeros.
    const int h = static_cast<int>(head_dim);
    const int dc = (h + 7) / 8;
    if (head_dim > 128) throw Error("cuda attention_dense: head size " + std::to_string(head_dim) + " is over 128");
    if (dc <= 2) return launch_dense<2>(q, k, v, heads, h, scale, out, s);
    if (dc <= 4) return launch_dense<4>(q, k, v, heads, h, scale, out, s);
    if (dc <= 6) return launch_dense<6>(q, k, v, heads, h, scale, out, s);
    if (dc <= 8) return launch_dense<8>(q, k, v, heads, h, scale, out, s);
    if (dc <= 9) return launch_dense<9>(q, k, v, heads, h, scale, out, s);
    if (dc <= 10) return launch_dense<10>(q, k, v, heads, h, scale, out, s);
    if (dc <= 12) return launch_dense<12>(q, k, v, heads, h, scale, out, s);
    return launch_dense<16>(q, k, v, heads, h, scale, out, s);
}

void attention_local(const Mat& q, const Mat& k, const Mat& v, const Mat& rel, int64_t heads, int64_t head_dim,
                     int64_t window, float cap, const Mat& out, cudaStream_t s) {
    const int64_t T = q.rows, width = heads * head_dim;
    if (heads <= 0 || head_dim <= 0 || window <= 0 || !(cap > 0.0f))
        throw Error("cuda attention_local: heads, head size, window and cap must be positive");
    if (q.cols != width || k.rows != T || k.cols != width || v.rows != T || v.cols != width || out.rows != T ||
        out.cols != width || rel.rows != window || rel.cols != width)
        throw Error("cuda attention_local: shapes do not fit");
    if (same_data(out, q) || same_data(out, k) || same_data(out, v))
        throw Error("cuda attention_local: the output may not alias q, k or v");
    if (T == 0) return;
    const size_t bytes = sizeof(float) * static_cast<size_t>(kLocalWarps) * static_cast<size_t>(window);
    if (bytes > 48 * 1024) throw Error("cuda attention_local: window " + std::to_string(window) + " is too large");
    const int64_t blocks = (T * heads + kLocalWarps - 1) / kLocalWarps;
    if (blocks > 0x7fffffff) throw Error("cuda attention_local: too many rows");
    attention_local_kernel<<<static_cast<unsigned>(blocks), kLocalWarps * 32, bytes, s>>>(
        q.data, q.ld, k.data, k.ld, v.data, v.ld, rel.data, rel.ld, out.data, out.ld, T, heads, head_dim, window, cap);
    GD_CUDA_LAUNCHED("attention_local");
}

}  // namespace gd::cuda
