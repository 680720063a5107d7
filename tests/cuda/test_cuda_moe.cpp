// The CUDA backend's mixture-of-experts ops against the CPU backend, through the Backend interface, on
// fresh random inputs (GD_TEST_SEED repeats a run): the router (moe_route) and the expert pass
// (moe_experts_routed) with stacked expert weights in f32 and in GGUF block types made by quantize_row.
//
// Tolerances follow from the arithmetic of the two implementations:
//  * moe_route: both sides take the softmax in double with the same f32 difference lg - max, sum the
//    denominators in the same order and rank by (p desc, id asc); only CUDA's double exp may differ
//    from glibc's by an ulp (~1e-16). The chosen ids are identical, and the weights, rounded once to
//    f32 and scaled, agree to within an f32 ulp: relative difference <= 1e-6 per weight.
//  * moe_experts_routed: the weights decode bit-exactly on both sides, but each dot product sums its
//    f32 terms in another order (the CPU's SIMD lanes vs a GPU warp's lanes), which moves a dot of n
//    terms by ~sqrt(n) * 2^-24 of the sum of |terms| (~1e-6 relative for the sizes here, more where a
//    dot cancels). The gate/up error passes through gelu into the down product and the routing-weighted
//    sum (in slot order on the GPU, expert order on the CPU): rel_l2 <= 1e-5 over the whole output.
//    That holds for T <= 8, where the GPU runs its few-token kernels (f32 vectors, fused decoding),
//    and for f32 weights at any T (cuBLAS Sgemm without TF32).
//  * T = 20 with 16-bit or block-type weights goes through the backend's host-grouped path, whose
//    matrix products round x (and block weights, decoded) to bf16 (f16 for f16 weights) before a GEMM
//    with f32 accumulation (see cuda_matmul.cpp and tests/cuda/test_cuda_matmul.cpp, which bounds one
//    such product by 4e-3). Here two products are chained: the gate/up error (~2.3e-3 RMS each)
//    passes through gelu(g) * u (~4e-3 in h) and joins the down product's own rounding (~2.3e-3), so
//    ~5e-3 RMS: bounded by 1e-2.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "backend/backend.h"
#include "backend/moe_routing.h"
#include "common/error.h"
#include "cuda/cuda_test_support.h"
#include "format/dtype.h"
#include "format/quant/quant.h"
#include "format/tensor_view.h"

namespace gd {
namespace {

using test::get;
using test::max_abs_diff;
using test::normal;
using test::put;
using test::rel_l2;

constexpr double kRouteWeightTol = 1e-6;  // per weight, relative (see the file comment)
constexpr double kExpertTol = 1e-5;       // rel_l2 of the expert output, f32 arithmetic
constexpr double kExpertGemmTol = 1e-2;   // rel_l2, the bf16/f16 GEMM path (T > 8, 16-bit or block weights)
constexpr int64_t kFewTokens = 8;         // cuda::kMatvecMaxRows: up to this many tokens use the few-token kernels

double expert_tolerance(DType gate_up, DType down, int64_t T) {
    if (T <= kFewTokens || (gate_up == DType::F32 && down == DType::F32)) return kExpertTol;
    return kExpertGemmTol;
}

// A weight [experts, rows, cols] (or a vector [cols] when experts == 0) stored as `type`: the bytes
// live here, as a file mapping's would, while both backends use them.
struct StoredWeight {
    TensorView view;
    std::vector<uint8_t> bytes;
};

StoredWeight store(const std::string& name, DType type, int64_t experts, int64_t rows, int64_t cols,
                   const std::vector<float>& values) {
    StoredWeight w;
    const size_t row_bytes = static_cast<size_t>(dtype_bytes(type, static_cast<uint64_t>(cols)));
    const int64_t n_rows = (experts ? experts : 1) * rows;
    w.bytes.resize(row_bytes * static_cast<size_t>(n_rows));
    for (int64_t r = 0; r < n_rows; ++r) {
        const float* src = values.data() + r * cols;
        uint8_t* dst = w.bytes.data() + static_cast<size_t>(r) * row_bytes;
        if (type == DType::F32)
            std::memcpy(dst, src, row_bytes);
        else
            quantize_row(type, src, dst, static_cast<uint64_t>(cols));
    }
    w.view.name = name;
    w.view.type = type;
    w.view.shape = experts ? std::vector<uint64_t>{uint64_t(experts), uint64_t(rows), uint64_t(cols)}
                           : std::vector<uint64_t>{uint64_t(cols)};
    w.view.data = w.bytes.data();
    w.view.nbytes = w.bytes.size();
    return w;
}

// Router logits [T, E]: normal values, or (ties) multiples of 0.5 from a narrow range so that many
// experts of a token share a logit and the order among equals (lower id first) decides the choice.
std::vector<float> router_logits(int64_t T, int64_t E, bool ties, std::mt19937& rng) {
    std::vector<float> v = normal(static_cast<size_t>(T * E), rng, 0.0f, ties ? 1.0f : 2.0f);
    if (ties)
        for (float& x : v) x = std::round(x * 2.0f) / 2.0f;
    return v;
}

void compare_routing(const std::vector<float>& got, const std::vector<float>& want, int64_t T, int64_t k,
                     const std::string& what) {
    ASSERT_EQ(got.size(), want.size()) << what;
    int64_t bad_ids = 0, bad_weights = 0;
    double worst = 0;
    for (int64_t t = 0; t < T; ++t) {
        for (int64_t j = 0; j < k; ++j) {
            const size_t id = static_cast<size_t>(t * 2 * k + j), w = id + static_cast<size_t>(k);
            if (got[id] != want[id]) ++bad_ids;
            const double rel = std::fabs(static_cast<double>(got[w]) - want[w]) / std::fabs(static_cast<double>(want[w]));
            if (!(rel <= kRouteWeightTol)) ++bad_weights;
            if (rel > worst || rel != rel) worst = rel;
        }
    }
    EXPECT_EQ(bad_ids, 0) << what << ": expert ids differ";
    EXPECT_EQ(bad_weights, 0) << what << ": weights differ, worst relative " << worst;
}

// ---------------------------------------------------------------------------------------------------

TEST(CudaMoe, RouterMatchesTheCpu) {
    GD_CUDA_TEST_SETUP(gpu);
    auto cpu = make_cpu_backend(2);
    std::mt19937 rng(seed);
    struct Case {
        int64_t T, E, k;
    };
    // 26B-A4B's router (128 experts, top 8) at decode and prefill sizes; small and degenerate ones
    // (k == E, k == 1, E not a multiple of the block's 128 threads).
    const Case cases[] = {{1, 128, 8}, {20, 128, 8}, {7, 16, 4}, {3, 4, 1}, {2, 6, 6}, {5, 200, 3}};
    for (const Case& c : cases) {
        for (bool ties : {false, true}) {
            const std::string what = std::to_string(c.T) + " tokens, " + std::to_string(c.E) + " experts, top " +
                                     std::to_string(c.k) + (ties ? ", tied logits" : "");
            SCOPED_TRACE(what);
            const auto logits = router_logits(c.T, c.E, ties, rng);
            std::uniform_real_distribution<float> sd(0.5f, 1.5f);
            std::vector<float> scale(static_cast<size_t>(c.E));
            for (float& s : scale) s = sd(rng);
            const StoredWeight ws = store("test.expert_scale", DType::F32, 0, 1, c.E, scale);
            std::vector<float> results[2];
            Backend* backends[2] = {gpu.get(), cpu.get()};
            for (int b = 0; b < 2; ++b) {
                Backend& be = *backends[b];
                const Weight w = be.upload_weight(ws.view);
                const Tensor lg = put(be, c.T, c.E, logits);
                const Tensor routing = be.alloc(c.T, 2 * c.k);
                be.moe_route(lg, c.k, w, routing);
                results[b] = get(be, routing);
            }
            compare_routing(results[0], results[1], c.T, c.k, what);
            // The CPU backend is route_experts itself; check the reference once more directly.
            std::vector<float> host(static_cast<size_t>(c.T * 2 * c.k));
            route_experts(logits.data(), c.T, c.E, c.k, scale.data(), host.data());
            EXPECT_EQ(max_abs_diff(results[1], host), 0.0);
        }
    }
}

// The routing written into a column view of a wider tensor (ld > 2k): the other columns stay as they were.
TEST(CudaMoe, RouterWritesOnlyItsColumns) {
    GD_CUDA_TEST_SETUP(gpu);
    auto cpu = make_cpu_backend(2);
    std::mt19937 rng(seed);
    const int64_t T = 5, E = 128, k = 8, W = 2 * k + 7, left = 3;
    const auto logits = router_logits(T, E, false, rng);
    const StoredWeight ws = store("test.expert_scale", DType::F32, 0, 1, E, std::vector<float>(E, 1.0f));
    const float sentinel = 1234.5f;
    Tensor parent = put(*gpu, T, W, std::vector<float>(static_cast<size_t>(T * W), sentinel));
    gpu->moe_route(put(*gpu, T, E, logits), k, gpu->upload_weight(ws.view), parent.view_cols(left, 2 * k));
    const auto full = get(*gpu, parent);
    std::vector<float> inside;
    int64_t touched = 0;
    for (int64_t t = 0; t < T; ++t)
        for (int64_t c = 0; c < W; ++c) {
            const float v = full[static_cast<size_t>(t * W + c)];
            if (c >= left && c < left + 2 * k)
                inside.push_back(v);
            else if (v != sentinel)
                ++touched;
        }
    EXPECT_EQ(touched, 0) << "elements outside the view were written";
    const Tensor routing = cpu->alloc(T, 2 * k);
    cpu->moe_route(put(*cpu, T, E, logits), k, cpu->upload_weight(ws.view), routing);
    compare_routing(inside, get(*cpu, routing), T, k, "column view");
}

// The expert pass with stacked weights in each stored type. Sizes: H = 512 and I = 256 (multiples of
// the k-quants' 256-element blocks), 16 experts, top 4; the routing comes from the host router and is
// the same tensor on both backends, so only the expert arithmetic is compared.
TEST(CudaMoe, ExpertsMatchTheCpu) {
    GD_CUDA_TEST_SETUP(gpu);
    auto cpu = make_cpu_backend(2);
    std::mt19937 rng(seed);
    const int64_t H = 512, I = 256, E = 16, k = 4;
    // gate/up rows ~ N(0, 1/H) and down rows ~ N(0, 1/I) keep every activation near unit scale.
    const auto gate_up_values = normal(static_cast<size_t>(E * 2 * I * H), rng, 0.0f, 1.0f / std::sqrt(float(H)));
    const auto down_values = normal(static_cast<size_t>(E * H * I), rng, 0.0f, 1.0f / std::sqrt(float(I)));
    struct Types {
        DType gate_up, down;
    };
    // GGUF files often store ffn_down_exps in another type than the gate/up: the mixed rows check that
    // each kernel dispatches on its own weight's type.
    const Types types[] = {{DType::F32, DType::F32},   {DType::Q8_0, DType::Q8_0}, {DType::Q4_K, DType::Q4_K},
                           {DType::Q4_K, DType::Q6_K}, {DType::BF16, DType::Q5_0}, {DType::IQ4_XS, DType::F16}};
    for (const Types& ty : types) {
        const StoredWeight gu = store("test.ffn_gate_up_exps", ty.gate_up, E, 2 * I, H, gate_up_values);
        const StoredWeight dn = store("test.ffn_down_exps", ty.down, E, H, I, down_values);
        const Weight gu_gpu = gpu->upload_weight(gu.view), dn_gpu = gpu->upload_weight(dn.view);
        const Weight gu_cpu = cpu->upload_weight(gu.view), dn_cpu = cpu->upload_weight(dn.view);
        for (int64_t T : {1, 3, 8, 20}) {
            for (bool view : {false, true}) {
                if (view && T != 3) continue;  // one shape suffices for the unaligned-rows case
                const std::string what = std::string(dtype_name(ty.gate_up)) + "/" + dtype_name(ty.down) + ", " +
                                         std::to_string(T) + " tokens" + (view ? ", x as a column view" : "");
                SCOPED_TRACE(what);
                const auto x = normal(static_cast<size_t>(T * H), rng);
                const auto logits = router_logits(T, E, false, rng);
                std::vector<float> routing(static_cast<size_t>(T * 2 * k));
                std::vector<float> ones(static_cast<size_t>(E), 1.0f);
                route_experts(logits.data(), T, E, k, ones.data(), routing.data());

                // x: a whole tensor, or the middle columns of a wider one with an odd row stride, so
                // that its rows are not 16-byte aligned.
                auto place_x = [&](Backend& b) {
                    if (!view) return put(b, T, H, x);
                    const int64_t W = H + 5;
                    std::vector<float> full(static_cast<size_t>(T * W), 7.0f);
                    for (int64_t t = 0; t < T; ++t)
                        std::copy(x.begin() + t * H, x.begin() + (t + 1) * H, full.begin() + t * W + 1);
                    return put(b, T, W, full).view_cols(1, H);
                };
                const Tensor out_gpu = gpu->alloc(T, H), out_cpu = cpu->alloc(T, H);
                const Tensor x_gpu = place_x(*gpu), r_gpu = put(*gpu, T, 2 * k, routing);
                gpu->moe_experts_routed(x_gpu, r_gpu, gu_gpu, dn_gpu, out_gpu);
                cpu->moe_experts_routed(place_x(*cpu), put(*cpu, T, 2 * k, routing), gu_cpu, dn_cpu, out_cpu);
                const auto g = get(*gpu, out_gpu), c = get(*cpu, out_cpu);
                EXPECT_LE(rel_l2(g, c), expert_tolerance(ty.gate_up, ty.down, T)) << "max |diff| " << max_abs_diff(g, c);
                // No float atomics anywhere: a second run gives the same bits.
                const Tensor again = gpu->alloc(T, H);
                gpu->moe_experts_routed(x_gpu, r_gpu, gu_gpu, dn_gpu, again);
                EXPECT_EQ(max_abs_diff(get(*gpu, again), g), 0.0) << "not deterministic";
            }
        }
    }
}

// The decoder's path end to end: router on the device, then the experts from that routing, with
// 26B-A4B's expert count and top-k at decode size.
TEST(CudaMoe, RoutedDecodeStepMatchesTheCpu) {
    GD_CUDA_TEST_SETUP(gpu);
    auto cpu = make_cpu_backend(2);
    std::mt19937 rng(seed);
    const int64_t H = 256, I = 256, E = 128, k = 8;
    const auto gate_up_values = normal(static_cast<size_t>(E * 2 * I * H), rng, 0.0f, 1.0f / std::sqrt(float(H)));
    const auto down_values = normal(static_cast<size_t>(E * H * I), rng, 0.0f, 1.0f / std::sqrt(float(I)));
    const StoredWeight gu = store("test.ffn_gate_up_exps", DType::Q8_0, E, 2 * I, H, gate_up_values);
    const StoredWeight dn = store("test.ffn_down_exps", DType::Q8_0, E, H, I, down_values);
    std::uniform_real_distribution<float> sd(0.5f, 1.5f);
    std::vector<float> scale(static_cast<size_t>(E));
    for (float& s : scale) s = sd(rng);
    const StoredWeight ws = store("test.expert_scale", DType::F32, 0, 1, E, scale);
    for (int64_t T : {1, 2}) {
        SCOPED_TRACE(std::to_string(T) + " tokens");
        const auto x = normal(static_cast<size_t>(T * H), rng);
        const auto logits = router_logits(T, E, false, rng);
        std::vector<float> outs[2], routings[2];
        Backend* backends[2] = {gpu.get(), cpu.get()};
        for (int b = 0; b < 2; ++b) {
            Backend& be = *backends[b];
            const Tensor routing = be.alloc(T, 2 * k), out = be.alloc(T, H);
            be.moe_route(put(be, T, E, logits), k, be.upload_weight(ws.view), routing);
            be.moe_experts_routed(put(be, T, H, x), routing, be.upload_weight(gu.view), be.upload_weight(dn.view), out);
            routings[b] = get(be, routing);
            outs[b] = get(be, out);
        }
        compare_routing(routings[0], routings[1], T, k, "router");
        EXPECT_LE(rel_l2(outs[0], outs[1]), kExpertTol) << "max |diff| " << max_abs_diff(outs[0], outs[1]);
    }
}

}  // namespace
}  // namespace gd
