// The mixture-of-experts ops of the CUDA backend (spec §2.9): the router's top-k on the device, and the
// expert pass for a decode step (few tokens), where each (token, slot) pair reads only the rows of its
// own expert. The prefill path (many tokens) groups tokens by expert on the host and runs whole matrix
// products instead (cuda_backend.cpp).
//
// Both ops follow the CPU backend step by step (backend/moe_routing.cpp, backend/cpu/cpu_moe.cpp):
// - moe_route sums and ranks exactly as route_experts does (the softmax in double, the denominators
//   summed in the same order by one thread), so the chosen experts are the same and the weights differ
//   only where CUDA's double exp differs from glibc's by an ulp, far below f32 rounding.
// - moe_experts_few rounds every product and sum on its own (__fmul_rn / __fadd_rn) where the CPU does
//   plain f32 arithmetic, because nvcc would otherwise fuse a*b + c into an FMA, which the x86-64
//   baseline build of the CPU backend never does. The dot products themselves sum in another order than
//   the CPU's kernels, so expert outputs agree to f32 accumulation error, not bit for bit.
// Nothing here uses floating-point atomics: every sum has a fixed order, so a run repeats exactly.
#include <cmath>
#include <cstdint>
#include <string>

#include "backend/cuda/cuda_kernels.h"
#include "backend/cuda/cuda_quant_dot.cuh"
#include "common/error.h"

namespace gd::cuda {
namespace {

// ---------------------------------------------------------------------------------------------------
// Router

constexpr int kRouteThreads = 128;
// The router keeps E probabilities (double) and the k chosen ids in shared memory; 2048 experts
// (16 KiB + 8 KiB) stays well inside the 48 KiB a block gets without opting in. Gemma 4 has 128.
constexpr int64_t kRouteMaxExperts = 2048;

// One block per token. Steps and their order are route_experts' (moe_routing.cpp):
//   mx = max logit; p[e] = exp(double(lg[e] - mx)) (the difference in f32, as the CPU computes it);
//   sum = Σ_e p[e] in ascending e; p[e] /= sum; the top k by (p desc, id asc);
//   top = Σ_j p[sel[j]] in rank order; weight_j = float(p[sel[j]] / top) * expert_scale[sel[j]].
__global__ void __launch_bounds__(kRouteThreads)
moe_route_kernel(const float* logits, int64_t ld_logits, int E, int k, const float* expert_scale, float* routing,
                 int64_t ld_routing) {
    extern __shared__ double s_prob[];                   // [E], then k ints
    int* s_sel = reinterpret_cast<int*>(s_prob + E);     // s_sel[rank] = expert
    __shared__ float s_warp_max[kRouteThreads / 32];
    __shared__ double s_sum, s_top;

    const int tid = threadIdx.x;
    const float* lg = logits + static_cast<int64_t>(blockIdx.x) * ld_logits;
    float* out = routing + static_cast<int64_t>(blockIdx.x) * ld_routing;

    // The maximum is exact in any order, so a tree reduction gives the CPU's value.
    float m = -INFINITY;
    for (int e = tid; e < E; e += kRouteThreads) m = fmaxf(m, lg[e]);
    for (int off = 16; off > 0; off >>= 1) m = fmaxf(m, __shfl_xor_sync(0xffffffffu, m, off));
    if ((tid & 31) == 0) s_warp_max[tid >> 5] = m;
    for (int j = tid; j < k; j += kRouteThreads) s_sel[j] = -1;  // a hole stays -1 only for NaN logits
    __syncthreads();
    float mx = s_warp_max[0];
    for (int w = 1; w < kRouteThreads / 32; ++w) mx = fmaxf(mx, s_warp_max[w]);

    for (int e = tid; e < E; e += kRouteThreads) s_prob[e] = exp(static_cast<double>(__fsub_rn(lg[e], mx)));
    __syncthreads();
    // The denominator in the CPU's order (ascending e), by one thread: E is small (128), and a
    // different association would move the weights by an ulp of double for no gain.
    if (tid == 0) {
        double sum = 0;
        for (int e = 0; e < E; ++e) sum += s_prob[e];
        s_sum = sum;
    }
    __syncthreads();
    const double sum = s_sum;
    for (int e = tid; e < E; e += kRouteThreads) s_prob[e] = s_prob[e] / sum;  // each thread its own e
    __syncthreads();

    // Rank of e = how many experts come before it in the order (p desc, id asc). That order is strict
    // and total, so the ranks 0..k-1 go to exactly k distinct experts, with no sorting network and no
    // barrier inside the loop. E * E / 128 comparisons: 128 per thread for E = 128.
    for (int e = tid; e < E; e += kRouteThreads) {
        const double p = s_prob[e];
        int rank = 0;
        for (int o = 0; o < E; ++o) {
            const double q = s_prob[o];  // the same address for the whole warp: a broadcast
            rank += (q > p || (q == p && o < e)) ? 1 : 0;
        }
        if (rank < k) s_sel[rank] = e;
    }
    __syncthreads();
    if (tid == 0) {
        double top = 0;
        for (int j = 0; j < k; ++j) {
            const int e = s_sel[j];
            top += e >= 0 ? s_prob[e] : NAN;
        }
        s_top = top;
    }
    __syncthreads();
    const double top = s_top;
    for (int j = tid; j < k; j += kRouteThreads) {
        const int e = s_sel[j];
        if (e < 0) {  // only reachable with NaN logits, for which the CPU's result is no better defined
            out[j] = NAN;
            out[k + j] = NAN;
            continue;
        }
        out[j] = static_cast<float>(e);  // exact: e < 2^24
        out[k + j] = __fmul_rn(static_cast<float>(s_prob[e] / top), expert_scale[e]);
    }
}

// ---------------------------------------------------------------------------------------------------
// Experts for few tokens

constexpr int kWarpsPerBlock = 8;
constexpr int kExpertThreads = kWarpsPerBlock * 32;

// gelu with the tanh approximation, term by term as the CPU's
//   0.5f * x * (1.0f + std::tanh(kSqrt2OverPi * (x + 0.044715f * x * x * x)))
// evaluates it (products left to right, each rounded). tanh is taken in double and rounded once:
// the correctly rounded f32 in all but half-way cases, as the CPU's tanhf is within an ulp of.
__device__ __forceinline__ float gelu_tanh_f32(float x) {
    constexpr float kSqrt2OverPi = 0.7978845608028654f;
    const float cube = __fmul_rn(__fmul_rn(__fmul_rn(0.044715f, x), x), x);
    const float inner = __fmul_rn(kSqrt2OverPi, __fadd_rn(x, cube));
    const float th = static_cast<float>(tanh(static_cast<double>(inner)));
    return __fmul_rn(__fmul_rn(0.5f, x), __fadd_rn(1.0f, th));
}

// The expert of routing column j as an index, or -1 when the stored float is not an integer in
// [0, E) (the CPU throws there; a kernel cannot, so the pair's output becomes NaN and no weight
// outside the tensor is read).
__device__ __forceinline__ int64_t expert_of(const float* routing_row, int64_t j, int64_t E) {
    const float f = routing_row[j];
    if (!(f >= 0.0f && f < static_cast<float>(E)) || f != floorf(f)) return -1;
    return static_cast<int64_t>(f);
}

// h[p, i] = gelu(gate_e · x_t) * (up_e · x_t) for pair p = t*k + j (e = its expert) and i < I.
// Grid: x over blocks of kWarpsPerBlock rows i, y over the pairs; one warp per (pair, i) reads the
// gate row i and the up row I + i of expert e only.
template <DType TG>
__global__ void __launch_bounds__(kExpertThreads)
moe_gate_up_kernel(const float* x, int64_t ld_x, const float* routing, int64_t ld_routing, int64_t k,
                   const uint8_t* gate_up, int64_t E, int64_t I, int64_t H, size_t row_bytes, float* h,
                   int64_t ld_h) {
    const int64_t i = static_cast<int64_t>(blockIdx.x) * kWarpsPerBlock + (threadIdx.x >> 5);
    if (i >= I) return;  // warp-uniform: a warp never splits, and this kernel has no block barrier
    const int64_t p = blockIdx.y, t = p / k, j = p % k;
    const int64_t e = expert_of(routing + t * ld_routing, j, E);
    float result = NAN;
    if (e >= 0) {
        const uint8_t* expert = gate_up + static_cast<size_t>(e) * static_cast<size_t>(2 * I) * row_bytes;
        const float* xt = x + t * ld_x;
        const float g = warp_row_dot<TG>(expert + static_cast<size_t>(i) * row_bytes, xt, H);
        const float u = warp_row_dot<TG>(expert + static_cast<size_t>(I + i) * row_bytes, xt, H);
        result = __fmul_rn(gelu_tanh_f32(g), u);
    }
    if ((threadIdx.x & 31) == 0) h[p * ld_h + i] = result;
}

// out[t, c] = Σ_j w_tj · (down_e(tj) row c · h[t*k + j]) for c < H, the slots summed in slot order
// from 0 (the CPU adds w * y into a zeroed row the same way, in its order of experts). Grid: x over
// blocks of kWarpsPerBlock output columns c, y over tokens; one warp per (t, c) does all k slots, so
// the sum needs neither a scratch buffer nor atomics.
template <DType TD>
__global__ void __launch_bounds__(kExpertThreads)
moe_down_kernel(const float* h, int64_t ld_h, const float* routing, int64_t ld_routing, int64_t k,
                const uint8_t* down, int64_t E, int64_t H, int64_t I, size_t row_bytes, float* out, int64_t ld_out) {
    const int64_t c = static_cast<int64_t>(blockIdx.x) * kWarpsPerBlock + (threadIdx.x >> 5);
    if (c >= H) return;  // warp-uniform, no block barrier
    const int64_t t = blockIdx.y;
    const float* r = routing + t * ld_routing;
    float acc = 0.0f;
    for (int64_t j = 0; j < k; ++j) {
        const int64_t e = expert_of(r, j, E);
        if (e < 0) {
            acc = NAN;
            continue;
        }
        const uint8_t* row = down + (static_cast<size_t>(e) * static_cast<size_t>(H) + static_cast<size_t>(c)) * row_bytes;
        const float y = warp_row_dot<TD>(row, h + (t * k + j) * ld_h, I);
        acc = __fadd_rn(acc, __fmul_rn(r[k + j], y));
    }
    if ((threadIdx.x & 31) == 0) out[t * ld_out + c] = acc;
}

}  // namespace

void moe_route(const Mat& logits, int64_t k, const float* expert_scale, const Mat& routing, cudaStream_t s) {
    const int64_t T = logits.rows, E = logits.cols;
    if (routing.rows != T || routing.cols != 2 * k || k <= 0 || k > E) {
        throw Error("moe_route: shapes do not fit (" + std::to_string(T) + " x " + std::to_string(E) + " logits, top " +
                    std::to_string(k) + ", routing " + std::to_string(routing.rows) + " x " +
                    std::to_string(routing.cols) + ")");
    }
    if (E > kRouteMaxExperts) {
        throw Error("moe_route: " + std::to_string(E) + " experts; the GPU router takes at most " +
                    std::to_string(kRouteMaxExperts));
    }
    if (T == 0) return;
    if (T > 0x7fffffff) throw Error("moe_route: too many tokens for one launch");
    const size_t shared = static_cast<size_t>(E) * sizeof(double) + static_cast<size_t>(k) * sizeof(int);
    moe_route_kernel<<<static_cast<unsigned>(T), kRouteThreads, shared, s>>>(
        logits.data, logits.ld, static_cast<int>(E), static_cast<int>(k), expert_scale, routing.data, routing.ld);
    GD_CUDA_LAUNCHED("moe_route_kernel");
}

void moe_experts_few(const Mat& x, const Mat& routing, int64_t k, const WeightView& gate_up, const WeightView& down,
                     const Mat& out, cudaStream_t s) {
    const int64_t T = x.rows, H = x.cols, I = gate_up.rows / 2, E = gate_up.experts;
    if (gate_up.rows % 2 || gate_up.cols != H || down.cols != I || down.rows != out.cols || down.experts != E ||
        out.rows != T || routing.rows != T || routing.cols != 2 * k || k < 0) {
        throw Error("moe_experts: shapes do not fit");
    }
    // Pairs run on grid y (at most 65535); decode has T * k = 8 * 8.
    if (T * k > 65535 || T > 65535) throw Error("moe_experts: too many (token, expert) pairs for the few-token path");
    if (T == 0 || H == 0) return;
    if (k == 0 || I == 0) {  // no expert contributes: the sum is empty
        GD_CUDA(cudaMemset2DAsync(out.data, static_cast<size_t>(out.ld) * sizeof(float), 0,
                                  static_cast<size_t>(out.cols) * sizeof(float), static_cast<size_t>(T), s));
        return;
    }

    if (!weight_rows_aligned(gate_up.type, gate_up.data, gate_up.row_bytes) ||
        !weight_rows_aligned(down.type, down.data, down.row_bytes)) {
        throw Error("moe_experts: expert weights are not aligned for the GPU dot products");
    }

    // h for every pair, rows padded to 32 floats so each starts 128-byte aligned (the dot product
    // reads x as float4 where it can). x itself is read in place: warp_row_dot takes any alignment.
    const int64_t ld_h = (I + 31) / 32 * 32;
    DeviceBuffer h(static_cast<size_t>(T * k * ld_h) * sizeof(float), s);

    const dim3 grid_gu(static_cast<unsigned>((I + kWarpsPerBlock - 1) / kWarpsPerBlock), static_cast<unsigned>(T * k));
    GD_CUDA_DISPATCH_WEIGHT_TYPE(gate_up.type, TG,
        moe_gate_up_kernel<TG><<<grid_gu, kExpertThreads, 0, s>>>(x.data, x.ld, routing.data, routing.ld, k,
                                                                  gate_up.data, E, I, H, gate_up.row_bytes,
                                                                  h.get<float>(), ld_h))
    GD_CUDA_LAUNCHED("moe_gate_up_kernel");

    // The down weight may be stored in another type than gate_up (GGUF mixes often do).
    const dim3 grid_down(static_cast<unsigned>((H + kWarpsPerBlock - 1) / kWarpsPerBlock), static_cast<unsigned>(T));
    GD_CUDA_DISPATCH_WEIGHT_TYPE(down.type, TD,
        moe_down_kernel<TD><<<grid_down, kExpertThreads, 0, s>>>(h.get<float>(), ld_h, routing.data, routing.ld, k,
                                                                 down.data, E, H, I, down.row_bytes, out.data, out.ld))
    GD_CUDA_LAUNCHED("moe_down_kernel");
}

}  // namespace gd::cuda
