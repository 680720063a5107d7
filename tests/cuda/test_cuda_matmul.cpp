// The CUDA backend's matmul and get_rows against the CPU backend on the same stored bytes, for every
// weight type the CUDA kernels read: random f32 weights quantized with the reference quantizer,
// uploaded to both backends, multiplied by the same random activations.
//
// Shapes are chosen for the kernels' edges: T = 1, 2, 3, 5, 8 take the matrix-vector kernel (padded to
// 1, 2, 4, 8 staged rows), 9, 64, 130 the dequantize + cuBLAS path; 37, 300 and 1500 output rows leave
// a partial block of 8 warps; 1500 x 2816 block-type weights are decoded for cuBLAS in two slabs
// (4 Mi elements each: 1489 rows, then 11); 96 and 12320 columns of the 32-element types end in a partial 256-column step, and
// 12320 / 12800 / 12301 columns cross the matvec's shared-memory tile (12288 columns for one x row,
// 1536 for eight); stacked experts with expert 2 check the expert offset; x and y as column views
// (ld > cols, x not 16-byte aligned) check the strides; y is filled with NaN first, so an output the
// kernel forgets stays NaN and fails, and the columns outside the view must stay NaN.
//
// Tolerances (relative L2 error over all outputs), from the arithmetic:
//  - matvec and f32 weights (cuBLAS Sgemm without TF32): both backends sum the same f32 products of the
//    same decoded weights (the CUDA decoders are bit-exact with the reference), only in a different
//    order. Each f32 addition errs by at most 2^-24 of a partial sum; with K <= 12800 random terms
//    split over 32 lanes (and the CPU's SIMD lanes) that is ~1e-6 relative, so 1e-5 holds with margin.
//    TF32 (10-bit mantissas, ~3e-4) would fail it, which is the point.
//  - bf16 GEMM path: x (and, for block types, the decoded weights) rounded to bf16, 8 significant bits:
//    relative error up to 2^-8 per element, RMS ~1.6e-3 each; with random signs the output's relative
//    L2 error is about that RMS, ~2.3e-3 with both operands rounded, so 4e-3.
//  - f16 GEMM path: x rounded to f16 (11 significant bits), RMS ~2e-4, so 1e-3.
//  - get_rows: the decoders are bit-exact and the scale is one rounded product on both sides: equal.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <limits>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

#include "backend/backend.h"
#include "cuda/cuda_test_support.h"
#include "format/dtype.h"
#include "format/quant/quant.h"
#include "format/tensor_view.h"

#if defined(GEMMADESK_HAVE_CUDA)
#include "backend/cuda/cuda_kernels.h"
#endif

namespace gd::test {
namespace {

using test::normal;

constexpr double kF32Tolerance = 1e-5;
constexpr double kBf16Tolerance = 4e-3;
constexpr double kF16Tolerance = 1e-3;
constexpr int64_t kMatvecMaxRows = 8;  // as cuda::kMatvecMaxRows: larger T takes the GEMM path
#if defined(GEMMADESK_HAVE_CUDA)
static_assert(kMatvecMaxRows == cuda::kMatvecMaxRows);
#endif

const DType kTypes[] = {DType::F32,  DType::F16,  DType::BF16, DType::Q4_0, DType::Q4_1,
                        DType::Q5_0, DType::Q5_1, DType::Q8_0, DType::IQ4_NL, DType::Q2_K,
                        DType::Q3_K, DType::Q4_K, DType::Q5_K, DType::Q6_K, DType::IQ4_XS};
const int64_t kTokens[] = {1, 2, 3, 5, 8, 9, 64, 130};

struct Shape {
    int64_t experts, rows, cols, expert;
};

std::vector<Shape> shapes_for(DType t) {
    switch (dtype_info(t).block_elems) {
        case 256: return {{1, 37, 256, 0}, {3, 300, 2816, 2}, {1, 1500, 2816, 0}, {1, 37, 12800, 0}};
        case 32: return {{1, 37, 96, 0}, {3, 300, 2816, 2}, {1, 1500, 2816, 0}, {1, 37, 12320, 0}};
        default: return {{1, 37, 301, 0}, {3, 300, 2816, 2}, {1, 1500, 2816, 0}, {1, 37, 12301, 0}};
    }
}

// A weight [experts,] rows x cols stored as `type`: random values quantized row by row.
struct StoredWeight {
    std::vector<uint8_t> bytes;
    TensorView view;
};

StoredWeight make_weight(DType type, const Shape& s, std::mt19937& rng) {
    if (!can_quantize(type)) throw std::runtime_error(std::string("no quantizer for ") + dtype_name(type));
    const size_t row_bytes = dtype_bytes(type, static_cast<uint64_t>(s.cols));
    const size_t n_rows = static_cast<size_t>(s.experts * s.rows);
    StoredWeight w;
    w.bytes.resize(n_rows * row_bytes);
    const std::vector<float> values = normal(n_rows * static_cast<size_t>(s.cols), rng);
    for (size_t r = 0; r < n_rows; ++r)
        quantize_row(type, values.data() + r * static_cast<size_t>(s.cols), w.bytes.data() + r * row_bytes,
                     static_cast<uint64_t>(s.cols));
    w.view.name = std::string("w.") + dtype_name(type);
    w.view.type = type;
    if (s.experts > 1)
        w.view.shape = {static_cast<uint64_t>(s.experts), static_cast<uint64_t>(s.rows), static_cast<uint64_t>(s.cols)};
    else
        w.view.shape = {static_cast<uint64_t>(s.rows), static_cast<uint64_t>(s.cols)};
    w.view.data = w.bytes.data();
    w.view.nbytes = w.bytes.size();
    return w;
}

double tolerance(DType type, int64_t T) {
    if (type == DType::F32 || T <= kMatvecMaxRows) return kF32Tolerance;
    return type == DType::F16 ? kF16Tolerance : kBf16Tolerance;
}

bool all_nan(const std::vector<float>& v) {
    for (float x : v)
        if (!std::isnan(x)) return false;
    return true;
}

std::vector<float> nans(size_t n) { return std::vector<float>(n, std::numeric_limits<float>::quiet_NaN()); }

void report(const std::string& what, double err, double tol) {
    if (std::getenv("GD_PRINT_ERRORS")) std::printf("%-40s rel_l2 %.3g bound %.3g\n", what.c_str(), err, tol);
}

class CudaMatmul : public ::testing::TestWithParam<DType> {};

TEST_P(CudaMatmul, MatchesCpuOnTheSameStoredBytes) {
    GD_CUDA_TEST_SETUP(gpu);
    const DType type = GetParam();
    auto cpu = make_cpu_backend(2);
    std::mt19937 rng(seed);
    for (const Shape& s : shapes_for(type)) {
        const StoredWeight sw = make_weight(type, s, rng);
        const Weight wc = cpu->upload_weight(sw.view);
        const Weight wg = gpu->upload_weight(sw.view);
        const int64_t N = s.rows, K = s.cols;
        for (int64_t T : kTokens) {
            const std::string what = std::string(dtype_name(type)) + " E" + std::to_string(s.experts) + " e" +
                                     std::to_string(s.expert) + " N" + std::to_string(N) + " K" + std::to_string(K) +
                                     " T" + std::to_string(T);
            SCOPED_TRACE(what);
            const double tol = tolerance(type, T);
            const std::vector<float> x = normal(static_cast<size_t>(T * K), rng);

            Tensor yc = cpu->alloc(T, N);
            cpu->matmul(wc, put(*cpu, T, K, x), yc, s.expert);
            const std::vector<float> ref = get(*cpu, yc);

            // Contiguous x and y.
            Tensor yg = put(*gpu, T, N, nans(static_cast<size_t>(T * N)));
            gpu->matmul(wg, put(*gpu, T, K, x), yg, s.expert);
            const double err = rel_l2(get(*gpu, yg), ref);
            report(what, err, tol);
            EXPECT_LE(err, tol);

            // Column views: x at column 5 of a [T, K + 7] matrix (ld K + 7, not 16-byte aligned), y at
            // column 1 of a [T, N + 4] matrix of NaN.
            std::vector<float> x_wide = normal(static_cast<size_t>(T * (K + 7)), rng);
            for (int64_t t = 0; t < T; ++t)
                for (int64_t k = 0; k < K; ++k) x_wide[t * (K + 7) + 5 + k] = x[t * K + k];
            const Tensor xv = put(*gpu, T, K + 7, x_wide).view_cols(5, K);
            const Tensor y_wide = put(*gpu, T, N + 4, nans(static_cast<size_t>(T * (N + 4))));
            gpu->matmul(wg, xv, y_wide.view_cols(1, N), s.expert);
            const std::vector<float> got_wide = get(*gpu, y_wide);
            std::vector<float> got, outside;
            for (int64_t t = 0; t < T; ++t)
                for (int64_t c = 0; c < N + 4; ++c)
                    (c >= 1 && c <= N ? got : outside).push_back(got_wide[t * (N + 4) + c]);
            const double err_view = rel_l2(got, ref);
            EXPECT_LE(err_view, tol) << "with x and y as column views";
            EXPECT_TRUE(all_nan(outside)) << "matmul wrote outside y's columns";
        }
    }
}

TEST_P(CudaMatmul, GetRowsIsBitExact) {
    GD_CUDA_TEST_SETUP(gpu);
    const DType type = GetParam();
    auto cpu = make_cpu_backend(2);
    std::mt19937 rng(seed);
    for (const Shape& s : shapes_for(type)) {
        if (s.experts != 1) continue;  // get_rows reads a plain table
        const StoredWeight sw = make_weight(type, s, rng);
        const Weight wc = cpu->upload_weight(sw.view);
        const Weight wg = gpu->upload_weight(sw.view);
        const std::vector<int32_t> ids = {0, static_cast<int32_t>(s.rows - 1), 5, 5, 17};
        const int64_t n = static_cast<int64_t>(ids.size()), C = s.cols;
        for (float scale : {1.0f, 1.7f}) {
            SCOPED_TRACE(std::string(dtype_name(type)) + " cols " + std::to_string(C) + " scale " + std::to_string(scale));
            Tensor dc = cpu->alloc(n, C);
            cpu->get_rows(wc, ids, scale, dc);
            const std::vector<float> ref = get(*cpu, dc);

            Tensor dg = put(*gpu, n, C, nans(static_cast<size_t>(n * C)));
            gpu->get_rows(wg, ids, scale, dg);
            EXPECT_EQ(max_abs_diff(get(*gpu, dg), ref), 0.0);

            // Into a column view of a NaN matrix: the other columns stay NaN.
            const Tensor wide = put(*gpu, n, C + 3, nans(static_cast<size_t>(n * (C + 3))));
            gpu->get_rows(wg, ids, scale, wide.view_cols(2, C));
            const std::vector<float> got_wide = get(*gpu, wide);
            std::vector<float> got, outside;
            for (int64_t t = 0; t < n; ++t)
                for (int64_t c = 0; c < C + 3; ++c)
                    (c >= 2 && c < C + 2 ? got : outside).push_back(got_wide[t * (C + 3) + c]);
            EXPECT_EQ(max_abs_diff(got, ref), 0.0) << "into a column view";
            EXPECT_TRUE(all_nan(outside)) << "get_rows wrote outside dst's columns";
        }
    }
}

INSTANTIATE_TEST_SUITE_P(AllWeightTypes, CudaMatmul, ::testing::ValuesIn(kTypes),
                         [](const ::testing::TestParamInfo<DType>& p) { return std::string(dtype_name(p.param)); });

#if defined(GEMMADESK_HAVE_CUDA)
// Backend::matmul sends f32 weights to cuBLAS, so the matrix-vector kernel's f32 path (which the MoE
// kernels share) is called directly here, on the default stream after the backend's work is done.
TEST(CudaMatvec, F32WeightsMatchCpu) {
    GD_CUDA_TEST_SETUP(gpu);
    auto cpu = make_cpu_backend(2);
    std::mt19937 rng(seed);
    const Shape s{3, 37, 301, 2};
    const StoredWeight sw = make_weight(DType::F32, s, rng);
    const Weight wc = cpu->upload_weight(sw.view);
    const Weight wg = gpu->upload_weight(sw.view);
    const cuda::WeightView wv{DType::F32, wg.device_data, s.experts, s.rows, s.cols, wg.row_bytes};
    for (int64_t T : {1, 2, 3, 8}) {
        SCOPED_TRACE("T " + std::to_string(T));
        const std::vector<float> x = normal(static_cast<size_t>(T * s.cols), rng);
        Tensor yc = cpu->alloc(T, s.rows);
        cpu->matmul(wc, put(*cpu, T, s.cols, x), yc, s.expert);
        const Tensor xg = put(*gpu, T, s.cols, x);
        const Tensor yg = put(*gpu, T, s.rows, nans(static_cast<size_t>(T * s.rows)));
        gpu->synchronize();
        cuda::matvec(wv, s.expert, cuda::Mat{xg.data, xg.rows, xg.cols, xg.ld}, cuda::Mat{yg.data, yg.rows, yg.cols, yg.ld},
                     nullptr);
        GD_CUDA(cudaDeviceSynchronize());
        EXPECT_LE(rel_l2(get(*gpu, yg), get(*cpu, yc)), kF32Tolerance);
    }
}
#endif

}  // namespace
}  // namespace gd::test
