// Backend::copy (the op the copy ceiling is measured with) and the ceilings' own check of the bf16
// product, on the CPU backend (tests/cuda runs the same op on the GPU against it).
#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "backend/backend.h"
#include "backend/ceilings.h"
#include "common/error.h"

namespace gd {
namespace {

TEST(Ceilings, CopyIsExactOnWholeTensorsAndColumnViews) {
    auto b = make_cpu_backend(2);
    for (const int64_t rows : {1, 3, 300}) {
        Tensor a = b->alloc(rows, 41), out = b->alloc(rows, 41);
        std::vector<float> v(static_cast<size_t>(rows * 41));
        for (size_t i = 0; i < v.size(); ++i) v[i] = static_cast<float>(i) * 0.5f - 7.0f;
        b->upload(v.data(), a);
        std::vector<float> sentinel(v.size(), 1234.5f);
        b->upload(sentinel.data(), out);
        // Columns [3, 40) of a into columns [1, 38) of out: the others keep the sentinel.
        b->copy(a.view_cols(3, 37), out.view_cols(1, 37));
        std::vector<float> got(v.size());
        b->download(out, got.data());
        for (int64_t r = 0; r < rows; ++r)
            for (int64_t c = 0; c < 41; ++c) {
                const float want = c >= 1 && c < 38 ? v[static_cast<size_t>(r * 41 + c + 2)] : 1234.5f;
                ASSERT_EQ(got[static_cast<size_t>(r * 41 + c)], want) << r << ", " << c;
            }
        b->copy(a, out);
        b->download(out, got.data());
        EXPECT_EQ(got, v);
    }
    Tensor a = b->alloc(2, 4), c = b->alloc(4, 2);
    EXPECT_THROW(b->copy(a, c), Error);
}

TEST(Ceilings, MeasuresAndChecksTheProduct) {
    auto b = make_cpu_backend(2);
    CeilingOptions o;
    o.copy_bytes = 8 << 20;
    o.copy_repetitions = 2;
    o.gemm_rows = 16;
    o.gemm_out = 96;
    o.gemm_in = 256;
    o.gemm_repetitions = 1;
    const Ceilings c = measure_ceilings(*b, o);
    EXPECT_GT(c.copy_bytes_per_second, 1e8);  // any machine copies more than 100 MB/s
    EXPECT_GT(c.bf16_flops_per_second, 1e7);
    // The CPU product accumulates bf16 x f32 in f32: ~1e-7 of the scale, far inside the 2e-2 bound.
    EXPECT_LT(c.gemm_max_error, 1e-5);
    o.gemm_rows = 0;
    EXPECT_THROW(measure_ceilings(*b, o), Error);
}

}  // namespace
}  // namespace gd
