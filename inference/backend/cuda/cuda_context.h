#pragma once
// What every CUDA op needs besides its operands: the backend's stream and cuBLAS handle, and
// stream-ordered scratch memory. Plain views (Mat, WeightView, KvView) carry device pointers and
// shapes into the kernel launchers of cuda_kernels.h, so the .cu files know nothing of Tensor's
// shared ownership or of the Backend class.
#include <cstddef>
#include <cstdint>

#include <cublas_v2.h>
#include <cuda_runtime_api.h>

#include "backend/cuda/cuda_check.h"
#include "format/dtype.h"

namespace gd::cuda {

// An f32 matrix in device memory: rows × cols, `ld` floats between consecutive rows (>= cols).
struct Mat {
    float* data = nullptr;
    int64_t rows = 0, cols = 0, ld = 0;
    float* row(int64_t r) const { return data + r * ld; }
};

// A weight in device memory in its stored type: `experts` stacked matrices of rows × cols (PyTorch
// Linear layout: rows = output features), each stored row `row_bytes` long.
struct WeightView {
    DType type = DType::F32;
    const uint8_t* data = nullptr;
    int64_t experts = 1, rows = 0, cols = 0;
    size_t row_bytes = 0;
    const uint8_t* expert(int64_t e) const { return data + static_cast<size_t>(e) * static_cast<size_t>(rows) * row_bytes; }
};

// One KV-owning layer's cache: `capacity` slots of `row_elems` (= kv_heads * head_dim) floats for K
// and for V; slot = position (full layers) or position % capacity (rings).
struct KvView {
    float* k = nullptr;
    float* v = nullptr;
    int64_t capacity = 0, kv_heads = 0, head_dim = 0, ld = 0;
    bool ring = false;
};

struct CudaContext {
    cudaStream_t stream = nullptr;
    cublasHandle_t cublas = nullptr;
    int device = 0;
    int sm_count = 0;
    size_t shared_per_block_optin = 0;  // the most dynamic shared memory a block may ask for
};

// Scratch device memory, allocated and freed in stream order (cudaMallocAsync from the device's
// pool: cheap after the first use, and legal while a CUDA graph is being captured). The memory may
// be used by work queued on `stream` until the buffer goes out of scope.
class DeviceBuffer {
public:
    DeviceBuffer() = default;
    DeviceBuffer(size_t bytes, cudaStream_t stream) : stream_(stream), bytes_(bytes) {
        if (bytes) GD_CUDA(cudaMallocAsync(&ptr_, bytes, stream));
    }
    ~DeviceBuffer() {
        if (ptr_) cudaFreeAsync(ptr_, stream_);
    }
    DeviceBuffer(const DeviceBuffer&) = delete;
    DeviceBuffer& operator=(const DeviceBuffer&) = delete;
    DeviceBuffer(DeviceBuffer&& o) noexcept : ptr_(o.ptr_), stream_(o.stream_), bytes_(o.bytes_) { o.ptr_ = nullptr; }
    DeviceBuffer& operator=(DeviceBuffer&& o) noexcept {
        if (this != &o) {
            if (ptr_) cudaFreeAsync(ptr_, stream_);
            ptr_ = o.ptr_;
            stream_ = o.stream_;
            bytes_ = o.bytes_;
            o.ptr_ = nullptr;
        }
        return *this;
    }
    template <typename T = void>
    T* get() const { return static_cast<T*>(ptr_); }
    size_t bytes() const { return bytes_; }

private:
    void* ptr_ = nullptr;
    cudaStream_t stream_ = nullptr;
    size_t bytes_ = 0;
};

// Copies a host array to fresh scratch memory on `stream` (the host array may be freed at once).
template <typename T>
DeviceBuffer upload_array(const T* host, size_t n, cudaStream_t stream) {
    DeviceBuffer b(n * sizeof(T), stream);
    if (n) GD_CUDA(cudaMemcpyAsync(b.get(), host, n * sizeof(T), cudaMemcpyHostToDevice, stream));
    return b;
}

}  // namespace gd::cuda
