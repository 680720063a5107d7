// Elementwise ops of the CUDA backend (add, scale, per-column products and sums, softcap, clamp, the
// GELU-gated product, ReLU, SiLU, GLU). Each is one pass over a strided matrix, so they are bound by
// memory and share one launcher shape: a 2-D grid with rows on y and columns on x, both grid-strided.
//
// The arithmetic follows the CPU backend operation by operation, with every product and sum rounded on
// its own (__fmul_rn / __fadd_rn: nvcc would otherwise fuse a*b + c into one FMA, which the x86-64
// baseline build of the CPU backend never does), so the results agree bit for bit except where a
// transcendental function is involved. There tanh and exp are taken in double and rounded once to
// f32, which is the correctly rounded value in all but rare half-way cases; the CPU's glibc tanhf and
// expf are within an ulp of it as well, so the two backends differ by at most an ulp or two there.
#include <algorithm>
#include <cmath>
#include <string>

#include "backend/cuda/cuda_kernels.h"
#include "common/error.h"

namespace gd::cuda {
namespace {

constexpr int kThreads = 256;

// tanh and exp of an f32 argument, rounded once from double (see the file comment).
__device__ __forceinline__ float tanh_f32(float x) { return static_cast<float>(tanh(static_cast<double>(x))); }
__device__ __forceinline__ float exp_f32(float x) { return static_cast<float>(exp(static_cast<double>(x))); }

// 1 / (1 + exp(-x)) in the CPU's order of f32 operations.
__device__ __forceinline__ float sigmoid_f32(float x) { return __fdiv_rn(1.0f, __fadd_rn(1.0f, exp_f32(-x))); }

// gelu with the tanh approximation, term by term as the CPU's
//   0.5f * x * (1.0f + tanh(kSqrt2OverPi * (x + 0.044715f * x * x * x)))
// evaluates it (C++ evaluates the products left to right).
__device__ __forceinline__ float gelu_tanh_f32(float x) {
    constexpr float kSqrt2OverPi = 0.7978845608028654f;
    const float cube = __fmul_rn(__fmul_rn(__fmul_rn(0.044715f, x), x), x);
    const float inner = __fmul_rn(kSqrt2OverPi, __fadd_rn(x, cube));
    return __fmul_rn(__fmul_rn(0.5f, x), __fadd_rn(1.0f, tanh_f32(inner)));
}

// Calls f(r, c) for every element of a rows x cols matrix: grid y strides over rows, grid x over columns.
template <typename F>
__global__ void for_each_kernel(int64_t rows, int64_t cols, F f) {
    for (int64_t r = blockIdx.y; r < rows; r += gridDim.y)
        for (int64_t c = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; c < cols;
             c += static_cast<int64_t>(gridDim.x) * blockDim.x)
            f(r, c);
}

template <typename F>
void for_each(int64_t rows, int64_t cols, const F& f, cudaStream_t s, const char* name) {
    if (rows <= 0 || cols <= 0) return;  // a zero grid is a launch error; there is nothing to do
    // Enough blocks to fill the GPU many times over; the loops in the kernel cover the rest.
    const int64_t bx = std::min<int64_t>((cols + kThreads - 1) / kThreads, 64);
    const int64_t by = std::min<int64_t>(rows, 65535);
    for_each_kernel<<<dim3(static_cast<unsigned>(bx), static_cast<unsigned>(by)), kThreads, 0, s>>>(rows, cols, f);
    GD_CUDA_LAUNCHED(name);
}

void require(bool ok, const char* op, const char* what) {
    if (!ok) throw Error(std::string("cuda ") + op + ": " + what);
}

bool same_shape(const Mat& a, const Mat& b) { return a.rows == b.rows && a.cols == b.cols; }

// ---- the per-element functions: plain structs (nvcc's device lambdas need --extended-lambda) ----

struct AddOp {
    const float *a, *b;
    float* out;
    int64_t lda, ldb, ldo;
    __device__ void operator()(int64_t r, int64_t c) const {
        out[r * ldo + c] = __fadd_rn(a[r * lda + c], b[r * ldb + c]);
    }
};

struct ScaleOp {
    float* x;
    int64_t ld;
    float factor;
    __device__ void operator()(int64_t r, int64_t c) const { x[r * ld + c] = __fmul_rn(x[r * ld + c], factor); }
};

struct MulColsOp {
    float* x;
    int64_t ld;
    const float* v;
    __device__ void operator()(int64_t r, int64_t c) const { x[r * ld + c] = __fmul_rn(x[r * ld + c], v[c]); }
};

struct AddColsOp {
    float* x;
    int64_t ld;
    const float* v;
    __device__ void operator()(int64_t r, int64_t c) const { x[r * ld + c] = __fadd_rn(x[r * ld + c], v[c]); }
};

struct SoftcapOp {
    float* x;
    int64_t ld;
    float cap;
    __device__ void operator()(int64_t r, int64_t c) const {
        x[r * ld + c] = __fmul_rn(cap, tanh_f32(__fdiv_rn(x[r * ld + c], cap)));
    }
};

struct ClampOp {
    const float* x;
    float* out;
    int64_t ldx, ldo;
    float lo, hi;
    __device__ void operator()(int64_t r, int64_t c) const {
        // std::min(std::max(v, lo), hi) as the CPU writes it: max(v, lo) is (v < lo ? lo : v) and
        // min(m, hi) is (hi < m ? hi : m), so a NaN input comes through as NaN (fmaxf would drop it).
        const float v = x[r * ldx + c];
        const float m = v < lo ? lo : v;
        out[r * ldo + c] = hi < m ? hi : m;
    }
};

struct GeluMulOp {
    const float *gate, *up;
    float* out;
    int64_t ldg, ldu, ldo;
    __device__ void operator()(int64_t r, int64_t c) const {
        // Both inputs are read before the store, so out may alias gate (or up).
        out[r * ldo + c] = __fmul_rn(gelu_tanh_f32(gate[r * ldg + c]), up[r * ldu + c]);
    }
};

struct ReluOp {
    float* x;
    int64_t ld;
    __device__ void operator()(int64_t r, int64_t c) const {
        // std::max(v, 0.0f) is (v < 0 ? 0 : v): NaN stays NaN, -0 stays -0, as on the CPU.
        const float v = x[r * ld + c];
        x[r * ld + c] = v < 0.0f ? 0.0f : v;
    }
};

struct SiluOp {
    float* x;
    int64_t ld;
    __device__ void operator()(int64_t r, int64_t c) const {
        const float v = x[r * ld + c];
        x[r * ld + c] = __fmul_rn(v, sigmoid_f32(v));
    }
};

struct GluOp {
    const float* x;
    float* out;
    int64_t ldx, ldo, half;  // half = out.cols; x has 2 * half columns
    __device__ void operator()(int64_t r, int64_t c) const {
        const float* in = x + r * ldx;
        out[r * ldo + c] = __fmul_rn(in[c], sigmoid_f32(in[half + c]));
    }
};

}  // namespace

void add(const Mat& a, const Mat& b, const Mat& out, cudaStream_t s) {
    require(same_shape(a, b) && same_shape(a, out), "add", "tensor shapes differ");
    // Elementwise with each input read before its own output is written: aliasing a or b is safe.
    for_each(a.rows, a.cols, AddOp{a.data, b.data, out.data, a.ld, b.ld, out.ld}, s, "add");
}

void scale(const Mat& x, float factor, cudaStream_t s) {
    for_each(x.rows, x.cols, ScaleOp{x.data, x.ld, factor}, s, "scale");
}

void mul_cols(const Mat& x, const float* v, cudaStream_t s) {
    for_each(x.rows, x.cols, MulColsOp{x.data, x.ld, v}, s, "mul_cols");
}

void add_cols(const Mat& x, const float* v, cudaStream_t s) {
    for_each(x.rows, x.cols, AddColsOp{x.data, x.ld, v}, s, "add_cols");
}

void softcap(const Mat& x, float cap, cudaStream_t s) {
    for_each(x.rows, x.cols, SoftcapOp{x.data, x.ld, cap}, s, "softcap");
}

void clamp(const Mat& x, float lo, float hi, const Mat& out, cudaStream_t s) {
    require(same_shape(x, out), "clamp", "tensor shapes differ");
    for_each(x.rows, x.cols, ClampOp{x.data, out.data, x.ld, out.ld, lo, hi}, s, "clamp");
}

void gelu_mul(const Mat& gate, const Mat& up, const Mat& out, cudaStream_t s) {
    require(same_shape(gate, up) && same_shape(gate, out), "gelu_mul", "tensor shapes differ");
    for_each(gate.rows, gate.cols, GeluMulOp{gate.data, up.data, out.data, gate.ld, up.ld, out.ld}, s, "gelu_mul");
}

void relu(const Mat& x, cudaStream_t s) { for_each(x.rows, x.cols, ReluOp{x.data, x.ld}, s, "relu"); }

void silu(const Mat& x, cudaStream_t s) { for_each(x.rows, x.cols, SiluOp{x.data, x.ld}, s, "silu"); }

void glu(const Mat& x, const Mat& out, cudaStream_t s) {
    require(x.rows == out.rows && x.cols == 2 * out.cols, "glu", "the input must have twice the output's columns");
    // An aliased output would overwrite gate values other threads still have to read.
    require(x.data != out.data || out.rows == 0 || out.cols == 0, "glu", "the output may not alias the input");
    for_each(out.rows, out.cols, GluOp{x.data, out.data, x.ld, out.ld, out.cols}, s, "glu");
}

}  // namespace gd::cuda
