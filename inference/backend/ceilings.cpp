#include "backend/ceilings.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <random>
#include <string>
#include <vector>

#include "common/error.h"
#include "common/half.h"
#include "format/tensor_view.h"

namespace gd {
namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }

double measure_copy(Backend& b, const CeilingOptions& o) {
    const int64_t cols = 4096;
    const int64_t rows = std::max<int64_t>(1, static_cast<int64_t>(o.copy_bytes / (cols * sizeof(float))));
    Tensor src = b.alloc(rows, cols), dst = b.alloc(rows, cols);
    b.copy(src, dst);  // first touch of both buffers
    b.synchronize();
    const auto t0 = Clock::now();
    for (int i = 0; i < o.copy_repetitions; ++i) b.copy(src, dst);
    b.synchronize();
    const double s = seconds_since(t0);
    const double bytes = 2.0 * static_cast<double>(rows * cols) * sizeof(float) * o.copy_repetitions;
    return s > 0 ? bytes / s : 0;
}

struct Gemm {
    std::vector<uint16_t> w;  // bf16 bits [out, in]
    std::vector<float> x;     // [rows, in]
};

Gemm random_gemm(const CeilingOptions& o) {
    Gemm g;
    std::mt19937 rng(20261122);
    std::uniform_real_distribution<float> d(-1.0f, 1.0f);
    g.w.resize(static_cast<size_t>(o.gemm_out * o.gemm_in));
    for (uint16_t& v : g.w) v = f32_to_bf16(d(rng));
    g.x.resize(static_cast<size_t>(o.gemm_rows * o.gemm_in));
    for (float& v : g.x) v = d(rng);
    return g;
}

// Sampled entries of y against a double reference, relative to sum |w x| of the entry.
double check_gemm(const Gemm& g, const std::vector<float>& y, const CeilingOptions& o) {
    std::mt19937 rng(7);
    double worst = 0;
    for (int s = 0; s < 64; ++s) {
        const int64_t r = static_cast<int64_t>(rng() % static_cast<uint32_t>(o.gemm_rows));
        const int64_t c = static_cast<int64_t>(rng() % static_cast<uint32_t>(o.gemm_out));
        double ref = 0, scale = 0;
        for (int64_t k = 0; k < o.gemm_in; ++k) {
            const double p = static_cast<double>(bf16_to_f32(g.w[static_cast<size_t>(c * o.gemm_in + k)])) *
                             g.x[static_cast<size_t>(r * o.gemm_in + k)];
            ref += p;
            scale += std::fabs(p);
        }
        const double got = y[static_cast<size_t>(r * o.gemm_out + c)];
        if (!std::isfinite(got)) return INFINITY;
        worst = std::max(worst, std::fabs(got - ref) / std::max(scale, 1e-30));
    }
    return worst;
}

}  // namespace

// A product that rounds each activation to bf16 (relative error <= 2^-9) and accumulates in f32 is
// off by at most ~2^-9 of sum |w x|; 2^-8 leaves room for the f32 sums, and catches wrong kernels.
constexpr double kBf16ProductTolerance = 1.0 / 256;

Ceilings measure_ceilings(Backend& b, const CeilingOptions& o) {
    if (o.gemm_rows < 1 || o.gemm_out < 1 || o.gemm_in < 1 || o.copy_repetitions < 1 || o.gemm_repetitions < 1)
        throw Error("measure_ceilings: sizes and repetitions must be positive");
    Ceilings c;
    c.copy_bytes_per_second = measure_copy(b, o);

    const Gemm g = random_gemm(o);
    TensorView view;
    view.name = "ceiling.bf16";
    view.type = DType::BF16;
    view.shape = {static_cast<uint64_t>(o.gemm_out), static_cast<uint64_t>(o.gemm_in)};
    view.data = reinterpret_cast<const uint8_t*>(g.w.data());
    view.nbytes = g.w.size() * sizeof(uint16_t);
    const Weight w = b.upload_weight(view);
    Tensor x = b.alloc(o.gemm_rows, o.gemm_in), y = b.alloc(o.gemm_rows, o.gemm_out);
    b.upload(g.x.data(), x);
    b.matmul(w, x, y);  // warm-up: workspaces, kernel selection
    b.synchronize();
    const auto t0 = Clock::now();
    for (int i = 0; i < o.gemm_repetitions; ++i) b.matmul(w, x, y);
    b.synchronize();
    const double s = seconds_since(t0);
    std::vector<float> out(static_cast<size_t>(o.gemm_rows * o.gemm_out));
    b.download(y, out.data());
    c.gemm_max_error = check_gemm(g, out, o);
    if (!(c.gemm_max_error <= kBf16ProductTolerance))
        throw Error("measure_ceilings: the bf16 product is wrong (sampled error " + std::to_string(c.gemm_max_error) +
                    " of the entries' scale), so no speed is reported for it");
    const double flops = 2.0 * static_cast<double>(o.gemm_rows) * static_cast<double>(o.gemm_out) *
                         static_cast<double>(o.gemm_in) * o.gemm_repetitions;
    c.bf16_flops_per_second = s > 0 ? flops / s : 0;
    return c;
}

}  // namespace gd
