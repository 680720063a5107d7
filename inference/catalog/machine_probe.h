#pragma once
// What this machine has for running a model: RAM and cores, NVIDIA GPUs through the CUDA runtime,
// other GPUs through Vulkan (loaded at run time with dlopen, so a machine without the loader is a
// normal case). No GPU, no driver, no Vulkan loader: the lists are empty and the notes say why.
// A synthetic machine (--ram / --gpu-memory) stands in for planning on another computer.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "backend/device_query.h"

namespace gd {

struct VulkanHeap {
    uint64_t size = 0;
    bool device_local = false;
    uint64_t budget = 0;  // VK_EXT_memory_budget: what this process may use now (0 = not reported)
    uint64_t usage = 0;   // VK_EXT_memory_budget: what this process uses
};

struct VulkanGpu {
    std::string name;
    std::string type;  // "discrete", "integrated", "virtual", "cpu", "other"
    uint32_t vendor_id = 0;
    bool has_memory_budget = false;  // VK_EXT_memory_budget is present
    std::vector<VulkanHeap> heaps;
    uint64_t device_local_bytes() const;   // sum of the device-local heaps
    uint64_t device_local_budget() const;  // sum of their budgets (0 without the extension)
};

struct MachineInfo {
    uint64_t ram_total = 0;      // 0 = unknown
    uint64_t ram_available = 0;  // MemAvailable
    unsigned cores = 0;
    std::vector<GpuInfo> cuda_gpus;
    std::string cuda_note;       // why the list is empty, or the runtime/driver versions
    std::vector<VulkanGpu> vulkan_gpus;
    std::string vulkan_note;
    bool synthetic = false;      // some figures were given, not measured
};

// Measures this machine; never throws.
MachineInfo probe_machine(bool with_vulkan = true);
// A machine for planning: `ram` (total = available) and, when given and non-zero, one CUDA GPU with
// `gpu_memory` bytes, all of them free. Unset values are measured.
MachineInfo synthetic_machine(std::optional<uint64_t> ram, std::optional<uint64_t> gpu_memory, const MachineInfo& measured);

// MemTotal and MemAvailable of a /proc/meminfo text; absent or garbled lines leave 0.
void parse_meminfo(const std::string& text, uint64_t& total, uint64_t& available);

// The Vulkan GPUs (dlopen of libvulkan.so.1); an empty list and a note when there is no loader,
// no driver or no device.
std::vector<VulkanGpu> query_vulkan_gpus(std::string& note);
// VkPhysicalDeviceType -> "discrete", ...
const char* vulkan_device_type_name(int type);
// Builds a VulkanGpu from the raw values Vulkan reports (heap sizes and flags; budgets and usages
// when the extension is there, else empty): testable without a driver.
VulkanGpu make_vulkan_gpu(const std::string& name, int device_type, uint32_t vendor_id,
                          const std::vector<uint64_t>& heap_sizes, const std::vector<uint32_t>& heap_flags,
                          const std::vector<uint64_t>& budgets, const std::vector<uint64_t>& usages);

}  // namespace gd
