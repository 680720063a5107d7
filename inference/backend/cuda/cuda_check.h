#pragma once
// Error checks for the CUDA backend: every runtime and cuBLAS call, and every kernel launch, goes
// through one of these, which throw gd::Error with the call, the file:line and the driver's words.
// (Exit code 0 proves nothing on a GPU: an unchecked launch error surfaces ops later, elsewhere.)
#include <cublas_v2.h>
#include <cuda_runtime_api.h>

namespace gd::cuda {

[[noreturn]] void throw_cuda_error(cudaError_t err, const char* what, const char* file, int line);
[[noreturn]] void throw_cublas_error(cublasStatus_t st, const char* what, const char* file, int line);

inline void check(cudaError_t err, const char* what, const char* file, int line) {
    if (err != cudaSuccess) throw_cuda_error(err, what, file, line);
}
inline void check(cublasStatus_t st, const char* what, const char* file, int line) {
    if (st != CUBLAS_STATUS_SUCCESS) throw_cublas_error(st, what, file, line);
}

}  // namespace gd::cuda

// GD_CUDA(cudaMemcpyAsync(...)); GD_CUDA(cublasGemmEx(...));
#define GD_CUDA(call) ::gd::cuda::check((call), #call, __FILE__, __LINE__)
// After every <<<...>>>: catches bad launch configurations at once (errors inside the kernel
// surface at the next synchronising call, which is also checked).
#define GD_CUDA_LAUNCHED(kernel_name) ::gd::cuda::check(cudaGetLastError(), kernel_name, __FILE__, __LINE__)
