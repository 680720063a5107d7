// The CUDA backend's elementwise, norm, RoPE and tower ops against the CPU backend, through the Backend
// interface, on fresh random inputs (GD_TEST_SEED repeats a run). Shapes are the real models' (hidden
// 1536, 2560, 2816, 5376; head sizes 256 and 512 for the decoder's norms and RoPE, 64 and 72 for the
// vision towers, 128 for the audio conformer) and odd ones (37 columns, 1 and 3 rows). Every op runs
// on whole tensors and on column views (ld > cols) inside a wider tensor whose other columns hold a
// sentinel no op may touch; out-of-place outputs start as NaN so an element the kernel never writes
// cannot pass.
//
// Tolerances follow from the arithmetic of the two implementations:
//  * copy, add, scale, mul_rows, add_rows, clamp, relu are one IEEE operation per element on both sides
//    (the CUDA kernels round each product and sum on its own, no FMA contraction): bit-exact.
//  * The other elementwise ops and the pool/convolution do the same f32 operations in the same order,
//    except tanh and exp, which the GPU takes in double and rounds once and the CPU takes from glibc
//    (both within an ulp of the exact value): a few elements differ by 1-2 ulp, rel_l2 <= 1e-6.
//  * RMSNorm/LayerNorm sum in double on both sides (in different orders, ~1e-16 apart), so the f32
//    scale rounds the same but for rare half-way cases (1 ulp); RoPE forms the same f32 angle and
//    takes cos/sin in double on both sides: rel_l2 <= 1e-6.
//  * Attention: the scores (up to ~|20| here) carry ~1 ulp of f32 rounding that differs between the
//    implementations (tile shapes, exp implementations, the logit cap's tanh), ~1e-6 absolute, which
//    the softmax turns into ~1e-6 relative error in the weights: rel_l2 <= 1e-5.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <functional>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "backend/backend.h"
#include "cuda/cuda_test_support.h"

namespace gd {
namespace {

using test::get;
using test::max_abs_diff;
using test::normal;
using test::put;
using test::rel_l2;

constexpr float kSentinel = 1234.5f;  // the columns around a view
const float kNaN = std::numeric_limits<float>::quiet_NaN();

constexpr double kExact = 0.0;
constexpr double kElementwiseTol = 1e-6;  // 1-2 ulp in a few elements (see the file comment)
constexpr double kNormRopeTol = 1e-6;
constexpr double kAttentionTol = 1e-5;

std::vector<float> uniform(size_t n, std::mt19937& rng, float lo, float hi) {
    std::uniform_real_distribution<float> d(lo, hi);
    std::vector<float> v(n);
    for (float& x : v) x = d(rng);
    return v;
}

std::vector<float> nans(int64_t rows, int64_t cols) { return std::vector<float>(size_t(rows * cols), kNaN); }

// A rows x cols tensor holding `values` on backend b: the whole allocation when pad is 0, else a column
// view (ld = cols + 2 pad + 1, odd, so rows are not 16-byte aligned) with kSentinel in the other columns.
struct Placed {
    Tensor parent, t;
    int64_t left = 0;
};

Placed place(Backend& b, int64_t rows, int64_t cols, const std::vector<float>& values, int64_t pad) {
    Placed p;
    if (pad == 0) {
        p.parent = p.t = put(b, rows, cols, values);
        return p;
    }
    const int64_t W = cols + 2 * pad + 1;
    std::vector<float> full(size_t(rows * W), kSentinel);
    for (int64_t r = 0; r < rows; ++r)
        for (int64_t c = 0; c < cols; ++c) full[size_t(r * W + pad + c)] = values[size_t(r * cols + c)];
    p.parent = put(b, rows, W, full);
    p.t = p.parent.view_cols(pad, cols);
    p.left = pad;
    return p;
}

// The columns outside the view still hold the sentinel.
void expect_untouched(Backend& b, const Placed& p, const std::string& what) {
    if (p.parent.cols == p.t.cols) return;
    const auto full = get(b, p.parent);
    int64_t bad = 0;
    for (int64_t r = 0; r < p.parent.rows; ++r)
        for (int64_t c = 0; c < p.parent.cols; ++c)
            if ((c < p.left || c >= p.left + p.t.cols) && full[size_t(r * p.parent.cols + c)] != kSentinel) ++bad;
    EXPECT_EQ(bad, 0) << what << ": elements outside the view were written";
}

void expect_close(const std::vector<float>& got, const std::vector<float>& want, double tol, const std::string& what) {
    const double e = rel_l2(got, want);  // +inf when anything is NaN (an element never written)
    if (tol == kExact)
        EXPECT_EQ(max_abs_diff(got, want), 0.0) << what << " (rel_l2 " << e << ")";
    else
        EXPECT_LE(e, tol) << what << " (max |diff| " << max_abs_diff(got, want) << ")";
}

// Runs `op` on each backend (it builds its inputs there and returns named outputs) and compares.
struct Output {
    std::string name;
    std::vector<float> values;
    double tol;
};
using OpRun = std::function<std::vector<Output>(Backend&)>;

void compare(Backend& gpu, Backend& cpu, const OpRun& op) {
    const auto g = op(gpu);
    const auto c = op(cpu);
    ASSERT_EQ(g.size(), c.size());
    for (size_t i = 0; i < g.size(); ++i) expect_close(g[i].values, c[i].values, g[i].tol, g[i].name);
}

Weight vector_weight(const std::vector<float>& v) {  // as a norm weight arrives: f32 values only
    Weight w;
    w.name = "test.norm.weight";
    w.rows = 1;
    w.cols = static_cast<int64_t>(v.size());
    w.f32 = v;
    return w;
}

std::string shape_name(int64_t rows, int64_t cols, int64_t pad) {
    return std::to_string(rows) + " x " + std::to_string(cols) + (pad ? " (column view)" : "");
}

struct Shape {
    int64_t rows, cols;
};
// The decoder's hidden sizes, the vision and audio widths, odd sizes, and more rows than one block.
const Shape kShapes[] = {{1, 1536}, {3, 2560}, {2, 2816}, {1, 5376}, {3, 37}, {1, 37}, {67, 1152}, {5, 1024}};

// ---------------------------------------------------------------------------------------------------

TEST(CudaOps, AddScaleAndColumnOpsAreExact) {
    GD_CUDA_TEST_SETUP(gpu);
    auto cpu = make_cpu_backend(2);
    std::mt19937 rng(seed);
    for (const Shape s : kShapes)
        for (int64_t pad : {0, 3}) {
            SCOPED_TRACE(shape_name(s.rows, s.cols, pad));
            const size_t n = size_t(s.rows * s.cols);
            const auto a = normal(n, rng), bv = normal(n, rng, 0.0f, 3.0f);
            const auto mul = normal(size_t(s.cols), rng), addv = normal(size_t(s.cols), rng);
            const float factor = uniform(1, rng, -3.0f, 3.0f)[0];
            compare(*gpu, *cpu, [&](Backend& b) {
                std::vector<Output> out;
                Placed A = place(b, s.rows, s.cols, a, pad), B = place(b, s.rows, s.cols, bv, pad);
                Placed O = place(b, s.rows, s.cols, nans(s.rows, s.cols), pad);
                b.add(A.t, B.t, O.t);
                out.push_back({"add", get(b, O.t), kExact});
                b.copy(B.t, O.t);
                out.push_back({"copy", get(b, O.t), kExact});
                b.add(A.t, B.t, A.t);  // out aliases a
                out.push_back({"add into a", get(b, A.t), kExact});
                b.add(A.t, B.t, B.t);  // out aliases b
                out.push_back({"add into b", get(b, B.t), kExact});
                b.scale(A.t, factor);
                out.push_back({"scale", get(b, A.t), kExact});
                b.mul_rows(A.t, mul);
                out.push_back({"mul_rows", get(b, A.t), kExact});
                b.add_rows(A.t, addv);
                out.push_back({"add_rows", get(b, A.t), kExact});
                for (const Placed* p : {&A, &B, &O}) expect_untouched(b, *p, "add/scale/mul_rows/add_rows");
                return out;
            });
        }
}

TEST(CudaOps, ActivationsMatchTheCpu) {
    GD_CUDA_TEST_SETUP(gpu);
    auto cpu = make_cpu_backend(2);
    std::mt19937 rng(seed);
    for (const Shape s : kShapes)
        for (int64_t pad : {0, 3}) {
            SCOPED_TRACE(shape_name(s.rows, s.cols, pad));
            const size_t n = size_t(s.rows * s.cols);
            const auto x = normal(n, rng, 0.0f, 3.0f);          // gelu/silu inputs, both tails
            const auto up = normal(n, rng);
            const auto big = normal(n, rng, 0.0f, 40.0f);       // softcap: some far past the cap
            const auto wide = normal(size_t(s.rows * 2 * s.cols), rng, 0.0f, 3.0f);  // glu input [T, 2C]
            compare(*gpu, *cpu, [&](Backend& b) {
                std::vector<Output> out;
                Placed G = place(b, s.rows, s.cols, x, pad), U = place(b, s.rows, s.cols, up, pad);
                Placed O = place(b, s.rows, s.cols, nans(s.rows, s.cols), pad);
                b.gelu_mul(G.t, U.t, O.t);
                out.push_back({"gelu_mul", get(b, O.t), kElementwiseTol});
                b.gelu_mul(G.t, U.t, G.t);  // out aliases gate
                out.push_back({"gelu_mul into gate", get(b, G.t), kElementwiseTol});

                Placed S = place(b, s.rows, s.cols, big, pad);
                b.softcap(S.t, 30.0f);
                out.push_back({"softcap", get(b, S.t), kElementwiseTol});

                Placed C = place(b, s.rows, s.cols, x, pad), CO = place(b, s.rows, s.cols, nans(s.rows, s.cols), pad);
                b.clamp(C.t, -1.5f, 2.25f, CO.t);
                out.push_back({"clamp", get(b, CO.t), kExact});
                b.clamp(C.t, -0.5f, 0.75f, C.t);  // in place
                out.push_back({"clamp in place", get(b, C.t), kExact});

                Placed R = place(b, s.rows, s.cols, x, pad), L = place(b, s.rows, s.cols, x, pad);
                b.relu(R.t);
                out.push_back({"relu", get(b, R.t), kExact});
                b.silu(L.t);
                out.push_back({"silu", get(b, L.t), kElementwiseTol});

                Placed X = place(b, s.rows, 2 * s.cols, wide, pad);
                Placed GO = place(b, s.rows, s.cols, nans(s.rows, s.cols), pad);
                b.glu(X.t, GO.t);
                out.push_back({"glu", get(b, GO.t), kElementwiseTol});
                for (const Placed* p : {&G, &U, &O, &S, &C, &CO, &R, &L, &X, &GO}) expect_untouched(b, *p, "activations");
                return out;
            });
        }
}

// ---------------------------------------------------------------------------------------------------

struct NormCase {
    int64_t rows, cols, group;
};
const NormCase kNormCases[] = {
    {1, 1536, 1536}, {3, 2560, 2560}, {2, 2816, 2816}, {1, 5376, 5376},  // whole rows of the decoders
    {3, 8 * 256, 256}, {2, 4 * 512, 512}, {1, 2 * 512, 512},              // per-head q/k/v norms
    {5, 16 * 72, 72},  {4, 12 * 64, 64},                                   // vision heads
    {4, 1024, 1024},   {3, 8 * 128, 128},                                  // audio width and heads
    {3, 37, 37},       {1, 37, 37},     {3, 3 * 37, 37},                   // odd
};

void norm_test(Backend& gpu, Backend& cpu, std::mt19937& rng, bool layer) {
    for (const NormCase& nc : kNormCases)
        for (bool weighted : {false, true})
            for (int64_t pad : {0, 3}) {
                SCOPED_TRACE(shape_name(nc.rows, nc.cols, pad) + " group " + std::to_string(nc.group) +
                             (weighted ? " weighted" : " no weight"));
                // LayerNorm inputs off zero so the mean matters; Gemma's weights are used as they are
                // (no 1 + w), so they are drawn around 1 and around 0 alike.
                const auto x = layer ? normal(size_t(nc.rows * nc.cols), rng, 2.0f, 3.0f)
                                     : normal(size_t(nc.rows * nc.cols), rng, 0.0f, 2.0f);
                const Weight w = vector_weight(normal(size_t(nc.group), rng, 0.5f, 1.0f));
                const Weight* wp = weighted ? &w : nullptr;
                const float eps = 1e-6f;
                compare(gpu, cpu, [&](Backend& b) {
                    std::vector<Output> out;
                    Placed X = place(b, nc.rows, nc.cols, x, pad);
                    Placed Y = place(b, nc.rows, nc.cols, nans(nc.rows, nc.cols), pad);
                    auto run = [&](const Tensor& in, const Tensor& o) {
                        if (layer)
                            b.layer_norm(in, wp, nc.group, eps, o);
                        else
                            b.rms_norm(in, wp, nc.group, eps, o);
                    };
                    run(X.t, Y.t);
                    out.push_back({"out of place", get(b, Y.t), kNormRopeTol});
                    run(X.t, X.t);
                    out.push_back({"in place", get(b, X.t), kNormRopeTol});
                    expect_untouched(b, X, "norm input");
                    expect_untouched(b, Y, "norm output");
                    return out;
                });
            }
}

TEST(CudaOps, RmsNormMatchesTheCpu) {
    GD_CUDA_TEST_SETUP(gpu);
    auto cpu = make_cpu_backend(2);
    std::mt19937 rng(seed);
    norm_test(*gpu, *cpu, rng, false);
}

TEST(CudaOps, LayerNormMatchesTheCpu) {
    GD_CUDA_TEST_SETUP(gpu);
    auto cpu = make_cpu_backend(2);
    std::mt19937 rng(seed);
    norm_test(*gpu, *cpu, rng, true);
}

// ---------------------------------------------------------------------------------------------------

// theta^(-2j/head_dim) for the first rotated/2 pairs, 0 (no rotation) for the rest, as the decoder's
// proportional RoPE on its global layers leaves the upper pairs unrotated.
std::vector<float> inv_freq_table(int64_t pairs, int64_t rotated_pairs, double theta, int64_t head_dim) {
    std::vector<float> f(size_t(pairs), 0.0f);
    for (int64_t j = 0; j < rotated_pairs; ++j)
        f[size_t(j)] = static_cast<float>(1.0 / std::pow(theta, 2.0 * double(j) / double(head_dim)));
    return f;
}

TEST(CudaOps, RopeMatchesTheCpuUpTo131072) {
    GD_CUDA_TEST_SETUP(gpu);
    auto cpu = make_cpu_backend(2);
    std::mt19937 rng(seed);
    struct RopeCase {
        int64_t rows, heads, head_dim, rotated_pairs;
        double theta;
    };
    const RopeCase cases[] = {
        {1, 8, 256, 128, 10000.0},  // sliding layers' q, one decode row
        {3, 1, 256, 128, 10000.0},  // their k
        {17, 2, 512, 64, 1e6},      // global layers: a quarter of the pairs rotate
        {3, 4, 512, 256, 1e6},
        {1, 3, 6, 2, 100.0},        // odd: 3 pairs, the last one fixed
    };
    for (const RopeCase& rc : cases)
        for (int64_t first : {int64_t{0}, int64_t{4093}, 131072 - rc.rows, int64_t{131072}})
            for (int64_t pad : {0, 3}) {
                const int64_t cols = rc.heads * rc.head_dim;
                SCOPED_TRACE(shape_name(rc.rows, cols, pad) + " head_dim " + std::to_string(rc.head_dim) +
                             " from position " + std::to_string(first));
                const auto x = normal(size_t(rc.rows * cols), rng);
                const auto f = inv_freq_table(rc.head_dim / 2, rc.rotated_pairs, rc.theta, rc.head_dim);
                compare(*gpu, *cpu, [&](Backend& b) {
                    Placed X = place(b, rc.rows, cols, x, pad);
                    b.rope(X.t, rc.head_dim, f, first);
                    expect_untouched(b, X, "rope");
                    return std::vector<Output>{{"rope", get(b, X.t), kNormRopeTol}};
                });
            }
}

TEST(CudaOps, Rope2dMatchesTheCpu) {
    GD_CUDA_TEST_SETUP(gpu);
    auto cpu = make_cpu_backend(2);
    std::mt19937 rng(seed);
    struct Rope2dCase {
        int64_t rows, heads, head_dim;
        int32_t max_position;
    };
    const Rope2dCase cases[] = {
        {50, 16, 72, 100},              // the large vision tower
        {37, 12, 64, 100},              // the small one
        {3, 2, 8, 1 << 20},             // odd, positions up to the op's bound
        {1, 1, 72, 1 << 20},
    };
    for (const Rope2dCase& rc : cases)
        for (int64_t pad : {0, 3}) {
            const int64_t cols = rc.heads * rc.head_dim;
            SCOPED_TRACE(shape_name(rc.rows, cols, pad) + " head_dim " + std::to_string(rc.head_dim));
            const auto x = normal(size_t(rc.rows * cols), rng);
            const auto f = inv_freq_table(rc.head_dim / 4, rc.head_dim / 4, 100.0, rc.head_dim / 2);
            std::uniform_int_distribution<int32_t> pd(0, rc.max_position - 1);
            std::vector<int32_t> px(size_t(rc.rows)), py(size_t(rc.rows));
            for (auto& p : px) p = pd(rng);
            for (auto& p : py) p = pd(rng);
            compare(*gpu, *cpu, [&](Backend& b) {
                Placed X = place(b, rc.rows, cols, x, pad);
                b.rope_2d(X.t, rc.head_dim, f, px, py);
                expect_untouched(b, X, "rope_2d");
                return std::vector<Output>{{"rope_2d", get(b, X.t), kNormRopeTol}};
            });
        }
}

// ---------------------------------------------------------------------------------------------------

TEST(CudaOps, AveragePoolMatchesTheCpu) {
    GD_CUDA_TEST_SETUP(gpu);
    auto cpu = make_cpu_backend(2);
    std::mt19937 rng(seed);
    struct PoolCase {
        int64_t grid_w, grid_h, k, cols;
    };
    const PoolCase cases[] = {{6, 9, 3, 1152}, {48, 42, 3, 768}, {4, 2, 2, 37}, {3, 1, 1, 37}, {3, 3, 3, 5}};
    for (const PoolCase& pc : cases)
        for (int64_t pad : {0, 3}) {
            const int64_t rows = pc.grid_w * pc.grid_h, out_rows = rows / (pc.k * pc.k);
            SCOPED_TRACE(shape_name(rows, pc.cols, pad) + " grid " + std::to_string(pc.grid_w) + " x " +
                         std::to_string(pc.grid_h) + " k " + std::to_string(pc.k));
            const auto x = normal(size_t(rows * pc.cols), rng, 0.0f, 5.0f);
            compare(*gpu, *cpu, [&](Backend& b) {
                Placed X = place(b, rows, pc.cols, x, pad);
                Placed O = place(b, out_rows, pc.cols, nans(out_rows, pc.cols), pad);
                b.average_pool(X.t, pc.grid_w, pc.grid_h, pc.k, O.t);
                expect_untouched(b, O, "average_pool");
                // Same f32 products and sums in the same order: exact in practice; 1e-6 leaves room for
                // a CPU build that contracts them into FMAs.
                return std::vector<Output>{{"average_pool", get(b, O.t), kElementwiseTol}};
            });
        }
}

TEST(CudaOps, CausalDepthwiseConvMatchesTheCpu) {
    GD_CUDA_TEST_SETUP(gpu);
    auto cpu = make_cpu_backend(2);
    std::mt19937 rng(seed);
    struct ConvCase {
        int64_t rows, cols, K;
    };
    const ConvCase cases[] = {{200, 1024, 5}, {3, 37, 5}, {1, 37, 1}, {9, 64, 4}};
    for (const ConvCase& cc : cases)
        for (int64_t pad : {0, 3}) {
            SCOPED_TRACE(shape_name(cc.rows, cc.cols, pad) + " K " + std::to_string(cc.K));
            const auto x = normal(size_t(cc.rows * cc.cols), rng);
            const auto taps = normal(size_t(cc.cols * cc.K), rng, 0.0f, 0.5f);
            compare(*gpu, *cpu, [&](Backend& b) {
                Placed X = place(b, cc.rows, cc.cols, x, pad);
                Placed O = place(b, cc.rows, cc.cols, nans(cc.rows, cc.cols), pad);
                b.causal_depthwise_conv(X.t, taps, cc.K, O.t);
                expect_untouched(b, O, "causal_depthwise_conv");
                return std::vector<Output>{{"causal_depthwise_conv", get(b, O.t), kElementwiseTol}};
            });
        }
}

// ---------------------------------------------------------------------------------------------------

TEST(CudaOps, AttentionDenseMatchesTheCpu) {
    GD_CUDA_TEST_SETUP(gpu);
    auto cpu = make_cpu_backend(2);
    std::mt19937 rng(seed);
    struct DenseCase {
        int64_t N, M, heads, head_dim;
        float sd;     // of q and k: 0.5 gives scores of sd ~2 at head_dim 72, 1.0 peaked softmaxes
        bool views;   // also as column views of a wider tensor
    };
    const DenseCase cases[] = {
        {700, 700, 16, 72, 0.5f, true},     // the large vision tower
        {2500, 2500, 16, 72, 0.5f, false},
        {700, 700, 12, 64, 1.0f, true},     // the small one
        {37, 100, 2, 72, 0.5f, true},       // keys and queries differ in number, partial tiles
        {1, 65, 3, 64, 0.5f, true},         // one query, a tile and one key
        {130, 130, 2, 16, 0.5f, true},      // the smallest kernel width
        {70, 70, 1, 128, 0.3f, true},       // the largest
        {64, 64, 2, 40, 0.5f, true},        // a padded width
    };
    for (const DenseCase& dc : cases)
        for (int64_t pad : {0, 3}) {
            if (pad && !dc.views) continue;
            for (float scale : {1.0f, 0.125f}) {
                // A small scale makes the softmax nearly uniform; over 2500 keys the output is then a
                // mean of 2500 values (~0.02) and each side's own f32 accumulation error alone is a few
                // 1e-6 of it. The scale is checked on the smaller cases; the large one runs at the
                // towers' scale of 1.
                if (scale != 1.0f && dc.M > 1000) continue;
                const int64_t W = dc.heads * dc.head_dim;
                SCOPED_TRACE("N " + std::to_string(dc.N) + " M " + std::to_string(dc.M) + " heads " +
                             std::to_string(dc.heads) + " head_dim " + std::to_string(dc.head_dim) + " scale " +
                             std::to_string(scale) + (pad ? " (column views)" : ""));
                const auto q = normal(size_t(dc.N * W), rng, 0.0f, dc.sd);
                const auto k = normal(size_t(dc.M * W), rng, 0.0f, dc.sd);
                const auto v = normal(size_t(dc.M * W), rng);
                compare(*gpu, *cpu, [&](Backend& b) {
                    Placed Q = place(b, dc.N, W, q, pad), K = place(b, dc.M, W, k, pad), V = place(b, dc.M, W, v, pad);
                    Placed O = place(b, dc.N, W, nans(dc.N, W), pad);
                    b.attention_dense(Q.t, K.t, V.t, dc.heads, dc.head_dim, scale, O.t);
                    expect_untouched(b, O, "attention_dense");
                    return std::vector<Output>{{"attention_dense", get(b, O.t), kAttentionTol}};
                });
            }
        }
}

TEST(CudaOps, AttentionLocalMatchesTheCpu) {
    GD_CUDA_TEST_SETUP(gpu);
    auto cpu = make_cpu_backend(2);
    std::mt19937 rng(seed);
    struct LocalCase {
        int64_t T, heads, head_dim, window;
        float cap;
    };
    const LocalCase cases[] = {
        {200, 8, 128, 12, 50.0f},  // the audio conformer (logits of sd ~16: some near the cap)
        {5, 8, 128, 12, 50.0f},    // fewer rows than the window
        {40, 3, 37, 3, 10.0f},     // odd
        {70, 1, 16, 40, 5.0f},     // a window wider than a warp
    };
    for (const LocalCase& lc : cases)
        for (int64_t pad : {0, 3}) {
            const int64_t W = lc.heads * lc.head_dim;
            SCOPED_TRACE("T " + std::to_string(lc.T) + " heads " + std::to_string(lc.heads) + " head_dim " +
                         std::to_string(lc.head_dim) + " window " + std::to_string(lc.window) +
                         (pad ? " (column views)" : ""));
            const auto q = normal(size_t(lc.T * W), rng), k = normal(size_t(lc.T * W), rng);
            const auto v = normal(size_t(lc.T * W), rng), rel = normal(size_t(lc.window * W), rng);
            compare(*gpu, *cpu, [&](Backend& b) {
                Placed Q = place(b, lc.T, W, q, pad), K = place(b, lc.T, W, k, pad), V = place(b, lc.T, W, v, pad);
                Placed R = place(b, lc.window, W, rel, pad), O = place(b, lc.T, W, nans(lc.T, W), pad);
                b.attention_local(Q.t, K.t, V.t, R.t, lc.heads, lc.head_dim, lc.window, lc.cap, O.t);
                expect_untouched(b, O, "attention_local");
                return std::vector<Output>{{"attention_local", get(b, O.t), kAttentionTol}};
            });
        }
}

}  // namespace
}  // namespace gd
