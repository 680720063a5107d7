#pragma once
// Helpers of the CUDA backend tests (tests/cuda): the backend of the first GPU or a skip that says
// why (no CUDA in this build, no driver, no GPU), fresh random inputs for every run (the seed is
// printed on failure so a failing run can be repeated), and error measures against the CPU backend.
#include <gtest/gtest.h>

#include <cstdint>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "backend/backend.h"

namespace gd::test {

// The CUDA backend on GPU 0, or nullptr and `why` filled in.
std::unique_ptr<Backend> cuda_backend_or_null(std::string& why);

// A seed drawn from std::random_device, or GD_TEST_SEED when set (to repeat a failing run).
uint32_t fresh_seed();

// ‖a − ref‖₂ / ‖ref‖₂ (1 when ref is zero and a is not); NaN anywhere gives +inf.
double rel_l2(const std::vector<float>& a, const std::vector<float>& ref);
// max |a − ref|
double max_abs_diff(const std::vector<float>& a, const std::vector<float>& ref);

// n values drawn from N(mean, sd) (test inputs; `rng` seeded from `seed`).
std::vector<float> normal(size_t n, std::mt19937& rng, float mean = 0.0f, float sd = 1.0f);

// A tensor on backend b holding `values`, and back.
Tensor put(Backend& b, int64_t rows, int64_t cols, const std::vector<float>& values);
std::vector<float> get(Backend& b, const Tensor& t);

}  // namespace gd::test

// In a TEST body: declares `std::unique_ptr<gd::Backend> var` on GPU 0, or skips the test saying why.
// Also declares `seed` (fresh per run) and records it in the failure output.
#define GD_CUDA_TEST_SETUP(var)                                           \
    std::string gd_cuda_why_;                                             \
    auto var = ::gd::test::cuda_backend_or_null(gd_cuda_why_);            \
    if (!var) GTEST_SKIP() << "CUDA backend not available: " << gd_cuda_why_; \
    const uint32_t seed = ::gd::test::fresh_seed();                       \
    SCOPED_TRACE("seed " + std::to_string(seed) + " (GD_TEST_SEED=" + std::to_string(seed) + " repeats this run)")
