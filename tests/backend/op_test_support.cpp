#include "backend/op_test_support.h"

#include <random>

namespace gd::test {

std::vector<float> random_values(size_t n, uint32_t seed, float lo, float hi) {
    std::mt19937 rng(seed);
    std::uniform_real_distribution<float> u(lo, hi);
    std::vector<float> v(n);
    for (auto& x : v) x = u(rng);
    return v;
}

Tensor make_tensor(Backend& b, int64_t rows, int64_t cols, const std::vector<float>& values) {
    Tensor t = b.alloc(rows, cols);
    b.upload(values.data(), t);
    return t;
}

std::vector<float> to_host(Backend& b, const Tensor& t) {
    std::vector<float> v(static_cast<size_t>(t.elements()));
    b.download(t, v.data());
    return v;
}

}  // namespace gd::test
