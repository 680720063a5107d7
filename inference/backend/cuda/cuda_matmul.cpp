// Host-side dispatch of y = x · W_expertᵀ onto the quantized kernels and cuBLAS.
//
//   f32 weights          cublasSgemm in plain f32 (default math mode: no TF32, which would round the
//                        inputs to 10-bit mantissas)
//   f16 / bf16 weights   T <= kMatvecMaxRows: matvec (f32 x, f32 sums);
//                        else x converted to the weight's type and cublasGemmEx, f32 accumulation
//   block types          T <= kMatvecMaxRows: matvec (dequantization fused);
//                        else the expert dequantized to bf16 scratch, x to bf16, cublasGemmEx
//
// Row-major ↔ column-major: cuBLAS reads a row-major matrix M [r, c] with ld as the column-major
// matrix Mᵀ [c, r] with the same ld. So y [T, N] (ld y.ld) is Yᶜ = yᵀ [N, T], x [T, K] is Xᶜ = xᵀ
// [K, T] (ld x.ld) and W [N, K] is Wᶜ = Wᵀ [K, N] (ld K). From y = x Wᵀ: yᵀ = W xᵀ = (Wᶜ)ᵀ Xᶜ, i.e.
// C = op(A) op(B) with A = Wᶜ, op(A) = transpose, B = Xᶜ, op(B) = none, m = N, n = T, k = K.
#include <algorithm>
#include <climits>
#include <string>

#include "backend/cuda/cuda_kernels.h"
#include "common/error.h"

namespace gd::cuda {
namespace {

// Weight elements decoded to bf16 per cuBLAS call on the block-type GEMM path: 8 MiB of scratch, and
// slabs of more than a thousand rows at the usual widths, which keeps the GEMMs efficient.
constexpr int64_t kDequantSlabElems = int64_t{4} << 20;

void require(bool ok, const std::string& what) {
    if (!ok) throw Error("cuda matmul: " + what);
}

int as_int(int64_t v, const char* what) {
    require(v >= 0 && v <= INT_MAX, std::string(what) + " does not fit cuBLAS's int arguments");
    return static_cast<int>(v);
}

// y [T, N] = x [T, K] · Wᵀ with W [N, K] contiguous (ld K) and x with ld `ldx`, both of `type`
// (16-bit), f32 accumulation and f32 output written straight into y (ld y.ld).
void gemm_16bit(const CudaContext& ctx, const void* w, const void* x, int64_t ldx, cudaDataType type, int64_t N,
                int64_t K, const Mat& y) {
    const float one = 1.0f, zero = 0.0f;
    GD_CUDA(cublasGemmEx(ctx.cublas, CUBLAS_OP_T, CUBLAS_OP_N, as_int(N, "rows"), as_int(y.rows, "tokens"),
                         as_int(K, "columns"), &one, w, type, as_int(K, "columns"), x, type, as_int(ldx, "x stride"),
                         &zero, y.data, CUDA_R_32F, as_int(y.ld, "y stride"), CUBLAS_COMPUTE_32F,
                         CUBLAS_GEMM_DEFAULT));
}

}  // namespace

void matmul(const CudaContext& ctx, const WeightView& w, int64_t expert, const Mat& x, const Mat& y) {
    require(weight_type_supported(w.type), std::string("weights stored as ") + dtype_name(w.type));
    require(x.cols == w.cols && y.cols == w.rows && x.rows == y.rows,
            "shapes do not fit (x " + std::to_string(x.rows) + "x" + std::to_string(x.cols) + ", W " +
                std::to_string(w.rows) + "x" + std::to_string(w.cols) + ", y " + std::to_string(y.rows) + "x" +
                std::to_string(y.cols) + ")");
    require(expert >= 0 && expert < w.experts, "expert " + std::to_string(expert) + " out of range");
    require(w.row_bytes == dtype_bytes(w.type, static_cast<uint64_t>(w.cols)), "weight rows are not packed");
    const int64_t T = x.rows, N = w.rows, K = w.cols;
    if (T == 0 || N == 0) return;
    if (K == 0) {  // an empty sum; cuBLAS rejects the zero leading dimensions this would pass it
        GD_CUDA(cudaMemset2DAsync(y.data, sizeof(float) * static_cast<size_t>(y.ld), 0,
                                  sizeof(float) * static_cast<size_t>(N), static_cast<size_t>(T), ctx.stream));
        return;
    }

    GD_CUDA(cublasSetStream(ctx.cublas, ctx.stream));
    // The default mode never lowers the precision the call asks for: no TF32 for Sgemm; f16/bf16
    // products with f32 accumulation may use tensor cores, which compute exactly that.
    GD_CUDA(cublasSetMathMode(ctx.cublas, CUBLAS_DEFAULT_MATH));

    if (w.type == DType::F32) {
        const float one = 1.0f, zero = 0.0f;
        GD_CUDA(cublasSgemm(ctx.cublas, CUBLAS_OP_T, CUBLAS_OP_N, as_int(N, "rows"), as_int(T, "tokens"),
                            as_int(K, "columns"), &one, reinterpret_cast<const float*>(w.expert(expert)),
                            as_int(K, "columns"), x.data, as_int(x.ld, "x stride"), &zero, y.data,
                            as_int(y.ld, "y stride")));
        return;
    }
    if (T <= kMatvecMaxRows) {
        matvec(w, expert, x, y, ctx.stream);
        return;
    }
    // Larger batches: tensor-core GEMM on 16-bit copies (x always; the weights too unless already 16-bit).
    const size_t x_bytes = static_cast<size_t>(T) * static_cast<size_t>(K) * sizeof(uint16_t);
    DeviceBuffer x16(x_bytes, ctx.stream);
    if (w.type == DType::F16) {
        to_f16(x, x16.get<uint16_t>(), ctx.stream);
        gemm_16bit(ctx, w.expert(expert), x16.get(), K, CUDA_R_16F, N, K, y);
    } else if (w.type == DType::BF16) {
        to_bf16(x, x16.get<uint16_t>(), ctx.stream);
        gemm_16bit(ctx, w.expert(expert), x16.get(), K, CUDA_R_16BF, N, K, y);
    } else {
        to_bf16(x, x16.get<uint16_t>(), ctx.stream);
        // The weights are decoded a slab of rows at a time into one reused scratch buffer, each slab
        // multiplied into its columns of y, so a vocabulary-sized matrix does not need a bf16 copy of
        // itself (262144 x 2560 would be 1.3 GB).
        const int64_t slab_rows = std::max<int64_t>(1, kDequantSlabElems / K);
        DeviceBuffer w16(static_cast<size_t>(std::min(N, slab_rows)) * static_cast<size_t>(K) * sizeof(uint16_t),
                         ctx.stream);
        for (int64_t n0 = 0; n0 < N; n0 += slab_rows) {
            WeightView slab = w;
            slab.data = w.expert(expert) + static_cast<size_t>(n0) * w.row_bytes;
            slab.experts = 1;
            slab.rows = std::min(slab_rows, N - n0);
            dequantize_bf16(slab, 0, w16.get<uint16_t>(), ctx.stream);
            Mat y_cols = y;  // columns n0 .. of y: the row-major column offset is a pointer offset
            y_cols.data = y.data + n0;
            y_cols.cols = slab.rows;
            gemm_16bit(ctx, w16.get(), x16.get(), K, CUDA_R_16BF, slab.rows, K, y_cols);
        }
    }
}

}  // namespace gd::cuda
