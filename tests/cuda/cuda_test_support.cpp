#include "cuda/cuda_test_support.h"

#include <cmath>
#include <cstdlib>
#include <limits>
#include <random>

#include "common/error.h"

namespace gd::test {

std::unique_ptr<Backend> cuda_backend_or_null(std::string& why) {
    if (!cuda_backend_built()) {
        why = "this build has no CUDA support (nvcc was not found)";
        return nullptr;
    }
    try {
        return make_cuda_backend(0);
    } catch (const Error& e) {
        why = e.what();
        return nullptr;
    }
}

uint32_t fresh_seed() {
    if (const char* s = std::getenv("GD_TEST_SEED")) return static_cast<uint32_t>(std::strtoul(s, nullptr, 10));
    std::random_device rd;
    return rd();
}

double rel_l2(const std::vector<float>& a, const std::vector<float>& ref) {
    if (a.size() != ref.size()) return std::numeric_limits<double>::infinity();
    double num = 0, den = 0;
    for (size_t i = 0; i < a.size(); ++i) {
        if (!std::isfinite(a[i]) || !std::isfinite(ref[i])) return std::numeric_limits<double>::infinity();
        const double d = static_cast<double>(a[i]) - ref[i];
        num += d * d;
        den += static_cast<double>(ref[i]) * ref[i];
    }
    if (den == 0) return num == 0 ? 0.0 : 1.0;
    return std::sqrt(num / den);
}

double max_abs_diff(const std::vector<float>& a, const std::vector<float>& ref) {
    if (a.size() != ref.size()) return std::numeric_limits<double>::infinity();
    double m = 0;
    for (size_t i = 0; i < a.size(); ++i) {
        const double d = std::fabs(static_cast<double>(a[i]) - ref[i]);
        if (!(d == d)) return std::numeric_limits<double>::infinity();
        m = std::max(m, d);
    }
    return m;
}

std::vector<float> normal(size_t n, std::mt19937& rng, float mean, float sd) {
    std::normal_distribution<float> d(mean, sd);
    std::vector<float> v(n);
    for (float& x : v) x = d(rng);
    return v;
}

Tensor put(Backend& b, int64_t rows, int64_t cols, const std::vector<float>& values) {
    if (static_cast<int64_t>(values.size()) != rows * cols) throw Error("put: size mismatch");
    Tensor t = b.alloc(rows, cols);
    b.upload(values.data(), t);
    return t;
}

std::vector<float> get(Backend& b, const Tensor& t) {
    std::vector<float> v(static_cast<size_t>(t.rows * t.cols));
    b.download(t, v.data());
    return v;
}

}  // namespace gd::test
