#pragma once
// Small helpers for the op tests: seeded random values, device tensors from host vectors and back.
#include <cstdint>
#include <vector>

#include "backend/backend.h"

namespace gd::test {

std::vector<float> random_values(size_t n, uint32_t seed, float lo, float hi);
Tensor make_tensor(Backend& b, int64_t rows, int64_t cols, const std::vector<float>& values);
std::vector<float> to_host(Backend& b, const Tensor& t);

}  // namespace gd::test
