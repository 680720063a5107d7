#include <cuda_runtime.h>

#include "backend/cuda/cuda_device_query.h"

namespace gd {

DeviceReport cuda_query_devices() {
    DeviceReport r;
    r.cuda_built = true;
    int runtime = 0, driver = 0;
    cudaRuntimeGetVersion(&runtime);
    cudaDriverGetVersion(&driver);
    int count = 0;
    const cudaError_t err = cudaGetDeviceCount(&count);
    r.note = "CUDA runtime " + std::to_string(runtime / 1000) + "." + std::to_string(runtime % 1000 / 10) +
             ", driver " + (driver ? std::to_string(driver / 1000) + "." + std::to_string(driver % 1000 / 10)
                                   : std::string("none"));
    if (err != cudaSuccess) {
        r.note += ": " + std::string(cudaGetErrorString(err));
        cudaGetLastError();  // clear the sticky error so later calls start clean
        return r;
    }
    for (int i = 0; i < count; ++i) {
        cudaDeviceProp p{};
        if (cudaGetDeviceProperties(&p, i) != cudaSuccess) continue;
        GpuInfo g;
        g.index = i;
        g.name = p.name;
        g.compute_major = p.major;
        g.compute_minor = p.minor;
        g.total_bytes = p.totalGlobalMem;
        size_t free_b = 0, total_b = 0;
        if (cudaSetDevice(i) == cudaSuccess && cudaMemGetInfo(&free_b, &total_b) == cudaSuccess) {
            g.free_bytes = free_b;
            g.total_bytes = total_b;
        }
        r.gpus.push_back(g);
    }
    return r;
}

}  // namespace gd
