// The encoder ops of the CPU backend (clamp, add_rows, rope_2d, attention_dense, average_pool)
// against plain double-precision loops. attention_dense is also run kernel by kernel for every ISA
// this machine has, since the op itself uses only the best one.
#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <vector>

#include "backend/backend.h"
#include "backend/op_test_support.h"
#include "backend/cpu/cpu_tower_attention.h"
#include "common/error.h"

namespace gd {
namespace {

using test::random_values;

Tensor make(Backend& b, int64_t rows, int64_t cols, const std::vector<float>& values) {
    return test::make_tensor(b, rows, cols, values);
}

std::vector<float> host(Backend& b, const Tensor& t) { return test::to_host(b, t); }

// softmax(scale * q kᵀ) v per head, in double.
std::vector<double> naive_attention(const std::vector<float>& q, const std::vector<float>& k,
                                    const std::vector<float>& v, int64_t N, int64_t M, int64_t heads, int64_t d,
                                    double scale) {
    const int64_t W = heads * d;
    std::vector<double> out(static_cast<size_t>(N * W)), p(static_cast<size_t>(M));
    for (int64_t h = 0; h < heads; ++h)
        for (int64_t i = 0; i < N; ++i) {
            double mx = -INFINITY;
            for (int64_t j = 0; j < M; ++j) {
                double s = 0;
                for (int64_t c = 0; c < d; ++c)
                    s += double(q[size_t(i * W + h * d + c)]) * k[size_t(j * W + h * d + c)];
                p[size_t(j)] = s * scale;
                mx = std::max(mx, p[size_t(j)]);
            }
            double sum = 0;
            for (auto& x : p) sum += (x = std::exp(x - mx));
            for (int64_t c = 0; c < d; ++c) {
                double acc = 0;
                for (int64_t j = 0; j < M; ++j) acc += p[size_t(j)] * v[size_t(j * W + h * d + c)];
                out[size_t(i * W + h * d + c)] = acc / sum;
            }
        }
    return out;
}

// The rounding error an f32 computation cannot avoid: each score is an f32 dot product whose error
// is up to about n·2^-24 of sum_c |q_c k_c|, and an error e in a score changes its softmax weight by
// a factor exp(e). Four times the largest such sum (times 2^-24) bounds the relative error of every
// output, plus a floor for the sums; an indexing or rescaling bug gives errors of order 1.
double attention_tolerance(const std::vector<float>& q, const std::vector<float>& k, int64_t N, int64_t M,
                           int64_t heads, int64_t d, double scale) {
    const int64_t W = heads * d;
    double worst = 0;
    for (int64_t h = 0; h < heads; ++h)
        for (int64_t i = 0; i < N; ++i)
            for (int64_t j = 0; j < M; ++j) {
                double s = 0;
                for (int64_t c = 0; c < d; ++c)
                    s += std::fabs(double(q[size_t(i * W + h * d + c)]) * k[size_t(j * W + h * d + c)]);
                worst = std::max(worst, s * scale);
            }
    return 1e-6 + 4.0 * worst * std::ldexp(1.0, -24);
}

// max |got - want| / max |want|
double rel_error(const std::vector<float>& got, const std::vector<double>& want) {
    double diff = 0, scale = 0;
    for (size_t i = 0; i < want.size(); ++i) {
        diff = std::max(diff, std::fabs(got[i] - want[i]));
        scale = std::max(scale, std::fabs(want[i]));
    }
    return diff / scale;
}

struct AttentionCase {
    int64_t N, M, heads, d;
    float spread;  // q and k in [-spread, spread]: large values make peaked softmaxes
};

// Shapes around the kernel's blocking: 1 row, rows past a query block (192), keys past a key chunk
// (256) and not a multiple of 16, head sizes of both towers (64, 72), the tiny towers (16) and odd
// ones (8, 40, 80, 100 > one pass of value vectors).
const AttentionCase kCases[] = {
    {1, 1, 1, 16, 1.0f},    {5, 7, 2, 16, 1.0f},     {50, 300, 2, 64, 1.0f}, {97, 517, 3, 72, 1.0f},
    {48, 256, 1, 8, 2.0f},  {49, 257, 2, 40, 1.0f},  {13, 700, 1, 80, 1.5f}, {20, 290, 2, 100, 1.0f},
    {64, 600, 2, 72, 4.0f}, {200, 300, 2, 72, 1.0f},
};

TEST(TowerOps, AttentionDenseMatchesDoubleLoop) {
    auto b = make_cpu_backend(2);
    for (const AttentionCase& c : kCases) {
        const int64_t W = c.heads * c.d;
        const auto qv = random_values(size_t(c.N * W), 1, -c.spread, c.spread);
        const auto kv = random_values(size_t(c.M * W), 2, -c.spread, c.spread);
        const auto vv = random_values(size_t(c.M * W), 3, -1.0f, 1.0f);
        for (float scale : {1.0f, 0.125f}) {
            Tensor out = b->alloc(c.N, W);
            b->attention_dense(make(*b, c.N, W, qv), make(*b, c.M, W, kv), make(*b, c.M, W, vv), c.heads, c.d, scale,
                               out);
            const double err = rel_error(host(*b, out), naive_attention(qv, kv, vv, c.N, c.M, c.heads, c.d, scale));
            EXPECT_LT(err, attention_tolerance(qv, kv, c.N, c.M, c.heads, c.d, scale))
                << "N " << c.N << " M " << c.M << " heads " << c.heads << " d " << c.d << " scale " << scale;
        }
    }
}

TEST(TowerOps, AttentionKernelEveryIsa) {
    using namespace cpu;
    for (Isa isa : {Isa::Scalar, Isa::Avx2, Isa::Avx512}) {
        if (!isa_supported(isa)) continue;
        for (const AttentionCase& c : kCases) {
            // One head, all rows in one task (rows may exceed the op's query block: the kernel must not care).
            const auto qv = random_values(size_t(c.N * c.d), 4, -c.spread, c.spread);
            const auto kv = random_values(size_t(c.M * c.d), 5, -c.spread, c.spread);
            const auto vv = random_values(size_t(c.M * c.d), 6, -1.0f, 1.0f);
            std::vector<float> kt(size_t(c.d * c.M));
            for (int64_t j = 0; j < c.M; ++j)
                for (int64_t x = 0; x < c.d; ++x) kt[size_t(x * c.M + j)] = kv[size_t(j * c.d + x)];
            std::vector<float> out(size_t(c.N * c.d), NAN);
            std::vector<float> scratch(detail::dense_attention_scratch(c.N, c.d));
            detail::DenseAttentionTask t;
            t.q = qv.data();
            t.ldq = c.d;
            t.kt = kt.data();
            t.ldkt = c.M;
            t.v = vv.data();
            t.ldv = c.d;
            t.out = out.data();
            t.ldo = c.d;
            t.rows = c.N;
            t.keys = c.M;
            t.head_dim = c.d;
            t.scale = 1.0f;
            t.scratch = scratch.data();
            detail::dense_attention_block(isa, t);
            EXPECT_LT(rel_error(out, naive_attention(qv, kv, vv, c.N, c.M, 1, c.d, 1.0)),
                      attention_tolerance(qv, kv, c.N, c.M, 1, c.d, 1.0))
                << isa_name(isa) << " N " << c.N << " M " << c.M << " d " << c.d;
        }
    }
}

// Scores that grow along the keys make every chunk raise the running maximum (the rescaling path),
// and a score gap of ~100 makes the early chunks' weights underflow to exactly zero.
TEST(TowerOps, AttentionDenseRunningMaximum) {
    auto b = make_cpu_backend(2);
    const int64_t N = 3, M = 1000, d = 16;
    std::vector<float> q(size_t(N * d), 0.0f), k(size_t(M * d), 0.0f);
    const auto v = random_values(size_t(M * d), 7, -1.0f, 1.0f);
    for (int64_t i = 0; i < N; ++i) q[size_t(i * d)] = 1.0f + float(i);
    for (int64_t j = 0; j < M; ++j) k[size_t(j * d)] = 0.05f * float(j);
    Tensor out = b->alloc(N, d);
    b->attention_dense(make(*b, N, d, q), make(*b, M, d, k), make(*b, M, d, v), 1, d, 1.0f, out);
    EXPECT_LT(rel_error(host(*b, out), naive_attention(q, k, v, N, M, 1, d, 1.0)),
              attention_tolerance(q, k, N, M, 1, d, 1.0));
}

TEST(TowerOps, AttentionDenseRejectsBadShapes) {
    auto b = make_cpu_backend(1);
    Tensor q = b->alloc(4, 32), k = b->alloc(6, 32), v = b->alloc(5, 32), out = b->alloc(4, 32);
    EXPECT_THROW(b->attention_dense(q, k, v, 2, 16, 1.0f, out), Error);   // k and v rows differ
    EXPECT_THROW(b->attention_dense(q, k, k, 3, 16, 1.0f, out), Error);   // heads * head_dim != cols
    EXPECT_THROW(b->attention_dense(q, k, k, 2, 16, -1.0f, out), Error);  // scale
}

TEST(TowerOps, Rope2dRotatesEachHalfByItsAxis) {
    auto b = make_cpu_backend(2);
    const int64_t T = 7, heads = 3, d = 16, q4 = d / 4;
    const auto x = random_values(size_t(T * heads * d), 8, -1.0f, 1.0f);
    std::vector<float> inv(static_cast<size_t>(q4));
    for (int64_t j = 0; j < q4; ++j) inv[size_t(j)] = 1.0f / std::pow(100.0f, float(2 * j) / float(d / 2));
    std::vector<int32_t> px = {0, 1, 2, 5, 9, 0, 127}, py = {0, 0, 3, 1, 4, 127, 127};
    Tensor t = make(*b, T, heads * d, x);
    b->rope_2d(t, d, inv, px, py);
    const auto got = host(*b, t);
    double worst = 0;
    for (int64_t r = 0; r < T; ++r)
        for (int64_t h = 0; h < heads; ++h)
            for (int axis = 0; axis < 2; ++axis) {
                const double pos = axis == 0 ? px[size_t(r)] : py[size_t(r)];
                const size_t base = size_t(r * heads * d + h * d + axis * 2 * q4);
                for (int64_t j = 0; j < q4; ++j) {
                    const double a = pos * double(inv[size_t(j)]), lo = x[base + size_t(j)],
                                 hi = x[base + size_t(j + q4)];
                    worst = std::max(worst, std::fabs(got[base + size_t(j)] - (lo * std::cos(a) - hi * std::sin(a))));
                    worst =
                        std::max(worst, std::fabs(got[base + size_t(j + q4)] - (hi * std::cos(a) + lo * std::sin(a))));
                }
            }
    EXPECT_LT(worst, 2e-5);  // the f32 angle of position 127 is off by up to ~4e-6 rad
    EXPECT_THROW(b->rope_2d(t, d, inv, px, {0}), Error);
    EXPECT_THROW(b->rope_2d(t, 10, {1.0f, 1.0f}, px, py), Error);  // head size not a multiple of 4
    EXPECT_THROW(b->rope_2d(t, d, {1.0f}, px, py), Error);         // frequency table of the wrong size
    px[3] = -1;
    EXPECT_THROW(b->rope_2d(t, d, inv, px, py), Error);  // negative position
}

TEST(TowerOps, AveragePoolRasterOrder) {
    auto b = make_cpu_backend(2);
    const int64_t gw = 6, gh = 9, C = 5;
    const auto x = random_values(size_t(gw * gh * C), 9, -3.0f, 3.0f);
    Tensor out = b->alloc((gw / 3) * (gh / 3), C);
    b->average_pool(make(*b, gw * gh, C, x), gw, gh, 3, out);
    const auto got = host(*b, out);
    for (int64_t oy = 0; oy < gh / 3; ++oy)
        for (int64_t ox = 0; ox < gw / 3; ++ox)
            for (int64_t c = 0; c < C; ++c) {
                double s = 0;
                for (int64_t dy = 0; dy < 3; ++dy)
                    for (int64_t dx = 0; dx < 3; ++dx) s += x[size_t(((oy * 3 + dy) * gw + ox * 3 + dx) * C + c)];
                EXPECT_NEAR(got[size_t((oy * (gw / 3) + ox) * C + c)], s / 9, 1e-6);
            }
    Tensor bad = b->alloc(4, C);
    EXPECT_THROW(b->average_pool(make(*b, 4 * 4, C, std::vector<float>(16 * C)), 4, 4, 3, bad), Error);
}

TEST(TowerOps, ClampAndAddRows) {
    auto b = make_cpu_backend(2);
    const std::vector<float> x = {-5.0f, -1.0f, 0.5f, 3.0f, NAN, 10.0f};
    Tensor t = make(*b, 2, 3, x), o = b->alloc(2, 3);
    b->clamp(t, -2.0f, 2.5f, o);
    const auto got = host(*b, o);
    EXPECT_EQ(got[0], -2.0f);
    EXPECT_EQ(got[1], -1.0f);
    EXPECT_EQ(got[2], 0.5f);
    EXPECT_EQ(got[3], 2.5f);
    EXPECT_TRUE(std::isnan(got[4]));  // NaN stays NaN, as torch.clamp keeps it
    EXPECT_EQ(got[5], 2.5f);
    EXPECT_EQ(host(*b, t)[0], -5.0f);  // out of place leaves x alone
    b->add_rows(o, {1.0f, 2.0f, 3.0f});
    EXPECT_EQ(host(*b, o)[3], 3.5f);
    EXPECT_THROW(b->add_rows(o, {1.0f}), Error);
}

}  // namespace
}  // namespace gd
