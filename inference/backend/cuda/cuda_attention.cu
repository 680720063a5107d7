// The text decoder's attention over its KV cache on the GPU: kv_store and attention of
// cuda_kernels.h, with the CPU backend's semantics (backend/cpu/cpu_attention.cpp):
//
//   query row t is at position i = first_position + t and sees the keys lo(i) <= j <= hi(i), where
//   lo(i) = max(0, i - window + 1) for sliding layers (0 for full ones) and hi(i) = i, or end - 1 when
//   i lies in a bidirectional block [first, end) (the later block wins, as in the CPU loop). Keys are
//   read from slot j (full caches) or j % capacity (rings). Query head h reads KV head h / group.
//
// The visible keys of a row are one contiguous range of positions, so no kernel needs a per-key
// mask beyond "lo <= j <= hi"; lo and hi both grow with i, which bounds a tile of rows by the range
// [lo(first row), hi(last row)].
//
// Two kernels, both f32 throughout with expf (no fast math; results match the CPU to f32 rounding):
//  * decode (T <= kDecodeMaxRows): flash-decoding. The visible range of each row is cut into chunks
//    of `chunk_len` keys, one block per (chunk, KV head [, sub-group of its query heads], row); the
//    query heads of a GQA group share every K/V read. Each block leaves a partial (max, sum,
//    unnormalised weighted V) per query head; a second kernel combines them. The grid depends on the
//    cache capacity, not on the current length, so decode steps keep one launch shape (CUDA graphs);
//    chunks past a row's range exit at once and the combine kernel never reads them.
//  * prefill: flash attention. A block takes 32 query rows (16 on GPUs with less shared memory) of
//    one query head, walks the keys of their range in tiles of 32 held in shared memory, and keeps
//    an online softmax per row in registers.
#include <cmath>
#include <string>

#include "backend/cuda/cuda_kernels.h"
#include "common/error.h"

namespace gd::cuda {
namespace {

constexpr int kMaxHeadDim = 512;
// The kernels declare __launch_bounds__(threads, 1): with the thread count alone, CUDA 13's ptxas
// capped registers (128 for prefill, 32-40 for decode) and spilled to local memory; with a minimum
// of one block per SM none spills (occupancy is bounded by shared memory anyway).
constexpr unsigned kFullMask = 0xffffffffu;

// Everything a kernel needs to know about one attention call, passed by value.
struct AttnArgs {
    const float* q = nullptr;
    int64_t ldq = 0;
    const float* k = nullptr;
    const float* v = nullptr;
    int64_t ldkv = 0;
    float* out = nullptr;
    int64_t ldo = 0;
    int64_t capacity = 0;
    int64_t window = 0;
    int64_t first_position = 0;
    const int64_t* pos_offset = nullptr;  // when set, added to first_position (replayed CUDA graphs)
    const int64_t* blocks = nullptr;  // n_blocks (first, end) pairs
    int n_blocks = 0;
    int ring = 0;
    int T = 0, q_heads = 0, group = 0, head_dim = 0;
    float scale = 1.0f;
};

__device__ __forceinline__ int64_t min64(int64_t a, int64_t b) { return a < b ? a : b; }
__device__ __forceinline__ int64_t max64(int64_t a, int64_t b) { return a > b ? a : b; }

// Positions and capacities stay below 2^31 (checked on the host), so the ring's modulo can be a
// 32-bit one: a 64-bit % is a called subroutine that costs registers and stack in the hot loops.
__device__ __forceinline__ int64_t slot_of(const AttnArgs& a, int64_t pos) {
    return a.ring ? static_cast<int64_t>(static_cast<uint32_t>(pos) % static_cast<uint32_t>(a.capacity)) : pos;
}

// First visible key of the query at position i.
__device__ __forceinline__ int64_t first_key(const AttnArgs& a, int64_t i) {
    return a.window > 0 ? max64(0, i - a.window + 1) : 0;
}

// Last visible key of the query at position i: itself, or the end of its bidirectional block.
__device__ int64_t last_key(const AttnArgs& a, int64_t i) {
    int64_t hi = i;
    for (int b = 0; b < a.n_blocks; ++b) {
        const int64_t first = a.blocks[2 * b], end = a.blocks[2 * b + 1];
        if (first <= i && i < end) hi = end - 1;
    }
    // Keys past this call's rows are not stored yet; the host checks blocks against the rows, and
    // this clamp keeps a malformed block from reading beyond the cache all the same.
    return max64(i, min64(hi, a.first_position + a.T - 1));
}

__device__ __forceinline__ float warp_max(float x) {
#pragma unroll
    for (int o = 16; o > 0; o >>= 1) x = fmaxf(x, __shfl_xor_sync(kFullMask, x, o));
    return x;
}

// Butterfly sum: every lane ends with the same bits (each step adds the same two values).
__device__ __forceinline__ float warp_sum(float x) {
#pragma unroll
    for (int o = 16; o > 0; o >>= 1) x += __shfl_xor_sync(kFullMask, x, o);
    return x;
}

// ---------------------------------------------------------------------------------------------
// kv_store: one block per (row, K or V); threads stride over the row.

__global__ void kv_store_kernel(KvView c, const float* k, int64_t ldk, const float* v, int64_t ldv,
                                int64_t first_position, const int64_t* pos_offset, int64_t width) {
    const int64_t t = blockIdx.x;
    if (pos_offset) first_position += *pos_offset;
    const int64_t pos = first_position + t;
    const int64_t slot = c.ring ? static_cast<int64_t>(static_cast<uint32_t>(pos) % static_cast<uint32_t>(c.capacity)) : pos;
    const bool is_k = blockIdx.y == 0;
    const float* src = is_k ? k + t * ldk : v + t * ldv;
    float* dst = (is_k ? c.k : c.v) + slot * c.ld;
    for (int64_t col = threadIdx.x; col < width; col += blockDim.x) dst[col] = src[col];
}

// ---------------------------------------------------------------------------------------------
// Decode.

constexpr int kDecodeMaxRows = 4;     // more query rows go through the prefill kernel
constexpr int kDecodeThreads = 128;   // 4 warps
constexpr int kDecodeWarps = kDecodeThreads / 32;
constexpr int kDecodeTile = 64;       // keys scored per pass (2 per lane in the softmax step)
constexpr int kDecodeTargetBlocks = 512;  // blocks over a full cache: enough to fill the GPU
constexpr int kCombineThreads = 128;

// One block: query row t (blockIdx.z), KV head and sub-group of its query heads (blockIdx.y), chunk
// c (blockIdx.x) of keys [lo + c*chunk_len, ..) ∩ [lo, hi]. GB query heads share each K/V read.
// DMAX bounds head_dim (a multiple of 64 up to 512).
template <int DMAX, int GB>
__global__ void __launch_bounds__(kDecodeThreads, 1)
    decode_partial_kernel(AttnArgs a, int sub_groups, int64_t chunk_len, int n_chunks, float2* part_ml,
                          float* part_acc) {
    if (a.pos_offset) a.first_position += *a.pos_offset;  // a replayed CUDA graph's step
    constexpr int NPL = DMAX / 32;                                      // elements per lane (scores)
    constexpr int NPT = (DMAX + kDecodeThreads - 1) / kDecodeThreads;  // elements per thread (V)
    __shared__ float sQ[GB][DMAX];
    __shared__ float sS[GB][kDecodeTile];
    __shared__ float sM[GB], sL[GB], sAlpha[GB];

    const int c = blockIdx.x;
    const int kvh = blockIdx.y / sub_groups;
    const int g0 = (blockIdx.y % sub_groups) * GB;  // first query head of this block within the group
    const int t = blockIdx.z;
    const int64_t i = a.first_position + t;
    const int64_t lo = first_key(a, i), hi = last_key(a, i);
    const int64_t cs = lo + static_cast<int64_t>(c) * chunk_len;
    // Past the row's range: the whole block leaves before any barrier; the combine kernel only reads
    // chunks that start inside the range, so nothing needs writing.
    if (cs > hi) return;
    const int64_t ce = min64(cs + chunk_len, hi + 1);
    const int gact = min(GB, a.group - g0);  // heads of this sub-group that exist
    const int D = a.head_dim;
    const int tid = threadIdx.x, lane = tid & 31, warp = tid >> 5;
    const int64_t head0 = static_cast<int64_t>(kvh) * a.group + g0;  // query head of g = 0
    const int64_t kv_off = static_cast<int64_t>(kvh) * D;

    // Missing heads and the columns past head_dim read as zeros, so their scores stay finite.
    for (int x = tid; x < GB * DMAX; x += kDecodeThreads) {
        const int g = x / DMAX, d = x % DMAX;
        sQ[g][d] = (g < gact && d < D) ? a.q[t * a.ldq + (head0 + g) * D + d] : 0.0f;
    }
    if (tid < GB) {
        sM[tid] = -INFINITY;
        sL[tid] = 0.0f;
    }
    float acc[GB][NPT];
#pragma unroll
    for (int g = 0; g < GB; ++g)
#pragma unroll
        for (int e = 0; e < NPT; ++e) acc[g][e] = 0.0f;
    __syncthreads();

    for (int64_t ts = cs; ts < ce; ts += kDecodeTile) {
        const int nk = static_cast<int>(min64(kDecodeTile, ce - ts));
        // Scores: a warp per key, lanes over head_dim; GB dot products per K read.
        for (int jj = warp; jj < kDecodeTile; jj += kDecodeWarps) {
            if (jj < nk) {  // warp-uniform: the shuffles below see the whole warp
                const float* kr = a.k + slot_of(a, ts + jj) * a.ldkv + kv_off;
                float kv[NPL];
#pragma unroll
                for (int e = 0; e < NPL; ++e) {
                    const int d = lane + 32 * e;
                    kv[e] = d < D ? kr[d] : 0.0f;
                }
#pragma unroll
                for (int g = 0; g < GB; ++g) {
                    float s = 0.0f;
#pragma unroll
                    for (int e = 0; e < NPL; ++e) s = fmaf(sQ[g][lane + 32 * e], kv[e], s);
                    s = warp_sum(s);
                    if (lane == g) sS[g][jj] = s * a.scale;
                }
            } else if (lane < GB) {
                sS[lane][jj] = -INFINITY;  // past the chunk: weight 0
            }
        }
        __syncthreads();
        // Online softmax per head: a warp per head; the tile's scores become weights in place.
        for (int g = warp; g < GB; g += kDecodeWarps) {
            const float s0 = sS[g][lane], s1 = sS[g][lane + 32];
            const float m_old = sM[g];
            const float m_new = fmaxf(m_old, warp_max(fmaxf(s0, s1)));
            // A tile always holds one visible key, so m_new is finite; the guard keeps -inf - -inf
            // (NaN) out should that ever change.
            const float m_use = m_new == -INFINITY ? 0.0f : m_new;
            const float p0 = expf(s0 - m_use), p1 = expf(s1 - m_use);
            sS[g][lane] = p0;
            sS[g][lane + 32] = p1;
            const float sum = warp_sum(p0 + p1);
            // Every lane has read sM[g] above; make that ordering explicit before lane 0 rewrites it
            // (shuffles synchronise the lanes but are not memory fences; racecheck flags it).
            __syncwarp();
            if (lane == 0) {
                const float alpha = expf(m_old - m_use);
                sAlpha[g] = alpha;
                sL[g] = sL[g] * alpha + sum;
                sM[g] = m_new;
            }
        }
        __syncthreads();
        // Weighted V: each thread owns head_dim columns tid + 128e for all GB heads; a V row is
        // read once (coalesced) for the whole group.
#pragma unroll
        for (int g = 0; g < GB; ++g) {
            const float alpha = sAlpha[g];
#pragma unroll
            for (int e = 0; e < NPT; ++e) acc[g][e] *= alpha;
        }
#pragma unroll 2
        for (int jj = 0; jj < nk; ++jj) {
            const float* vr = a.v + slot_of(a, ts + jj) * a.ldkv + kv_off;
            float vv[NPT];
#pragma unroll
            for (int e = 0; e < NPT; ++e) {
                const int d = tid + kDecodeThreads * e;
                vv[e] = d < D ? vr[d] : 0.0f;
            }
#pragma unroll
            for (int g = 0; g < GB; ++g) {
                const float p = sS[g][jj];
#pragma unroll
                for (int e = 0; e < NPT; ++e) acc[g][e] = fmaf(p, vv[e], acc[g][e]);
            }
        }
        __syncthreads();  // the next tile rewrites sS and sAlpha
    }

    // Partials of head h, row t, chunk c at index (t * q_heads + h) * n_chunks + c. sM/sL were
    // written before the loop's last barrier.
#pragma unroll
    for (int g = 0; g < GB; ++g) {
        if (g < gact) {
            const int64_t idx = (static_cast<int64_t>(t) * a.q_heads + head0 + g) * n_chunks + c;
#pragma unroll
            for (int e = 0; e < NPT; ++e) {
                const int d = tid + kDecodeThreads * e;
                if (d < D) part_acc[idx * D + d] = acc[g][e];
            }
            if (tid == 0) part_ml[idx] = make_float2(sM[g], sL[g]);
        }
    }
}

// One block per (query head, row): rescales the chunks' partials to their common max and divides by
// the total weight. NPT: head_dim columns per thread.
template <int NPT>
__global__ void __launch_bounds__(kCombineThreads, 1)
    decode_combine_kernel(AttnArgs a, int64_t chunk_len, int n_chunks, const float2* part_ml,
                          const float* part_acc) {
    if (a.pos_offset) a.first_position += *a.pos_offset;
    __shared__ float sW[kCombineThreads], sLW[kCombineThreads];
    __shared__ float sRed[kCombineThreads / 32];
    const int h = blockIdx.x, t = blockIdx.y;
    const int tid = threadIdx.x, lane = tid & 31, warp = tid >> 5;
    const int D = a.head_dim;
    const int64_t i = a.first_position + t;
    const int64_t n = last_key(a, i) - first_key(a, i) + 1;
    // The chunks the partial kernel wrote: those starting inside [lo, hi] (the same arithmetic).
    const int nact = static_cast<int>(min64((n + chunk_len - 1) / chunk_len, n_chunks));
    const int64_t base = (static_cast<int64_t>(t) * a.q_heads + h) * n_chunks;

    float m = -INFINITY;
    for (int c = tid; c < nact; c += kCombineThreads) m = fmaxf(m, part_ml[base + c].x);
    m = warp_max(m);
    if (lane == 0) sRed[warp] = m;
    __syncthreads();
    float M = sRed[0];
#pragma unroll
    for (int w = 1; w < kCombineThreads / 32; ++w) M = fmaxf(M, sRed[w]);

    float acc[NPT];
#pragma unroll
    for (int e = 0; e < NPT; ++e) acc[e] = 0.0f;
    float total = 0.0f;  // every thread sums the same values in the same order
    for (int c0 = 0; c0 < nact; c0 += kCombineThreads) {
        __syncthreads();  // the previous pass is done reading sW / sLW
        if (c0 + tid < nact) {
            const float2 ml = part_ml[base + c0 + tid];
            const float w = expf(ml.x - M);
            sW[tid] = w;
            sLW[tid] = ml.y * w;
        }
        __syncthreads();
        const int nc = min(kCombineThreads, nact - c0);
        for (int cc = 0; cc < nc; ++cc) {
            const float w = sW[cc];
            total += sLW[cc];
            const float* pa = part_acc + (base + c0 + cc) * D;
#pragma unroll
            for (int e = 0; e < NPT; ++e) {
                const int d = tid + kCombineThreads * e;
                if (d < D) acc[e] = fmaf(w, pa[d], acc[e]);
            }
        }
    }
    float* o = a.out + t * a.ldo + static_cast<int64_t>(h) * D;
#pragma unroll
    for (int e = 0; e < NPT; ++e) {
        const int d = tid + kCombineThreads * e;
        if (d < D) o[d] = acc[e] / total;
    }
}

// ---------------------------------------------------------------------------------------------
// Prefill.

constexpr int kRowsPerWarp = 4;   // query rows a warp scores per K read
constexpr int kPrefillKeys = 32;  // keys per tile: lane = key when scoring

// Shared memory (floats): Q [rows][dp], K [32][dp + 4] and V [32][dp + 4], rows = 4 per warp. V
// aliases K when SPLIT is false, and blocks have 4 warps instead of 8, on devices with less shared
// memory (head_dim 512: 193 KB with 8 warps and split tiles, 130 KB shared, 97 KB with 4 warps
// shared — an H100 takes the first, an A100 the second, an sm_86/89 card the third).
// dp = head_dim rounded up to 8 and zero-padded. The K row stride dp + 4 = 4 * odd makes the
// lane-per-key float4 reads hit distinct banks in each quarter warp; Q reads are broadcasts, V reads
// are consecutive.
inline int64_t padded_dim(int64_t d) { return (d + 7) / 8 * 8; }
inline size_t prefill_smem_bytes(int64_t dp, bool split, int warps) {
    return sizeof(float) *
           static_cast<size_t>(warps * kRowsPerWarp * dp + (split ? 2 : 1) * kPrefillKeys * (dp + 4));
}

// Rows [ROWS * blockIdx.x, ..) of query head blockIdx.y. Warp w owns rows 4w..4w+3 of the tile: it
// scores them against the tile's 32 keys (lane = key), updates their online softmax, then
// accumulates P·V with lanes over head_dim (columns 128e + 4*lane .. +3). DMAX bounds the padded
// head_dim (a multiple of 64 up to 512).
template <int DMAX, bool SPLIT, int WARPS>
__global__ void __launch_bounds__(WARPS * 32, 1)
    prefill_kernel(AttnArgs a, int dp) {
    if (a.pos_offset) a.first_position += *a.pos_offset;
    constexpr int R = kRowsPerWarp;
    constexpr int kPrefillWarps = WARPS;
    constexpr int kPrefillRows = WARPS * R;
    constexpr int E = DMAX >= 128 ? DMAX / 128 : 1;  // float4 column groups per lane in P·V
    extern __shared__ float4 smem4[];
    float* sQ = reinterpret_cast<float*>(smem4);
    const int ks = dp + 4;
    float* sK = sQ + kPrefillRows * dp;
    float* sV = SPLIT ? sK + kPrefillKeys * ks : sK;

    const int tid = threadIdx.x, lane = tid & 31, warp = tid >> 5;
    const int D = a.head_dim;
    const int r0 = blockIdx.x * kPrefillRows;
    const int h = blockIdx.y;
    const int kvh = h / a.group;
    const int64_t kv_off = static_cast<int64_t>(kvh) * D;
    const int rows_here = min(kPrefillRows, a.T - r0);

    // The block's key range: lo of its first row to hi of its last (both grow with the position).
    const int64_t kmin = first_key(a, a.first_position + r0);
    const int64_t kmax = last_key(a, a.first_position + r0 + rows_here - 1);

    // Q tile, zero past the rows and past head_dim (padding adds nothing to the dot products).
    for (int r = warp; r < kPrefillRows; r += kPrefillWarps) {
        const int row = r0 + r;
        const float* src = a.q + static_cast<int64_t>(row) * a.ldq + static_cast<int64_t>(h) * D;
        for (int d = lane; d < dp; d += 32) sQ[r * dp + d] = (row < a.T && d < D) ? src[d] : 0.0f;
    }

    // This warp's rows: visible range [lo, hi]; rows past T get an empty range.
    int64_t lo[R], hi[R];
#pragma unroll
    for (int r = 0; r < R; ++r) {
        const int row = r0 + warp * R + r;
        if (row < a.T) {
            const int64_t i = a.first_position + row;
            lo[r] = first_key(a, i);
            hi[r] = last_key(a, i);
        } else {
            lo[r] = 1;
            hi[r] = 0;
        }
    }
    const bool warp_has_rows = warp * R < rows_here;
    const int64_t warp_lo = lo[0];  // the first row of the warp is valid whenever warp_has_rows
    int64_t warp_hi = hi[0];
#pragma unroll
    for (int r = 1; r < R; ++r) warp_hi = max64(warp_hi, hi[r]);

    float m[R], l[R];
    float4 acc[R][E];
#pragma unroll
    for (int r = 0; r < R; ++r) {
        m[r] = -INFINITY;
        l[r] = 0.0f;
#pragma unroll
        for (int e = 0; e < E; ++e) acc[r][e] = make_float4(0.0f, 0.0f, 0.0f, 0.0f);
    }

    // Copies the cache rows of keys j0 .. j0 + 31 into dst (zeros past kmax: never visible, and
    // their V must not bring garbage into 0 * V).
    auto load_tile = [&](const float* src, float* dst, int64_t j0) {
        for (int jj = warp; jj < kPrefillKeys; jj += kPrefillWarps) {
            const int64_t j = j0 + jj;
            float* row = dst + jj * ks;
            if (j <= kmax) {
                const float* g = src + slot_of(a, j) * a.ldkv + kv_off;
                for (int d = lane; d < dp; d += 32) row[d] = d < D ? g[d] : 0.0f;
            } else {
                for (int d = lane; d < dp; d += 32) row[d] = 0.0f;
            }
        }
    };

    for (int64_t j0 = kmin; j0 <= kmax; j0 += kPrefillKeys) {
        // Block-uniform loop: every thread reaches every barrier below.
        __syncthreads();  // the previous tile's readers are done (also orders the Q tile on pass 1)
        load_tile(a.k, sK, j0);
        if (SPLIT) load_tile(a.v, sV, j0);
        __syncthreads();

        // A warp whose rows see none of this tile skips the work (a fully masked tile for it).
        const bool active = warp_has_rows && j0 <= warp_hi && j0 + kPrefillKeys - 1 >= warp_lo;
        float p[R];
        if (active) {
            float s[R];
#pragma unroll
            for (int r = 0; r < R; ++r) s[r] = 0.0f;
            const float* kp = sK + lane * ks;
            const float* qp = sQ + warp * R * dp;
#pragma unroll 4
            for (int d = 0; d < dp; d += 4) {
                const float4 kk = *reinterpret_cast<const float4*>(kp + d);
#pragma unroll
                for (int r = 0; r < R; ++r) {
                    const float4 qq = *reinterpret_cast<const float4*>(qp + r * dp + d);
                    s[r] = fmaf(qq.x, kk.x, s[r]);
                    s[r] = fmaf(qq.y, kk.y, s[r]);
                    s[r] = fmaf(qq.z, kk.z, s[r]);
                    s[r] = fmaf(qq.w, kk.w, s[r]);
                }
            }
            const int64_t j = j0 + lane;
#pragma unroll
            for (int r = 0; r < R; ++r) {
                const float sv = (j >= lo[r] && j <= hi[r]) ? s[r] * a.scale : -INFINITY;
                const float m_new = fmaxf(m[r], warp_max(sv));
                // A row whose range starts past this tile has seen no key yet: keep it at zero
                // weight instead of computing -inf - -inf.
                const float m_use = m_new == -INFINITY ? 0.0f : m_new;
                p[r] = expf(sv - m_use);
                const float alpha = expf(m[r] - m_use);
                l[r] = l[r] * alpha + warp_sum(p[r]);
                m[r] = m_new;
#pragma unroll
                for (int e = 0; e < E; ++e) {
                    acc[r][e].x *= alpha;
                    acc[r][e].y *= alpha;
                    acc[r][e].z *= alpha;
                    acc[r][e].w *= alpha;
                }
            }
        }

        if (!SPLIT) {
            __syncthreads();  // all warps are done with K before V overwrites it
            load_tile(a.v, sV, j0);
            __syncthreads();
        }

        if (active) {
            const int nk = static_cast<int>(min64(kPrefillKeys, kmax - j0 + 1));
            for (int jj = 0; jj < nk; ++jj) {
                float pj[R];
#pragma unroll
                for (int r = 0; r < R; ++r) pj[r] = __shfl_sync(kFullMask, p[r], jj);
                const float* vp = sV + jj * ks;
#pragma unroll
                for (int e = 0; e < E; ++e) {
                    const int d = 128 * e + 4 * lane;
                    if (d < dp) {
                        const float4 vv = *reinterpret_cast<const float4*>(vp + d);
#pragma unroll
                        for (int r = 0; r < R; ++r) {
                            acc[r][e].x = fmaf(pj[r], vv.x, acc[r][e].x);
                            acc[r][e].y = fmaf(pj[r], vv.y, acc[r][e].y);
                            acc[r][e].z = fmaf(pj[r], vv.z, acc[r][e].z);
                            acc[r][e].w = fmaf(pj[r], vv.w, acc[r][e].w);
                        }
                    }
                }
            }
        }
    }

    // Every valid row saw its own key, so l >= 1.
#pragma unroll
    for (int r = 0; r < R; ++r) {
        const int row = r0 + warp * R + r;
        if (row >= a.T) continue;
        float* o = a.out + static_cast<int64_t>(row) * a.ldo + static_cast<int64_t>(h) * D;
        const float inv_l = 1.0f / l[r];
#pragma unroll
        for (int e = 0; e < E; ++e) {
            const int d = 128 * e + 4 * lane;
            const float vals[4] = {acc[r][e].x, acc[r][e].y, acc[r][e].z, acc[r][e].w};
#pragma unroll
            for (int c = 0; c < 4; ++c)
                if (d + c < D) o[d + c] = vals[c] * inv_l;
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Host side.

int dim_bucket(int64_t padded) {
    if (padded <= 64) return 64;
    if (padded <= 128) return 128;
    if (padded <= 256) return 256;
    return 512;
}

int max_dynamic_smem() {
    int device = 0, bytes = 0;
    GD_CUDA(cudaGetDevice(&device));
    GD_CUDA(cudaDeviceGetAttribute(&bytes, cudaDevAttrMaxSharedMemoryPerBlockOptin, device));
    return bytes;
}

template <int DMAX, int GB>
void launch_decode_partial(const AttnArgs& a, dim3 grid, int sub_groups, int64_t chunk_len, int n_chunks,
                           float2* ml, float* acc, cudaStream_t s) {
    decode_partial_kernel<DMAX, GB><<<grid, kDecodeThreads, 0, s>>>(a, sub_groups, chunk_len, n_chunks, ml, acc);
    GD_CUDA_LAUNCHED("attention (decode partials)");
}

template <int DMAX>
void launch_decode_partial_gb(int gb, const AttnArgs& a, dim3 grid, int sub_groups, int64_t chunk_len, int n_chunks,
                              float2* ml, float* acc, cudaStream_t s) {
    switch (gb) {
        case 1: launch_decode_partial<DMAX, 1>(a, grid, sub_groups, chunk_len, n_chunks, ml, acc, s); break;
        case 2: launch_decode_partial<DMAX, 2>(a, grid, sub_groups, chunk_len, n_chunks, ml, acc, s); break;
        case 4: launch_decode_partial<DMAX, 4>(a, grid, sub_groups, chunk_len, n_chunks, ml, acc, s); break;
        default: launch_decode_partial<DMAX, 8>(a, grid, sub_groups, chunk_len, n_chunks, ml, acc, s); break;
    }
}

void attention_decode(const AttnArgs& a, int64_t kv_heads, int dmax, cudaStream_t s) {
    // Query heads per block: the whole group up to 8 (rounded up to a power of two; the extra heads
    // are computed on zeros and dropped), larger groups in sub-groups of 8 (registers: GB x head_dim
    // accumulators spread over the block).
    const int group = a.group;
    int gb = 1;
    while (gb < group && gb < 8) gb *= 2;
    const int sub_groups = (group + gb - 1) / gb;
    const int64_t columns = kv_heads * sub_groups * a.T;  // blocks per chunk index
    // Chunk length from the capacity only (a multiple of the tile): a full cache gives about
    // kDecodeTargetBlocks blocks; the same grid serves every length.
    int64_t chunk_len = (a.capacity * columns + kDecodeTargetBlocks - 1) / kDecodeTargetBlocks;
    chunk_len = (chunk_len + kDecodeTile - 1) / kDecodeTile * kDecodeTile;
    if (chunk_len < kDecodeTile) chunk_len = kDecodeTile;
    const int64_t n_chunks = (a.capacity + chunk_len - 1) / chunk_len;
    if (n_chunks > 0x7fffffff || kv_heads * sub_groups > 65535) throw Error("attention: the KV cache is too large for the decode kernel");

    const int64_t n_part = static_cast<int64_t>(a.T) * a.q_heads * n_chunks;
    DeviceBuffer scratch(static_cast<size_t>(n_part) * (sizeof(float2) + sizeof(float) * static_cast<size_t>(a.head_dim)), s);
    float2* ml = scratch.get<float2>();
    float* acc = reinterpret_cast<float*>(ml + n_part);

    const dim3 grid(static_cast<unsigned>(n_chunks), static_cast<unsigned>(kv_heads * sub_groups),
                    static_cast<unsigned>(a.T));
    const int nc = static_cast<int>(n_chunks);
    switch (dmax) {
        case 64: launch_decode_partial_gb<64>(gb, a, grid, sub_groups, chunk_len, nc, ml, acc, s); break;
        case 128: launch_decode_partial_gb<128>(gb, a, grid, sub_groups, chunk_len, nc, ml, acc, s); break;
        case 256: launch_decode_partial_gb<256>(gb, a, grid, sub_groups, chunk_len, nc, ml, acc, s); break;
        default: launch_decode_partial_gb<512>(gb, a, grid, sub_groups, chunk_len, nc, ml, acc, s); break;
    }
    const dim3 cgrid(static_cast<unsigned>(a.q_heads), static_cast<unsigned>(a.T));
    if (a.head_dim <= kCombineThreads) {
        decode_combine_kernel<1><<<cgrid, kCombineThreads, 0, s>>>(a, chunk_len, nc, ml, acc);
    } else if (a.head_dim <= 2 * kCombineThreads) {
        decode_combine_kernel<2><<<cgrid, kCombineThreads, 0, s>>>(a, chunk_len, nc, ml, acc);
    } else {
        decode_combine_kernel<4><<<cgrid, kCombineThreads, 0, s>>>(a, chunk_len, nc, ml, acc);
    }
    GD_CUDA_LAUNCHED("attention (decode combine)");
    // `scratch` is freed in stream order, after the combine kernel.
}

template <int DMAX, bool SPLIT, int WARPS>
void launch_prefill(const AttnArgs& a, int dp, size_t smem, cudaStream_t s) {
    // Above 48 KB a kernel must ask for its dynamic shared memory (cheap; legal during capture).
    GD_CUDA(cudaFuncSetAttribute(prefill_kernel<DMAX, SPLIT, WARPS>, cudaFuncAttributeMaxDynamicSharedMemorySize,
                                 static_cast<int>(smem)));
    constexpr int rows = WARPS * kRowsPerWarp;
    const dim3 grid(static_cast<unsigned>((a.T + rows - 1) / rows), static_cast<unsigned>(a.q_heads));
    prefill_kernel<DMAX, SPLIT, WARPS><<<grid, WARPS * 32, smem, s>>>(a, dp);
    GD_CUDA_LAUNCHED("attention (prefill)");
}

template <int DMAX>
void launch_prefill_config(bool split, int warps, const AttnArgs& a, int dp, size_t smem, cudaStream_t s) {
    if (warps == 8) {
        if (split) {
            launch_prefill<DMAX, true, 8>(a, dp, smem, s);
        } else {
            launch_prefill<DMAX, false, 8>(a, dp, smem, s);
        }
    } else {
        if (split) {
            launch_prefill<DMAX, true, 4>(a, dp, smem, s);
        } else {
            launch_prefill<DMAX, false, 4>(a, dp, smem, s);
        }
    }
}

void attention_prefill(const AttnArgs& a, int dmax, cudaStream_t s) {
    const int64_t dp = padded_dim(a.head_dim);
    const size_t limit = static_cast<size_t>(max_dynamic_smem());
    // The first configuration that fits the device: 8 warps with separate K and V tiles (most rows
    // per K/V tile, fewest barriers), then one shared K/V tile (two more barriers per tile), then
    // 4 warps (half the Q tile).
    struct Config {
        bool split;
        int warps;
    };
    constexpr Config kConfigs[] = {{true, 8}, {false, 8}, {true, 4}, {false, 4}};
    const Config* pick = nullptr;
    for (const Config& c : kConfigs) {
        if (prefill_smem_bytes(dp, c.split, c.warps) <= limit) {
            pick = &c;
            break;
        }
    }
    if (!pick) {
        throw Error("attention: head_dim " + std::to_string(a.head_dim) + " needs " +
                    std::to_string(prefill_smem_bytes(dp, false, 4)) +
                    " bytes of shared memory for the prefill kernel; this GPU allows " + std::to_string(limit));
    }
    if (a.q_heads > 65535) throw Error("attention: too many heads for the prefill kernel");
    const size_t smem = prefill_smem_bytes(dp, pick->split, pick->warps);
    const int idp = static_cast<int>(dp);
    switch (dmax) {
        case 64: launch_prefill_config<64>(pick->split, pick->warps, a, idp, smem, s); break;
        case 128: launch_prefill_config<128>(pick->split, pick->warps, a, idp, smem, s); break;
        case 256: launch_prefill_config<256>(pick->split, pick->warps, a, idp, smem, s); break;
        default: launch_prefill_config<512>(pick->split, pick->warps, a, idp, smem, s); break;
    }
}

}  // namespace

void kv_store(const KvView& cache, const Mat& k, const Mat& v, int64_t first_position, cudaStream_t s,
              const int64_t* pos_offset) {
    const int64_t width = cache.kv_heads * cache.head_dim;
    if (k.cols != width || v.cols != width || k.rows != v.rows || cache.ld < width) {
        throw Error("kv_store: K/V rows do not fit the cache");
    }
    if (first_position < 0) throw Error("kv_store: negative position");
    if (!cache.ring && first_position + k.rows > cache.capacity) throw Error("kv_store: the KV cache is full");
    if (cache.ring && k.rows > cache.capacity) throw Error("kv_store: chunk longer than the sliding-window ring");
    if (k.rows == 0 || width == 0) return;
    if (first_position + k.rows > 0x7fffffff || cache.capacity > 0x7fffffff) {
        throw Error("kv_store: positions beyond 2^31 are not supported");
    }
    const dim3 grid(static_cast<unsigned>(k.rows), 2);
    kv_store_kernel<<<grid, 256, 0, s>>>(cache, k.data, k.ld, v.data, v.ld, first_position, pos_offset, width);
    GD_CUDA_LAUNCHED("kv_store");
}

void attention(const Mat& q, const KvView& cache, const AttentionShape& p, const int64_t* blocks, int64_t n_blocks,
               const Mat& out, cudaStream_t s) {
    const int64_t d = p.head_dim;
    const int64_t T = q.rows;
    // The CPU backend's checks, in its words.
    if (p.kv_heads <= 0 || p.q_heads <= 0 || p.q_heads % p.kv_heads != 0 || q.cols != p.q_heads * d ||
        out.cols != q.cols || out.rows != q.rows || p.kv_heads != cache.kv_heads || d != cache.head_dim) {
        throw Error("attention: shapes do not fit");
    }
    if (d <= 0 || d > kMaxHeadDim) {
        throw Error("attention: head_dim " + std::to_string(d) + " is not supported by the CUDA kernels (1.." +
                    std::to_string(kMaxHeadDim) + ")");
    }
    if (cache.ring && (p.window <= 0 || p.window > cache.capacity)) throw Error("attention: window larger than the ring");
    if (p.first_position < 0) throw Error("attention: negative position");
    if (!cache.ring && p.first_position + T > cache.capacity) throw Error("attention: positions beyond the KV cache");
    if (cache.ring && n_blocks > 0 && p.window + T - 1 > cache.capacity) {
        throw Error("attention: a bidirectional block needs more of the sliding-window ring than it holds");
    }
    if (n_blocks < 0 || (n_blocks > 0 && blocks == nullptr)) throw Error("attention: blocks missing");
    if (T == 0) return;
    // The kernels keep positions, slots and row counts in 32 bits where they divide.
    if (p.first_position + T > 0x7fffffff || cache.capacity > 0x7fffffff || p.q_heads > 0x7fffffff ||
        n_blocks > 0x7fffffff) {
        throw Error("attention: positions beyond 2^31 are not supported");
    }

    AttnArgs a;
    a.q = q.data;
    a.ldq = q.ld;
    a.k = cache.k;
    a.v = cache.v;
    a.ldkv = cache.ld;
    a.out = out.data;
    a.ldo = out.ld;
    a.capacity = cache.capacity;
    a.window = p.window;
    a.first_position = p.first_position;
    a.pos_offset = p.pos_offset;
    a.blocks = blocks;
    a.n_blocks = static_cast<int>(n_blocks);
    a.ring = cache.ring ? 1 : 0;
    a.T = static_cast<int>(T);
    a.q_heads = static_cast<int>(p.q_heads);
    a.group = static_cast<int>(p.q_heads / p.kv_heads);
    a.head_dim = static_cast<int>(d);
    a.scale = p.scale;

    const int dmax = dim_bucket(padded_dim(d));
    if (T <= kDecodeMaxRows) {
        attention_decode(a, p.kv_heads, dmax, s);
    } else {
        attention_prefill(a, dmax, s);
    }
}

}  // namespace gd::cuda
