// Kernels that read weights in their stored type (cuda_quant_dot.cuh does the decoding): the
// matrix-vector product of the decode path, the bulk conversion to bf16 that feeds cuBLAS for larger
// batches, the conversions of activations to bf16 / f16, and the gather of embedding rows.
//
// matvec: one warp per weight row, 8 rows per block. The block stages the x rows (at most 8, padded
// with zero rows to 1, 2, 4 or 8 so only four kernels per type exist) in shared memory a column tile
// at a time, so each x value is read from global memory once per block instead of once per warp, and
// every warp streams its weight row once, decoding in registers. Sums are f32: each lane accumulates
// its share with FMAs, then the warp adds the 32 partial sums.
#include <algorithm>
#include <string>

#include "backend/cuda/cuda_kernels.h"
#include "backend/cuda/cuda_quant_dot.cuh"
#include "common/error.h"

namespace gd::cuda {
namespace {

constexpr int kMatvecWarps = 8;  // weight rows per block
constexpr int kMatvecThreads = 32 * kMatvecWarps;
// Shared memory for the x tile: at most the 48 KiB a block may use without opting in, which leaves
// room for four blocks (32 warps) per SM.
constexpr size_t kMatvecSmemBytes = 48 * 1024;
constexpr int kThreads = 256;

void require(bool ok, const char* op, const std::string& what) {
    if (!ok) throw Error(std::string("cuda ") + op + ": " + what);
}

// Grid of rows x column blocks for the one-thread-per-element kernels; the kernels stride over the
// rows past the grid's 65535 limit.
dim3 element_grid(int64_t rows, int64_t cols) {
    const int64_t bx = (cols + kThreads - 1) / kThreads;
    return dim3(static_cast<unsigned>(bx), static_cast<unsigned>(std::min<int64_t>(rows, 65535)));
}

// y[r, n] = sum_k W[n, k] x[r, k] for r < nx, with R >= nx x rows staged (rows nx..R-1 are zero).
template <DType T, int R>
__global__ void __launch_bounds__(kMatvecThreads)
    matvec_kernel(const uint8_t* w, size_t row_bytes, int64_t n_rows, int64_t cols, const float* x, int64_t ldx,
                  int nx, float* y, int64_t ldy, int tile_cols) {
    extern __shared__ float4 smem_f4[];  // float4 so the tile is 16-byte aligned for the float4 reads
    float* xs = reinterpret_cast<float*>(smem_f4);
    using W = WeightTraits<T>;
    const int warp = threadIdx.x >> 5, lane = threadIdx.x & 31;
    const int64_t n = static_cast<int64_t>(blockIdx.x) * kMatvecWarps + warp;
    const uint8_t* wrow = w + static_cast<size_t>(n) * row_bytes;
    float acc[R];
#pragma unroll
    for (int r = 0; r < R; ++r) acc[r] = 0.0f;

    for (int64_t k0 = 0; k0 < cols; k0 += tile_cols) {
        const int kc = static_cast<int>(std::min<int64_t>(tile_cols, cols - k0));
        __syncthreads();  // the previous tile is no longer read
        for (int r = 0; r < R; ++r) {
            float* dst = xs + r * tile_cols;
            if (r < nx) {
                const float* src = x + r * ldx + k0;
                for (int c = threadIdx.x; c < kc; c += kMatvecThreads) dst[c] = src[c];
            } else {
                for (int c = threadIdx.x; c < kc; c += kMatvecThreads) dst[c] = 0.0f;
            }
        }
        __syncthreads();
        // tile_cols is a multiple of 256, hence of every block size: the slice starts on a block.
        if (n < n_rows)
            warp_row_partial<T, R>(wrow + static_cast<size_t>(k0 / W::block_elems) * W::block_bytes, xs, tile_cols,
                                   kc, acc);
    }
    if (n >= n_rows) return;
#pragma unroll
    for (int r = 0; r < R; ++r) {
        const float sum = warp_sum(acc[r]);
        if (lane == r && r < nx) y[r * ldy + n] = sum;  // lane r stores row r: the stores go out together
    }
}

template <DType T>
__global__ void dequantize_bf16_kernel(const uint8_t* w, size_t row_bytes, int64_t rows, int64_t cols,
                                       uint16_t* out) {
    const int64_t c = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
    if (c >= cols) return;
    for (int64_t r = blockIdx.y; r < rows; r += gridDim.y) {
        const float v = dequant_element<T>(w + static_cast<size_t>(r) * row_bytes, c);
        out[r * cols + c] = __bfloat16_as_ushort(__float2bfloat16_rn(v));
    }
}

template <DType T>
__global__ void get_rows_kernel(const uint8_t* table, size_t row_bytes, int64_t cols, const int32_t* ids, int64_t n,
                                float scale, float* out, int64_t ld) {
    const int64_t c = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
    if (c >= cols) return;
    for (int64_t t = blockIdx.y; t < n; t += gridDim.y) {
        const uint8_t* row = table + static_cast<size_t>(ids[t]) * row_bytes;
        // The CPU multiplies only when scale != 1; times 1 is exact, so one rounded product matches it.
        out[t * ld + c] = __fmul_rn(dequant_element<T>(row, c), scale);
    }
}

template <bool kHalf>
__global__ void convert_kernel(const float* x, int64_t ld, int64_t rows, int64_t cols, uint16_t* out) {
    const int64_t c = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
    if (c >= cols) return;
    for (int64_t r = blockIdx.y; r < rows; r += gridDim.y) {
        const float v = x[r * ld + c];
        out[r * cols + c] = kHalf ? __half_as_ushort(__float2half_rn(v)) : __bfloat16_as_ushort(__float2bfloat16_rn(v));
    }
}

void check_weight(const WeightView& w, int64_t expert, const char* op) {
    require(weight_type_supported(w.type), op, std::string("weights stored as ") + dtype_name(w.type));
    require(expert >= 0 && expert < w.experts, op, "expert " + std::to_string(expert) + " out of range");
    require(w.cols % dtype_info(w.type).block_elems == 0, op, "columns are not whole blocks");
    require(weight_rows_aligned(w.type, w.data, w.row_bytes), op, "weight rows are not aligned");
}

template <DType T, int R>
void launch_matvec(const WeightView& w, int64_t expert, const Mat& x, const Mat& y, cudaStream_t s) {
    const int64_t padded_cols = (w.cols + 255) / 256 * 256;
    const int64_t max_tile = static_cast<int64_t>(kMatvecSmemBytes / (sizeof(float) * R)) / 256 * 256;
    const int tile_cols = static_cast<int>(std::min(padded_cols, max_tile));
    const size_t smem = sizeof(float) * R * static_cast<size_t>(tile_cols);
    const unsigned blocks = static_cast<unsigned>((w.rows + kMatvecWarps - 1) / kMatvecWarps);
    matvec_kernel<T, R><<<blocks, kMatvecThreads, smem, s>>>(w.expert(expert), w.row_bytes, w.rows, w.cols, x.data,
                                                              x.ld, static_cast<int>(x.rows), y.data, y.ld, tile_cols);
    GD_CUDA_LAUNCHED("matvec_kernel");
}

}  // namespace

bool weight_type_supported(DType t) {
    switch (t) {
        case DType::F32:
        case DType::F16:
        case DType::BF16:
        case DType::Q4_0:
        case DType::Q4_1:
        case DType::Q5_0:
        case DType::Q5_1:
        case DType::Q8_0:
        case DType::IQ4_NL:
        case DType::Q2_K:
        case DType::Q3_K:
        case DType::Q4_K:
        case DType::Q5_K:
        case DType::Q6_K:
        case DType::IQ4_XS: return true;
        default: return false;
    }
}

void matvec(const WeightView& w, int64_t expert, const Mat& x, const Mat& y, cudaStream_t s) {
    check_weight(w, expert, "matvec");
    require(x.cols == w.cols && y.cols == w.rows && x.rows == y.rows, "matvec", "shapes do not fit");
    require(x.rows <= kMatvecMaxRows, "matvec", "more than " + std::to_string(kMatvecMaxRows) + " rows of x");
    if (x.rows == 0 || w.rows == 0) return;
    GD_CUDA_DISPATCH_WEIGHT_TYPE(w.type, T, {
        if (x.rows == 1) launch_matvec<T, 1>(w, expert, x, y, s);
        else if (x.rows == 2) launch_matvec<T, 2>(w, expert, x, y, s);
        else if (x.rows <= 4) launch_matvec<T, 4>(w, expert, x, y, s);
        else launch_matvec<T, 8>(w, expert, x, y, s);
    })
}

void dequantize_bf16(const WeightView& w, int64_t expert, uint16_t* out, cudaStream_t s) {
    check_weight(w, expert, "dequantize_bf16");
    if (w.rows == 0 || w.cols == 0) return;
    GD_CUDA_DISPATCH_WEIGHT_TYPE(w.type, T, {
        dequantize_bf16_kernel<T><<<element_grid(w.rows, w.cols), kThreads, 0, s>>>(w.expert(expert), w.row_bytes,
                                                                                    w.rows, w.cols, out);
        GD_CUDA_LAUNCHED("dequantize_bf16_kernel");
    })
}

void to_bf16(const Mat& x, uint16_t* out, cudaStream_t s) {
    if (x.rows == 0 || x.cols == 0) return;
    convert_kernel<false><<<element_grid(x.rows, x.cols), kThreads, 0, s>>>(x.data, x.ld, x.rows, x.cols, out);
    GD_CUDA_LAUNCHED("convert_kernel<bf16>");
}

void to_f16(const Mat& x, uint16_t* out, cudaStream_t s) {
    if (x.rows == 0 || x.cols == 0) return;
    convert_kernel<true><<<element_grid(x.rows, x.cols), kThreads, 0, s>>>(x.data, x.ld, x.rows, x.cols, out);
    GD_CUDA_LAUNCHED("convert_kernel<f16>");
}

void get_rows(const WeightView& table, const int32_t* ids, int64_t n, float scale, const Mat& out, cudaStream_t s) {
    check_weight(table, 0, "get_rows");
    require(out.rows == n && out.cols == table.cols, "get_rows", "shapes do not fit");
    if (n == 0 || table.cols == 0) return;
    GD_CUDA_DISPATCH_WEIGHT_TYPE(table.type, T, {
        get_rows_kernel<T><<<element_grid(n, table.cols), kThreads, 0, s>>>(table.data, table.row_bytes, table.cols,
                                                                           ids, n, scale, out.data, out.ld);
        GD_CUDA_LAUNCHED("get_rows_kernel");
    })
}

}  // namespace gd::cuda
