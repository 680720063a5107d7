// kv_store + attention over the KV cache on the CUDA backend against the CPU backend, on fresh
// random inputs: the decode kernel (T <= 4, split over the KV length) and the prefill kernel (tiled,
// online softmax), full and sliding layers, wrapped rings, GQA ratios, the real head dims (256, 512)
// and the tiny models' (16, 32), bidirectional image blocks, and q/out as column views.
//
// Tolerance: both backends compute in f32 but sum in different orders (the CPU's SIMD dot products,
// a double softmax sum and one normalisation; the GPU's fma chains, an online softmax rescaled by
// exp(m_old - m_new) and, for decode, a combination of chunk partials). K and V are uniform in
// [-1, 1] and q in [-1/4, 1/4], so scores have a spread of ~sqrt(d)/12 (<= 2): the rounding
// differences of a 512-term dot product stay near 1e-6 relative, while the softmax stays spread over
// many keys, so one key wrongly included or dropped (a mask, window, block or ring-slot error) or a
// missed tile moves the output by ~1/keys, far above 1e-5. rel_l2 <= 1e-5 sits between the two.
#include <algorithm>
#include <cmath>
#include <limits>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "common/error.h"
#include "cuda/cuda_test_support.h"

namespace gd {
namespace {

using test::get;
using test::max_abs_diff;
using test::put;
using test::rel_l2;

constexpr double kTolerance = 1e-5;

struct Case {
    std::string name;
    int64_t T = 1, first = 0;  // query rows and the position of row 0
    int64_t q_heads = 4, kv_heads = 2, head_dim = 256;
    int64_t window = 0;  // 0 = full causal
    int64_t capacity = 0;
    bool ring = false;
    std::vector<std::pair<int64_t, int64_t>> blocks;
    bool views = false;  // q and out as column views (ld > cols) of wider tensors
};

// Host values shared by both backends.
struct Inputs {
    std::vector<float> hist_k, hist_v;  // positions 0 .. first-1, [first, kv width]
    std::vector<float> k, v;            // this call's rows, [T, kv width]
    std::vector<float> q;               // [T, q width]
};

std::vector<float> random_values(std::mt19937& rng, int64_t n, float range = 1.0f) {
    std::uniform_real_distribution<float> u(-range, range);
    std::vector<float> v(static_cast<size_t>(n));
    for (float& x : v) x = u(rng);
    return v;
}

Inputs make_inputs(const Case& c, uint32_t seed) {
    std::mt19937 rng(seed);
    const int64_t width = c.kv_heads * c.head_dim;
    Inputs in;
    in.hist_k = random_values(rng, c.first * width);
    in.hist_v = random_values(rng, c.first * width);
    in.k = random_values(rng, c.T * width);
    in.v = random_values(rng, c.T * width);
    in.q = random_values(rng, c.T * c.q_heads * c.head_dim, 0.25f);
    return in;
}

std::vector<float> rows_of(const std::vector<float>& all, int64_t first_row, int64_t rows, int64_t width) {
    return std::vector<float>(all.begin() + first_row * width, all.begin() + (first_row + rows) * width);
}

constexpr int64_t kPadLeft = 3, kPadRight = 5;  // the column view's offset and the columns after it

// Builds the layer's cache on backend b the way a sequence would (history in chunks, so a ring wraps
// as often as it would in use), stores this call's rows, runs attention; returns out [T, q width].
std::vector<float> run(Backend& b, const Case& c, const Inputs& in) {
    const int64_t width = c.kv_heads * c.head_dim, qw = c.q_heads * c.head_dim;
    KvLayer layer;
    layer.k = b.alloc(c.capacity, width);
    layer.v = b.alloc(c.capacity, width);
    layer.capacity = c.capacity;
    layer.kv_heads = c.kv_heads;
    layer.head_dim = c.head_dim;
    layer.ring = c.ring;

    const int64_t chunk = std::min<int64_t>(c.capacity, 256);
    for (int64_t p0 = 0; p0 < c.first; p0 += chunk) {
        const int64_t n = std::min(chunk, c.first - p0);
        const Tensor k = put(b, n, width, rows_of(in.hist_k, p0, n, width));
        const Tensor v = put(b, n, width, rows_of(in.hist_v, p0, n, width));
        b.kv_store(layer, k, v, p0);
    }
    b.kv_store(layer, put(b, c.T, width, in.k), put(b, c.T, width, in.v), c.first);

    // With views, the columns around q's view hold NaN (a read outside the view poisons the result)
    // and out's whole parent starts as NaN (an unwritten output shows; so does a write outside).
    const int64_t full_cols = c.views ? qw + kPadLeft + kPadRight : qw;
    const int64_t off = c.views ? kPadLeft : 0;
    const float nan = std::numeric_limits<float>::quiet_NaN();
    std::vector<float> q_host(static_cast<size_t>(c.T * full_cols), nan);
    for (int64_t t = 0; t < c.T; ++t) {
        std::copy_n(in.q.begin() + t * qw, qw, q_host.begin() + t * full_cols + off);
    }
    const Tensor q_parent = put(b, c.T, full_cols, q_host);
    const Tensor out_parent = put(b, c.T, full_cols, std::vector<float>(static_cast<size_t>(c.T * full_cols), nan));
    const Tensor q = c.views ? q_parent.view_cols(off, qw) : q_parent;
    const Tensor out = c.views ? out_parent.view_cols(off, qw) : out_parent;

    AttentionParams p;
    p.q_heads = c.q_heads;
    p.kv_heads = c.kv_heads;
    p.head_dim = c.head_dim;
    p.window = c.window;
    p.first_position = c.first;
    p.scale = 1.0f;
    p.blocks = c.blocks;
    b.attention(q, layer, p, out);

    const std::vector<float> all = get(b, out_parent);
    std::vector<float> result(static_cast<size_t>(c.T * qw));
    int64_t outside_written = 0;
    for (int64_t t = 0; t < c.T; ++t) {
        for (int64_t col = 0; col < full_cols; ++col) {
            const float x = all[static_cast<size_t>(t * full_cols + col)];
            if (col >= off && col < off + qw) {
                result[static_cast<size_t>(t * qw + col - off)] = x;
            } else if (!std::isnan(x)) {
                ++outside_written;
            }
        }
    }
    EXPECT_EQ(outside_written, 0) << b.name() << " wrote outside the output view";
    return result;
}

void check_cases(const std::vector<Case>& cases, Backend& gpu, uint32_t seed) {
    auto cpu = make_cpu_backend(2);
    for (const Case& c : cases) {
        SCOPED_TRACE(c.name);
        const Inputs in = make_inputs(c, seed);
        const std::vector<float> ref = run(*cpu, c, in);
        const std::vector<float> got = run(gpu, c, in);
        const double err = rel_l2(got, ref);
        EXPECT_LE(err, kTolerance) << "max |diff| " << max_abs_diff(got, ref);
    }
}

// Ring capacity the KV cache would give a sliding layer: window + chunk - 1.
int64_t ring_capacity(int64_t window, int64_t chunk) { return window + chunk - 1; }

TEST(CudaAttention, DecodeMatchesCpu) {
    GD_CUDA_TEST_SETUP(gpu);
    std::vector<Case> cases;
    {
        Case c{"T=1 full d256 gqa2"};
        c.T = 1; c.first = 100; c.q_heads = 4; c.kv_heads = 2; c.head_dim = 256; c.capacity = 256;
        cases.push_back(c);
    }
    {
        Case c{"T=1 first token (one key)"};
        c.T = 1; c.first = 0; c.q_heads = 8; c.kv_heads = 1; c.head_dim = 256; c.capacity = 64;
        cases.push_back(c);
    }
    {
        Case c{"T=2 full d512 gqa8, several chunks"};
        c.T = 2; c.first = 900; c.q_heads = 16; c.kv_heads = 2; c.head_dim = 512; c.capacity = 1024;
        cases.push_back(c);
    }
    {
        // 256 chunks of 64 keys over the capacity, 157 of them in use: the combine kernel's
        // second pass over its 128-chunk tile.
        Case c{"T=1 full d64 gqa1, long cache"};
        c.T = 1; c.first = 10000; c.q_heads = 2; c.kv_heads = 2; c.head_dim = 64; c.capacity = 16384;
        cases.push_back(c);
    }
    {
        Case c{"T=1 sliding w16 wrapped ring d256 gqa8"};
        c.T = 1; c.first = 100; c.q_heads = 8; c.kv_heads = 1; c.head_dim = 256; c.window = 16;
        c.capacity = ring_capacity(16, 4); c.ring = true;
        cases.push_back(c);
    }
    {
        Case c{"T=2 sliding w512 wrapped ring d256 gqa2"};
        c.T = 2; c.first = 1500; c.q_heads = 4; c.kv_heads = 2; c.head_dim = 256; c.window = 512;
        c.capacity = ring_capacity(512, 64); c.ring = true;
        cases.push_back(c);
    }
    {
        Case c{"T=1 sliding w512 on a full cache d512 gqa8"};
        c.T = 1; c.first = 700; c.q_heads = 8; c.kv_heads = 1; c.head_dim = 512; c.window = 512; c.capacity = 800;
        cases.push_back(c);
    }
    {
        Case c{"T=1 tiny sliding d16 w16 ring"};
        c.T = 1; c.first = 57; c.q_heads = 4; c.kv_heads = 1; c.head_dim = 16; c.window = 16;
        c.capacity = ring_capacity(16, 8); c.ring = true;
        cases.push_back(c);
    }
    {
        Case c{"T=2 tiny full d32 gqa4"};
        c.T = 2; c.first = 70; c.q_heads = 4; c.kv_heads = 1; c.head_dim = 32; c.capacity = 128;
        cases.push_back(c);
    }
    {
        Case c{"T=1 gqa16 (two sub-groups of 8 heads)"};
        c.T = 1; c.first = 250; c.q_heads = 16; c.kv_heads = 1; c.head_dim = 64; c.capacity = 300;
        cases.push_back(c);
    }
    {
        Case c{"T=1 gqa3 d96 (padded group and head dim)"};
        c.T = 1; c.first = 150; c.q_heads = 6; c.kv_heads = 2; c.head_dim = 96; c.capacity = 200;
        cases.push_back(c);
    }
    {
        Case c{"T=2 one block over both rows, w16 ring"};
        c.T = 2; c.first = 40; c.q_heads = 4; c.kv_heads = 2; c.head_dim = 256; c.window = 16;
        c.capacity = ring_capacity(16, 2); c.ring = true;
        c.blocks = {{40, 42}};
        cases.push_back(c);
    }
    {
        Case c{"T=4 column views d256 gqa2"};
        c.T = 4; c.first = 33; c.q_heads = 4; c.kv_heads = 2; c.head_dim = 256; c.capacity = 64; c.views = true;
        cases.push_back(c);
    }
    {
        Case c{"T=1 column views sliding w16 ring d512"};
        c.T = 1; c.first = 300; c.q_heads = 8; c.kv_heads = 1; c.head_dim = 512; c.window = 16;
        c.capacity = ring_capacity(16, 8); c.ring = true; c.views = true;
        cases.push_back(c);
    }
    check_cases(cases, *gpu, seed);
}

TEST(CudaAttention, PrefillMatchesCpu) {
    GD_CUDA_TEST_SETUP(gpu);
    std::vector<Case> cases;
    {
        Case c{"T=7 full d256 gqa2 from position 0"};
        c.T = 7; c.first = 0; c.q_heads = 4; c.kv_heads = 2; c.head_dim = 256; c.capacity = 64;
        cases.push_back(c);
    }
    {
        Case c{"T=7 full d256 gqa8 continuing"};
        c.T = 7; c.first = 45; c.q_heads = 8; c.kv_heads = 1; c.head_dim = 256; c.capacity = 64;
        cases.push_back(c);
    }
    {
        Case c{"T=64 full d512 gqa8 continuing"};
        c.T = 64; c.first = 37; c.q_heads = 16; c.kv_heads = 2; c.head_dim = 512; c.capacity = 128;
        cases.push_back(c);
    }
    {
        Case c{"T=300 full d256 gqa2 continuing"};
        c.T = 300; c.first = 200; c.q_heads = 4; c.kv_heads = 2; c.head_dim = 256; c.capacity = 512;
        cases.push_back(c);
    }
    {
        Case c{"T=300 full d256 gqa1 from position 0"};
        c.T = 300; c.first = 0; c.q_heads = 2; c.kv_heads = 2; c.head_dim = 256; c.capacity = 300;
        cases.push_back(c);
    }
    {
        Case c{"T=300 sliding w16 wrapped ring d256 gqa8"};
        c.T = 300; c.first = 1000; c.q_heads = 8; c.kv_heads = 1; c.head_dim = 256; c.window = 16;
        c.capacity = ring_capacity(16, 300); c.ring = true;
        cases.push_back(c);
    }
    {
        Case c{"T=300 sliding w512 wrapped ring d256 gqa2"};
        c.T = 300; c.first = 2000; c.q_heads = 4; c.kv_heads = 2; c.head_dim = 256; c.window = 512;
        c.capacity = ring_capacity(512, 300); c.ring = true;
        cases.push_back(c);
    }
    {
        Case c{"T=64 sliding w512 wrapped ring d512 gqa8"};
        c.T = 64; c.first = 900; c.q_heads = 8; c.kv_heads = 1; c.head_dim = 512; c.window = 512;
        c.capacity = ring_capacity(512, 64); c.ring = true;
        cases.push_back(c);
    }
    {
        Case c{"T=64 sliding w16 on a full cache d512 gqa2"};
        c.T = 64; c.first = 100; c.q_heads = 4; c.kv_heads = 2; c.head_dim = 512; c.window = 16; c.capacity = 200;
        cases.push_back(c);
    }
    {
        Case c{"T=64 tiny sliding d16 w16 ring gqa4"};
        c.T = 64; c.first = 100; c.q_heads = 4; c.kv_heads = 1; c.head_dim = 16; c.window = 16;
        c.capacity = ring_capacity(16, 64); c.ring = true;
        cases.push_back(c);
    }
    {
        Case c{"T=64 tiny full d32 gqa4 continuing"};
        c.T = 64; c.first = 20; c.q_heads = 4; c.kv_heads = 1; c.head_dim = 32; c.capacity = 128;
        cases.push_back(c);
    }
    {
        Case c{"T=7 tiny sliding d16 gqa2 from position 0"};
        c.T = 7; c.first = 0; c.q_heads = 4; c.kv_heads = 2; c.head_dim = 16; c.window = 16;
        c.capacity = ring_capacity(16, 7); c.ring = true;
        cases.push_back(c);
    }
    {
        Case c{"T=64 gqa3 d96 (padded head dim)"};
        c.T = 64; c.first = 10; c.q_heads = 6; c.kv_heads = 2; c.head_dim = 96; c.capacity = 100;
        cases.push_back(c);
    }
    {
        Case c{"T=64 column views sliding w16 ring d256 gqa2"};
        c.T = 64; c.first = 200; c.q_heads = 4; c.kv_heads = 2; c.head_dim = 256; c.window = 16;
        c.capacity = ring_capacity(16, 64); c.ring = true; c.views = true;
        cases.push_back(c);
    }
    {
        Case c{"T=300 column views full d512 gqa8"};
        c.T = 300; c.first = 5; c.q_heads = 8; c.kv_heads = 1; c.head_dim = 512; c.capacity = 320; c.views = true;
        cases.push_back(c);
    }
    check_cases(cases, *gpu, seed);
}

TEST(CudaAttention, BidirectionalBlocksMatchCpu) {
    GD_CUDA_TEST_SETUP(gpu);
    std::vector<Case> cases;
    {
        // Longer than the window: the block's first rows see keys beyond i + W.
        Case c{"one block of 30, w16 ring"};
        c.T = 64; c.first = 40; c.q_heads = 4; c.kv_heads = 2; c.head_dim = 256; c.window = 16;
        c.capacity = ring_capacity(16, 64); c.ring = true;
        c.blocks = {{50, 80}};
        cases.push_back(c);
    }
    {
        Case c{"two blocks, w16 ring"};
        c.T = 64; c.first = 40; c.q_heads = 4; c.kv_heads = 2; c.head_dim = 256; c.window = 16;
        c.capacity = ring_capacity(16, 64); c.ring = true;
        c.blocks = {{45, 60}, {70, 95}};
        cases.push_back(c);
    }
    {
        Case c{"blocks at the first and last rows, tiny d16"};
        c.T = 64; c.first = 40; c.q_heads = 4; c.kv_heads = 1; c.head_dim = 16; c.window = 16;
        c.capacity = ring_capacity(16, 64); c.ring = true;
        c.blocks = {{40, 48}, {90, 104}};
        cases.push_back(c);
    }
    {
        Case c{"one image block of 256, w512 ring"};
        c.T = 300; c.first = 700; c.q_heads = 4; c.kv_heads = 2; c.head_dim = 256; c.window = 512;
        c.capacity = ring_capacity(512, 300); c.ring = true;
        c.blocks = {{740, 996}};
        cases.push_back(c);
    }
    {
        Case c{"two blocks, w512 ring, d512 gqa8"};
        c.T = 300; c.first = 710; c.q_heads = 8; c.kv_heads = 1; c.head_dim = 512; c.window = 512;
        c.capacity = ring_capacity(512, 300); c.ring = true;
        c.blocks = {{710, 790}, {800, 1000}};
        cases.push_back(c);
    }
    {
        Case c{"one block on a full causal cache"};
        c.T = 64; c.first = 30; c.q_heads = 4; c.kv_heads = 2; c.head_dim = 128; c.capacity = 200;
        c.blocks = {{40, 60}};
        cases.push_back(c);
    }
    {
        Case c{"decode rows inside a block, column views"};
        c.T = 3; c.first = 64; c.q_heads = 8; c.kv_heads = 1; c.head_dim = 256; c.window = 16;
        c.capacity = ring_capacity(16, 3); c.ring = true; c.views = true;
        c.blocks = {{65, 67}};
        cases.push_back(c);
    }
    check_cases(cases, *gpu, seed);
}

TEST(CudaAttention, UnsupportedHeadDimThrows) {
    GD_CUDA_TEST_SETUP(gpu);
    (void)seed;
    const int64_t d = 640;  // past the kernels' 512
    KvLayer layer;
    layer.k = gpu->alloc(8, d);
    layer.v = gpu->alloc(8, d);
    layer.capacity = 8;
    layer.kv_heads = 1;
    layer.head_dim = d;
    const Tensor q = gpu->alloc(1, d), out = gpu->alloc(1, d);
    AttentionParams p;
    p.q_heads = 1;
    p.kv_heads = 1;
    p.head_dim = d;
    EXPECT_THROW(gpu->attention(q, layer, p, out), Error);
}

}  // namespace
}  // namespace gd
