#include "backend/cuda/cuda_check.h"

#include <string>

#include "common/error.h"

namespace gd::cuda {

void throw_cuda_error(cudaError_t err, const char* what, const char* file, int line) {
    const std::string where = std::string(file) + ":" + std::to_string(line);
    if (err == cudaErrorMemoryAllocation) {
        cudaGetLastError();  // not sticky: clear it so the backend stays usable after a refusal
        throw Error("out of GPU memory (" + std::string(what) + " at " + where +
                    "): use a smaller model, a shorter context, or fewer layers on the GPU");
    }
    throw Error("CUDA error " + std::string(cudaGetErrorName(err)) + " (" + cudaGetErrorString(err) + ") in " + what +
                " at " + where);
}

void throw_cublas_error(cublasStatus_t st, const char* what, const char* file, int line) {
    throw Error("cuBLAS error " + std::string(cublasGetStatusName(st)) + " (" + cublasGetStatusString(st) + ") in " +
                what + " at " + file + ":" + std::to_string(line));
}

}  // namespace gd::cuda
