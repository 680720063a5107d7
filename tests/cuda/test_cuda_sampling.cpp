// Token selection on the GPU against the CPU, on fresh random logits (GD_TEST_SEED repeats a run):
// Backend::sample_token of the CUDA backend must return the CPU backend's token for every draw u and
// every parameter combination, for a small vocabulary and for the real one (262144).
//
// Exactness: penalties, temperature and the sort order are the same f32 operations and the same
// (value desc, id asc) order on both sides, so the candidate list is identical. The probabilities are
// computed in double on both sides but summed in different orders (and CUDA's exp may differ from
// glibc's by an ulp), so the cumulative distribution the pick walks agrees only to ~1e-15. A draw u
// closer than 1e-9 to one of the host's cumulative boundaries could therefore legitimately pick the
// neighbouring token: such draws are skipped, and counted. Draws just outside that margin (1e-7 from a
// boundary) are included on purpose, as are logits with many exact ties, where only the id order
// decides which token a u lands on.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <limits>
#include <numeric>
#include <random>
#include <string>
#include <vector>

#include "backend/backend.h"
#include "common/error.h"
#include "cuda/cuda_test_support.h"
#include "sampling/sampler.h"

#if defined(GEMMADESK_HAVE_CUDA)
#include <cuda_runtime_api.h>

#include "backend/cuda/cuda_kernels.h"
#endif

namespace gd {
namespace {

using test::put;

constexpr double kBoundaryMargin = 1e-9;
const float kNaN = std::numeric_limits<float>::quiet_NaN();
const float kInf = std::numeric_limits<float>::infinity();

// Logits of a language model's rough shape: normal with a wide spread (so top-p cuts somewhere in the
// middle of a large vocabulary), or (ties) rounded to multiples of 0.25 so that many tokens share a
// value.
std::vector<float> make_logits(int64_t V, bool ties, std::mt19937& rng) {
    std::normal_distribution<float> d(0.0f, 3.0f);
    std::vector<float> v(static_cast<size_t>(V));
    for (float& x : v) x = ties ? std::round(d(rng) * 4.0f) / 4.0f : d(rng);
    return v;
}

// A recent window built from the best tokens, with repeats, so that the penalties move the top of the
// distribution (and a token repeated three times gets three frequency penalties).
std::vector<int32_t> make_recent(const std::vector<float>& logits) {
    std::vector<int32_t> order(logits.size());
    std::iota(order.begin(), order.end(), 0);
    auto key = [&](int32_t i) { return std::isfinite(logits[size_t(i)]) ? logits[size_t(i)] : -kInf; };
    std::partial_sort(order.begin(), order.begin() + 6, order.end(), [&](int32_t a, int32_t b) { return key(a) > key(b); });
    const int32_t a = order[0], b = order[1], c = order[2], d = order[3], e = order[4], f = order[5];
    return {f, e, a, b, a, c, a, d, b, e, a, c};
}

struct ParamCase {
    std::string name;
    SamplingParams p;
    bool with_recent = false;
};

std::vector<ParamCase> param_cases() {
    std::vector<ParamCase> cases;
    auto add = [&](const std::string& name, float temperature, int32_t top_k, float top_p, float min_p,
                   bool recent = false, float rep = 1.0f, float presence = 0.0f, float frequency = 0.0f,
                   int32_t window = 64) {
        ParamCase c;
        c.name = name;
        c.p.temperature = temperature;
        c.p.top_k = top_k;
        c.p.top_p = top_p;
        c.p.min_p = min_p;
        c.p.repetition_penalty = rep;
        c.p.presence_penalty = presence;
        c.p.frequency_penalty = frequency;
        c.p.penalty_window = window;
        c.with_recent = recent;
        cases.push_back(c);
    };
    add("greedy", 0.0f, 64, 0.95f, 0.0f);
    add("t0.7 k64 p0.95 minp0.05", 0.7f, 64, 0.95f, 0.05f);
    add("t0.7 k64", 0.7f, 64, 1.0f, 0.0f);
    add("t1 k0 p0.9", 1.0f, 0, 0.9f, 0.0f);
    add("t1.3 k0 (whole vocabulary)", 1.3f, 0, 1.0f, 0.0f);
    add("t0.8 k0 minp0.1", 0.8f, 0, 1.0f, 0.1f);
    add("t1 k1", 1.0f, 1, 1.0f, 0.0f);
    // Window 8 of the 12 recent ids: the backend cuts the list as the sampler does.
    add("penalties t0.9 k40 p0.95 window 8", 0.9f, 40, 0.95f, 0.0f, true, 1.3f, 0.4f, 0.25f, 8);
    add("penalties t1 k0 p0.9 whole window", 1.0f, 0, 0.9f, 0.0f, true, 1.5f, 0.0f, 0.5f, 0);
    add("penalties greedy", 0.0f, 64, 0.95f, 0.0f, true, 2.0f, 1.0f, 1.0f, 64);
    add("repetition only, minp0.02", 0.6f, 0, 0.98f, 0.02f, true, 1.2f, 0.0f, 0.0f, 64);
    return cases;
}

// The draws: uniform ones, 0, and pairs 1e-7 either side of the first cumulative boundaries.
std::vector<double> make_draws(const std::vector<std::pair<int32_t, float>>& cand, std::mt19937& rng) {
    std::uniform_real_distribution<double> d(0.0, 1.0);
    std::vector<double> u = {0.0};
    for (int i = 0; i < 30; ++i) u.push_back(d(rng));
    double cum = 0;
    for (size_t i = 0; i + 1 < cand.size() && i < 12; ++i) {
        cum += cand[i].second;
        for (double off : {-1e-7, 1e-7})
            if (cum + off >= 0.0 && cum + off < 1.0) u.push_back(cum + off);
    }
    return u;
}

// Whether u lies within kBoundaryMargin of a cumulative boundary of the host's candidates (as
// Sampler::pick sums them).
bool near_boundary(const std::vector<std::pair<int32_t, float>>& cand, double u) {
    double cum = 0;
    for (const auto& c : cand) {
        cum += c.second;
        if (std::fabs(u - cum) < kBoundaryMargin) return true;
        if (cum > u + kBoundaryMargin) break;  // the sums only grow
    }
    return false;
}

// Compares the GPU's tokens with the CPU's for the row `logits` under every parameter case.
void compare_all(Backend& gpu, Backend& cpu, const std::vector<float>& logits, const std::vector<int32_t>& recent,
                 std::mt19937& rng, const std::string& what) {
    const int64_t V = static_cast<int64_t>(logits.size());
    const Tensor lg_gpu = put(gpu, 1, V, logits), lg_cpu = put(cpu, 1, V, logits);
    int64_t compared = 0, skipped = 0;
    for (const ParamCase& pc : param_cases()) {
        SCOPED_TRACE(what + ", " + pc.name);
        const std::vector<int32_t>& rec = pc.with_recent ? recent : std::vector<int32_t>{};
        // The CPU backend's choice is Sampler::pick over these candidates (sample_with); checked on a
        // few draws below, then used directly, since sorting 262144 logits per draw on the CPU is slow.
        const auto cand = Sampler(pc.p).candidates(logits, rec);
        const auto draws = make_draws(cand, rng);
        for (size_t i = 0; i < draws.size(); ++i) {
            const double u = draws[i];
            if (pc.p.temperature > 0 && near_boundary(cand, u)) {
                ++skipped;
                continue;
            }
            const int32_t want = Sampler::pick(cand, u);
            if (i < 2) {  // draw 0 is u = 0, draw 1 a random one
                ASSERT_EQ(cpu.sample_token(lg_cpu, pc.p, rec, u), want) << "u = " << u;
            }
            EXPECT_EQ(gpu.sample_token(lg_gpu, pc.p, rec, u), want) << "u = " << u << ", " << cand.size() << " candidates";
            ++compared;
        }
    }
    EXPECT_GT(compared, 0);
    // Boundaries are a negligible fraction of [0, 1): the margin must not hide a systematic difference.
    EXPECT_LE(skipped, compared / 20) << what << ": too many draws skipped as near a boundary";
    std::printf("[ info ] %s: %lld draws compared, %lld skipped within %g of a boundary\n", what.c_str(),
                static_cast<long long>(compared), static_cast<long long>(skipped), kBoundaryMargin);
}

TEST(CudaSampling, TokensMatchTheCpuForEveryDrawAndParameterSet) {
    GD_CUDA_TEST_SETUP(gpu);
    auto cpu = make_cpu_backend(2);
    std::mt19937 rng(seed);
    for (int64_t V : {1000, 262144}) {
        for (bool ties : {false, true}) {
            const auto logits = make_logits(V, ties, rng);
            compare_all(*gpu, *cpu, logits, make_recent(logits), rng,
                        "V " + std::to_string(V) + (ties ? ", tied logits" : ""));
        }
    }
}

// NaN and infinite logits are no candidates (the CPU drops them before every step); a +inf is never
// chosen even though it is the largest value.
TEST(CudaSampling, NonFiniteLogitsAreExcluded) {
    GD_CUDA_TEST_SETUP(gpu);
    auto cpu = make_cpu_backend(2);
    std::mt19937 rng(seed);
    for (int64_t V : {1000, 262144}) {
        auto logits = make_logits(V, false, rng);
        std::uniform_int_distribution<int64_t> pos(0, V - 1);
        const float specials[] = {kNaN, kInf, -kInf, -kNaN};
        for (int64_t i = 0; i < V / 50 + 4; ++i) logits[size_t(pos(rng))] = specials[i % 4];
        logits[0] = kInf;  // the largest value of all, yet no candidate
        logits[1] = kNaN;
        compare_all(*gpu, *cpu, logits, make_recent(logits), rng, "V " + std::to_string(V) + " with non-finite logits");
    }
}

// No finite logit at all: the sampler's error, through the backend, for greedy and for sampling.
TEST(CudaSampling, NoFiniteLogitThrows) {
    GD_CUDA_TEST_SETUP(gpu);
    (void)seed;
    SamplingParams greedy;
    greedy.temperature = 0;
    SamplingParams sampling;
    sampling.temperature = 0.8f;
    sampling.top_k = 0;
    for (int64_t V : {1, 1000, 262144}) {
        const Tensor nan_row = put(*gpu, 1, V, std::vector<float>(size_t(V), kNaN));
        std::vector<float> inf_values(static_cast<size_t>(V));
        for (size_t i = 0; i < inf_values.size(); ++i) inf_values[i] = i % 3 == 0 ? kInf : i % 3 == 1 ? -kInf : kNaN;
        const Tensor inf_row = put(*gpu, 1, V, inf_values);
        for (const SamplingParams& p : {greedy, sampling}) {
            EXPECT_THROW(gpu->sample_token(nan_row, p, {}, 0.5), Error) << "V " << V;
            EXPECT_THROW(gpu->sample_token(inf_row, p, {3, 3}, 0.5), Error) << "V " << V;
        }
        // The backend is still usable after the error.
        std::vector<float> one(size_t(V), kNaN);
        one[size_t(V - 1)] = -5.0f;
        EXPECT_EQ(gpu->sample_token(put(*gpu, 1, V, one), sampling, {}, 0.99), V - 1);
    }
}

// Invalid parameters are refused as the host sampler refuses them.
TEST(CudaSampling, InvalidParametersThrow) {
    GD_CUDA_TEST_SETUP(gpu);
    (void)seed;
    const Tensor row = put(*gpu, 1, 8, {1, 2, 3, 4, 5, 6, 7, 8});
    SamplingParams p;
    p.top_p = 0.0f;
    EXPECT_THROW(gpu->sample_token(row, p, {}, 0.5), Error);
    p = SamplingParams{};
    p.temperature = -1.0f;
    EXPECT_THROW(gpu->sample_token(row, p, {}, 0.5), Error);
}

#if defined(GEMMADESK_HAVE_CUDA)
// cuda::argmax directly (the backend samples through cuda::sample): the largest finite value, the
// lowest id among equals, -1 when nothing is finite.
TEST(CudaSampling, ArgmaxLauncherMatchesTheHost) {
    GD_CUDA_TEST_SETUP(gpu);
    std::mt19937 rng(seed);
    void* d_mem = nullptr;
    ASSERT_EQ(cudaMalloc(&d_mem, sizeof(int32_t)), cudaSuccess);
    int32_t* d_id = static_cast<int32_t*>(d_mem);
    auto run = [&](const std::vector<float>& v) {
        const Tensor t = put(*gpu, 1, static_cast<int64_t>(v.size()), v);
        gpu->synchronize();  // the upload is on the backend's stream; the launcher runs on the default one
        cuda::argmax(cuda::Mat{t.data, 1, t.cols, t.ld}, d_id, nullptr);
        int32_t id = -2;
        EXPECT_EQ(cudaMemcpy(&id, d_id, sizeof id, cudaMemcpyDeviceToHost), cudaSuccess);
        return id;
    };
    for (int64_t V : {1, 37, 1000, 262144}) {
        SCOPED_TRACE("V " + std::to_string(V));
        auto v = make_logits(V, true, rng);  // ties: many tokens share the maximum
        EXPECT_EQ(run(v), argmax(v));
        std::uniform_int_distribution<int64_t> pos(0, V - 1);
        for (int64_t i = 0; i < V / 20 + 1; ++i) v[size_t(pos(rng))] = i % 2 ? kNaN : kInf;
        bool any_finite = false;
        for (float x : v) any_finite = any_finite || std::isfinite(x);
        EXPECT_EQ(run(v), any_finite ? argmax(v) : -1);
        // -0.0 and +0.0 are equal: the lower id wins.
        std::vector<float> zeros(size_t(V), -1.0f);
        zeros[size_t(V - 1)] = 0.0f;
        zeros[size_t(V / 2)] = -0.0f;
        EXPECT_EQ(run(zeros), static_cast<int32_t>(V / 2));
        EXPECT_EQ(run(std::vector<float>(size_t(V), kNaN)), -1);
    }
    cudaFree(d_mem);
}
#endif

}  // namespace
}  // namespace gd
