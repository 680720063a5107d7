#pragma once
// What compute devices this machine has. No GPU, no driver, or a build without CUDA are normal
// cases: the list is empty and `note` says why.
#include <cstdint>
#include <string>
#include <vector>

namespace gd {

struct GpuInfo {
    std::string name;
    int index = 0;
    int compute_major = 0;
    int compute_minor = 0;
    uint64_t total_bytes = 0;
    uint64_t free_bytes = 0;
};

struct DeviceReport {
    bool cuda_built = false;
    std::string note;  // why the list is empty, or the driver/runtime versions
    std::vector<GpuInfo> gpus;
};

DeviceReport query_cuda_devices();

}  // namespace gd
