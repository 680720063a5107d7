// Token selection on the device: argmax, and the sampler's full rule (sampling/sampler.cpp:
// penalties, temperature, sort, top-k, softmax, top-p, min-p, renormalisation, the pick by a given
// uniform draw), so a decode step reads back one int instead of 262144 logits.
//
// How the CPU's result is reproduced:
// - Penalties and temperature are the same f32 operations, each rounded on its own (__fdiv_rn,
//   __fmul_rn, ...: nvcc would otherwise fuse a*b + c, which the CPU build does not), so the
//   candidate logits are bit-identical.
// - The CPU sorts (logit desc, id asc). Here each logit becomes an order-preserving 32-bit key
//   (-0.0 made +0.0 first, since the CPU's comparison treats them as equal) and CUB's radix sort,
//   which is stable, sorts the keys descending with the ids in ascending order as values: ties keep
//   the lower id first. The order is therefore identical.
// - The softmax, the top-p prefix sums, the renormalisation and the pick's cumulative sum are in
//   double, as on the CPU, but summed in a parallel order, and CUDA's double exp may differ from
//   glibc's by an ulp. The probabilities agree to ~1e-16 relative: the chosen token is the CPU's
//   unless the draw u (or top_p, or min_p * p_max) lies within that of a cumulative boundary.
// Every reduction has a fixed shape (no float atomics), so a run repeats exactly.
#include <cub/cub.cuh>

#include <climits>
#include <cmath>
#include <cstdint>
#include <string>

#include "backend/cuda/cuda_kernels.h"
#include "common/error.h"

namespace gd::cuda {
namespace {

constexpr int kThreads = 256;       // the per-element passes
constexpr int kTailThreads = 1024;  // the one block that walks the sorted candidates
constexpr int kTailItems = 4;       // consecutive candidates per thread in one chunk of a prefix sum

// Logit -> key whose unsigned order is the float order (v is not NaN). Negative floats have their
// bits flipped (larger magnitude = smaller key), non-negative ones get the sign bit set, so every
// value's key is >= key(-inf) = 0x007fffff > 0 and 0 is free to mean "not a candidate".
__device__ __forceinline__ uint32_t order_key(float v) {
    if (v == 0.0f) v = 0.0f;  // -0.0 == +0.0 for the CPU's comparisons: one key for both
    const uint32_t b = __float_as_uint(v);
    return (b & 0x80000000u) ? ~b : (b | 0x80000000u);
}
__device__ __forceinline__ float key_value(uint32_t key) {
    return __uint_as_float((key & 0x80000000u) ? (key & 0x7fffffffu) : ~key);
}

// The penalties of Sampler::candidates for a token seen `count` > 0 times in the window:
//   logit = logit > 0 ? logit / r : logit * r;  logit -= presence + frequency * float(count).
struct Penalties {
    const int* counts = nullptr;  // per token, or null when no penalty applies
    float repetition = 1.0f, presence = 0.0f, frequency = 0.0f;
};
__device__ __forceinline__ float penalized(float v, int count, const Penalties& p) {
    v = v > 0.0f ? __fdiv_rn(v, p.repetition) : __fmul_rn(v, p.repetition);
    return __fsub_rn(v, __fadd_rn(p.presence, __fmul_rn(p.frequency, static_cast<float>(count))));
}

// The candidate value of token i: NaN when it is no candidate (a non-finite logit; or, in the corner
// where a penalty overflowed into inf - inf, a NaN the CPU could not order either).
__device__ __forceinline__ float candidate(const float* logits, int64_t i, const Penalties& p) {
    float v = logits[i];
    if (!isfinite(v)) return NAN;
    if (p.counts) {
        const int c = p.counts[i];
        if (c > 0) v = penalized(v, c, p);
    }
    return v;
}

// The reduction of v over the block with op, in a fixed shape (a warp butterfly, then the warps'
// results in order), returned to every thread. scratch: 32 elements of shared memory; blockDim.x a
// multiple of 32.
template <typename T, typename Op>
__device__ T block_all_reduce(T v, Op op, T* scratch) {
    for (int off = 16; off > 0; off >>= 1) v = op(v, __shfl_xor_sync(0xffffffffu, v, off));
    const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5, warps = blockDim.x >> 5;
    __syncthreads();  // a previous call's readers are done with scratch
    if (lane == 0) scratch[warp] = v;
    __syncthreads();
    T r = scratch[0];
    for (int w = 1; w < warps; ++w) r = op(r, scratch[w]);
    return r;
}

// Exclusive prefix sum of v over the threads of the block; *total gets the sum of all (the same value
// in every thread). scratch: 32 doubles of shared memory.
__device__ double block_exclusive_sum(double v, double* scratch, double* total) {
    const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5, warps = blockDim.x >> 5;
    double inc = v;  // inclusive within the warp
    for (int off = 1; off < 32; off <<= 1) {
        const double o = __shfl_up_sync(0xffffffffu, inc, off);
        if (lane >= off) inc += o;
    }
    double exc = __shfl_up_sync(0xffffffffu, inc, 1);
    if (lane == 0) exc = 0.0;
    __syncthreads();  // a previous call's readers are done with scratch
    if (lane == 31) scratch[warp] = inc;
    __syncthreads();
    double before = 0.0, all = 0.0;
    for (int w = 0; w < warps; ++w) {
        const double s = scratch[w];
        if (w < warp) before += s;
        all += s;
    }
    *total = all;
    return before + exc;
}

// ---------------------------------------------------------------------------------------------------
// Per-element passes

// counts[id] = occurrences of id in recent (ids outside [0, V) never match a token, as on the CPU).
// Integer atomics: the counts are exact whatever the order.
__global__ void count_recent_kernel(const int32_t* recent, int64_t n, int64_t V, int* counts) {
    const int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
    if (i >= n) return;
    const int32_t id = recent[i];
    if (id >= 0 && id < V) atomicAdd(counts + id, 1);
}

// Argmax of the candidates: each as the 64-bit key (value key << 32 | ~id), whose maximum is the
// largest value with the lowest id among equals (the CPU's max_element with ties to the lower id).
// 0 = no candidate. atomicMax on integers is exact in any order.
__global__ void __launch_bounds__(kThreads)
argmax_kernel(const float* logits, int64_t V, Penalties pen, unsigned long long* best) {
    __shared__ unsigned long long scratch[32];
    unsigned long long local = 0;
    for (int64_t i = static_cast<int64_t>(blockIdx.x) * kThreads + threadIdx.x; i < V;
         i += static_cast<int64_t>(gridDim.x) * kThreads) {
        const float v = candidate(logits, i, pen);
        if (isnan(v)) continue;
        const unsigned long long key = (static_cast<unsigned long long>(order_key(v)) << 32) |
                                       static_cast<unsigned long long>(~static_cast<uint32_t>(i));
        local = key > local ? key : local;
    }
    const unsigned long long m = block_all_reduce(
        local, [](unsigned long long a, unsigned long long b) { return a > b ? a : b; }, scratch);
    if (threadIdx.x == 0 && m != 0) atomicMax(best, m);
}

__global__ void argmax_finish_kernel(const unsigned long long* best, int32_t* out_id) {
    const unsigned long long key = *best;
    *out_id = key == 0 ? -1 : static_cast<int32_t>(~static_cast<uint32_t>(key & 0xffffffffull));
}

// The sort's input: key of candidate / temperature (0 for no candidate) and the id; n_valid counts
// the candidates (they sort before every 0 key).
__global__ void __launch_bounds__(kThreads)
sort_input_kernel(const float* logits, int64_t V, Penalties pen, float temperature, uint32_t* keys, int32_t* ids,
                  int* n_valid) {
    __shared__ int scratch[32];
    int local = 0;
    for (int64_t i = static_cast<int64_t>(blockIdx.x) * kThreads + threadIdx.x; i < V;
         i += static_cast<int64_t>(gridDim.x) * kThreads) {
        float v = candidate(logits, i, pen);
        uint32_t key = 0;
        if (!isnan(v)) {
            v = __fdiv_rn(v, temperature);
            if (!isnan(v)) {
                key = order_key(v);
                ++local;
            }
        }
        keys[i] = key;
        ids[i] = static_cast<int32_t>(i);
    }
    const int total = block_all_reduce(local, [](int a, int b) { return a + b; }, scratch);
    if (threadIdx.x == 0 && total) atomicAdd(n_valid, total);
}

// ---------------------------------------------------------------------------------------------------
// The walk over the sorted candidates (one block)

// First i in [0, count) whose running sum value(0) + ... + value(i) satisfies pred, or -1. In chunks of
// kTailThreads * kTailItems candidates, each thread a run of kTailItems consecutive ones, stopping at
// the first chunk where some i does. All threads return the same value.
template <typename ValueFn, typename Pred>
__device__ int first_cumulative(int count, ValueFn value, Pred pred, double* scratch, int* s_found) {
    double carry = 0.0;  // the sum of the chunks before
    for (int start = 0; start < count; start += kTailThreads * kTailItems) {
        const int base = start + static_cast<int>(threadIdx.x) * kTailItems;
        double v[kTailItems];
        double run = 0.0;
        for (int r = 0; r < kTailItems; ++r) {
            v[r] = base + r < count ? value(base + r) : 0.0;
            run += v[r];
        }
        double total;
        const double before = block_exclusive_sum(run, scratch, &total);  // begins with a barrier
        if (threadIdx.x == 0) *s_found = INT_MAX;
        __syncthreads();
        double cum = carry + before;
        for (int r = 0; r < kTailItems && base + r < count; ++r) {
            cum += v[r];
            if (pred(cum)) {
                atomicMin(s_found, base + r);
                break;
            }
        }
        __syncthreads();
        const int found = *s_found;
        __syncthreads();  // everyone has read it before anyone (a later call included) resets it
        if (found != INT_MAX) return found;
        carry += total;
    }
    return -1;
}

// First i in [lo, hi) with pred(i), or hi. All threads return the same value.
template <typename Pred>
__device__ int first_index(int lo, int hi, Pred pred, int* s_found) {
    for (int start = lo; start < hi; start += kTailThreads * kTailItems) {
        if (threadIdx.x == 0) *s_found = INT_MAX;
        __syncthreads();
        for (int r = 0; r < kTailItems; ++r) {
            const int i = start + r * kTailThreads + static_cast<int>(threadIdx.x);  // ascending in r
            if (i >= hi) break;
            if (pred(i)) {
                atomicMin(s_found, i);
                break;
            }
        }
        __syncthreads();
        const int found = *s_found;
        __syncthreads();  // everyone has read it before thread 0 resets it
        if (found != INT_MAX) return found;
    }
    return hi;
}

// Sampler::candidates from step 3 on, then Sampler::pick, over the candidates sorted by (value desc,
// id asc): keys[0..n_valid) are candidates, ids their tokens.
__global__ void __launch_bounds__(kTailThreads)
sample_sorted_kernel(const uint32_t* keys, const int32_t* ids, const int* n_valid, int top_k, float top_p, float min_p,
                     double u, int32_t* out_id) {
    __shared__ double scratch[32];
    __shared__ int s_found;
    int n = *n_valid;
    if (n == 0) {  // no finite logit: the caller turns -1 into the CPU's error
        if (threadIdx.x == 0) *out_id = -1;
        return;
    }
    // 3. Top-k.
    if (top_k > 0 && top_k < n) n = top_k;
    // Softmax in double relative to the largest: exp(double(v_i) - mx), the same expression as the CPU's.
    const double mx = static_cast<double>(key_value(keys[0]));
    auto weight = [&](int i) { return exp(static_cast<double>(key_value(keys[i])) - mx); };
    double local = 0.0;
    for (int i = static_cast<int>(threadIdx.x); i < n; i += kTailThreads) local += weight(i);
    const double sum = block_all_reduce(local, [](double a, double b) { return a + b; }, scratch);
    auto prob = [&](int i) { return weight(i) / sum; };

    // 4. Top-p: the smallest prefix whose mass reaches top_p.
    int keep = n;
    if (top_p < 1.0f) {
        const double target = static_cast<double>(top_p);
        const int f = first_cumulative(n, prob, [&](double cum) { return cum >= target; }, scratch, &s_found);
        if (f >= 0) keep = f + 1;
    }
    // 5. Min-p: keep while prob >= min_p * prob[0] (written as the CPU's loop condition, negated).
    if (min_p > 0.0f) {
        const double threshold = static_cast<double>(min_p) * prob(0);
        keep = first_index(1, keep, [&](int i) { return !(prob(i) >= threshold); }, &s_found);
    }
    if (keep == 1) {  // pick() returns a single candidate without looking at u
        if (threadIdx.x == 0) *out_id = ids[0];
        return;
    }
    // Renormalise over the kept; each probability rounded to f32 as the CPU stores it, then the pick:
    // the first whose running sum exceeds u, or the last kept when rounding leaves u above the total.
    double kept_local = 0.0;
    for (int i = static_cast<int>(threadIdx.x); i < keep; i += kTailThreads) kept_local += prob(i);
    const double kept = block_all_reduce(kept_local, [](double a, double b) { return a + b; }, scratch);
    auto q = [&](int i) { return static_cast<double>(static_cast<float>(prob(i) / kept)); };
    const int f = first_cumulative(keep, q, [&](double cum) { return u < cum; }, scratch, &s_found);
    if (threadIdx.x == 0) *out_id = ids[f >= 0 ? f : keep - 1];
}

// Blocks for a grid-strided pass over n elements: enough to fill the GPU a few times over.
unsigned pass_blocks(int64_t n, int sm_count) {
    const int64_t want = (n + kThreads - 1) / kThreads;
    const int64_t cap = static_cast<int64_t>(sm_count > 0 ? sm_count : 32) * 8;
    return static_cast<unsigned>(want < 1 ? 1 : (want < cap ? want : cap));
}

void check_row(const Mat& row, const char* what) {
    if (row.rows != 1 || row.cols <= 0 || !row.data) throw Error(std::string(what) + ": one row of logits expected");
    // Ids are int32 and ~id must not collide with the "no candidate" key: V < 2^31.
    if (row.cols > 0x7fffffff) throw Error(std::string(what) + ": vocabulary too large");
}

}  // namespace

void argmax(const Mat& logits_row, int32_t* out_id, cudaStream_t s) {
    check_row(logits_row, "argmax");
    const int64_t V = logits_row.cols;
    DeviceBuffer best(sizeof(unsigned long long), s);
    GD_CUDA(cudaMemsetAsync(best.get(), 0, sizeof(unsigned long long), s));
    argmax_kernel<<<pass_blocks(V, 0), kThreads, 0, s>>>(logits_row.data, V, Penalties{},
                                                         best.get<unsigned long long>());
    GD_CUDA_LAUNCHED("argmax_kernel");
    argmax_finish_kernel<<<1, 1, 0, s>>>(best.get<unsigned long long>(), out_id);
    GD_CUDA_LAUNCHED("argmax_finish_kernel");
}

void sample(const CudaContext& ctx, const Mat& logits_row, const SamplingParams& p, const int32_t* recent,
            int64_t n_recent, double uniform, int32_t* out_id) {
    check_row(logits_row, "sample");
    Sampler validate(p);  // throws for the parameters the host sampler rejects, with its words
    (void)validate;
    const cudaStream_t s = ctx.stream;
    const int64_t V = logits_row.cols;
    const unsigned blocks = pass_blocks(V, ctx.sm_count);

    // 1. Penalties: per-token counts of the window (the caller has cut `recent` to it).
    Penalties pen;
    DeviceBuffer counts;
    const bool penalties = p.repetition_penalty != 1.0f || p.presence_penalty != 0.0f || p.frequency_penalty != 0.0f;
    if (penalties && n_recent > 0 && recent) {
        counts = DeviceBuffer(static_cast<size_t>(V) * sizeof(int), s);
        GD_CUDA(cudaMemsetAsync(counts.get(), 0, static_cast<size_t>(V) * sizeof(int), s));
        count_recent_kernel<<<static_cast<unsigned>((n_recent + kThreads - 1) / kThreads), kThreads, 0, s>>>(
            recent, n_recent, V, counts.get<int>());
        GD_CUDA_LAUNCHED("count_recent_kernel");
        pen.counts = counts.get<int>();
        pen.repetition = p.repetition_penalty;
        pen.presence = p.presence_penalty;
        pen.frequency = p.frequency_penalty;
    }

    // Greedy: the argmax after the penalties (ties to the lowest id).
    if (!(p.temperature > 0.0f)) {
        DeviceBuffer best(sizeof(unsigned long long), s);
        GD_CUDA(cudaMemsetAsync(best.get(), 0, sizeof(unsigned long long), s));
        argmax_kernel<<<blocks, kThreads, 0, s>>>(logits_row.data, V, pen, best.get<unsigned long long>());
        GD_CUDA_LAUNCHED("argmax_kernel");
        argmax_finish_kernel<<<1, 1, 0, s>>>(best.get<unsigned long long>(), out_id);
        GD_CUDA_LAUNCHED("argmax_finish_kernel");
        return;
    }

    // 2. Temperature, then the sort by (value desc, id asc).
    const size_t n = static_cast<size_t>(V);
    DeviceBuffer keys_in(n * sizeof(uint32_t), s), keys_out(n * sizeof(uint32_t), s);
    DeviceBuffer ids_in(n * sizeof(int32_t), s), ids_out(n * sizeof(int32_t), s);
    DeviceBuffer n_valid(sizeof(int), s);
    GD_CUDA(cudaMemsetAsync(n_valid.get(), 0, sizeof(int), s));
    sort_input_kernel<<<blocks, kThreads, 0, s>>>(logits_row.data, V, pen, p.temperature, keys_in.get<uint32_t>(),
                                                  ids_in.get<int32_t>(), n_valid.get<int>());
    GD_CUDA_LAUNCHED("sort_input_kernel");
    size_t temp_bytes = 0;
    GD_CUDA(cub::DeviceRadixSort::SortPairsDescending(nullptr, temp_bytes, keys_in.get<uint32_t>(),
                                                      keys_out.get<uint32_t>(), ids_in.get<int32_t>(),
                                                      ids_out.get<int32_t>(), static_cast<int>(V), 0, 32, s));
    DeviceBuffer temp(temp_bytes, s);
    GD_CUDA(cub::DeviceRadixSort::SortPairsDescending(temp.get(), temp_bytes, keys_in.get<uint32_t>(),
                                                      keys_out.get<uint32_t>(), ids_in.get<int32_t>(),
                                                      ids_out.get<int32_t>(), static_cast<int>(V), 0, 32, s));

    // 3-5 and the pick.
    sample_sorted_kernel<<<1, kTailThreads, 0, s>>>(keys_out.get<uint32_t>(), ids_out.get<int32_t>(),
                                                    n_valid.get<int>(), p.top_k, p.top_p, p.min_p, uniform, out_id);
    GD_CUDA_LAUNCHED("sample_sorted_kernel");
}

}  // namespace gd::cuda
