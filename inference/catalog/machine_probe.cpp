#include "catalog/machine_probe.h"

#include <fstream>
#include <sstream>
#include <thread>
#include <unistd.h>

#include "catalog/fit_estimate.h"

namespace gd {

uint64_t VulkanGpu::device_local_bytes() const {
    uint64_t n = 0;
    for (const VulkanHeap& h : heaps)
        if (h.device_local) n += h.size;
    return n;
}

uint64_t VulkanGpu::device_local_budget() const {
    uint64_t n = 0;
    for (const VulkanHeap& h : heaps)
        if (h.device_local) n += h.budget;
    return n;
}

void parse_meminfo(const std::string& text, uint64_t& total, uint64_t& available) {
    MachineMemory m;
    gd::parse_meminfo(text, m);  // the one parser the model picker uses too
    total = m.ram_total;
    available = m.ram_available;
}

const char* vulkan_device_type_name(int type) {
    switch (type) {
        case 1: return "integrated";
        case 2: return "discrete";
        case 3: return "virtual";
        case 4: return "cpu";
        default: return "other";
    }
}

VulkanGpu make_vulkan_gpu(const std::string& name, int device_type, uint32_t vendor_id,
                          const std::vector<uint64_t>& heap_sizes, const std::vector<uint32_t>& heap_flags,
                          const std::vector<uint64_t>& budgets, const std::vector<uint64_t>& usages) {
    VulkanGpu g;
    g.name = name;
    g.type = vulkan_device_type_name(device_type);
    g.vendor_id = vendor_id;
    g.has_memory_budget = !budgets.empty() && budgets.size() == heap_sizes.size();
    for (size_t i = 0; i < heap_sizes.size(); ++i) {
        VulkanHeap h;
        h.size = heap_sizes[i];
        h.device_local = i < heap_flags.size() && (heap_flags[i] & 1u) != 0;  // VK_MEMORY_HEAP_DEVICE_LOCAL_BIT
        if (g.has_memory_budget) {
            h.budget = budgets[i];
            h.usage = i < usages.size() ? usages[i] : 0;
        }
        g.heaps.push_back(h);
    }
    return g;
}

MachineInfo probe_machine(bool with_vulkan) {
    MachineInfo m;
    std::ifstream f("/proc/meminfo");
    if (f) {
        std::stringstream s;
        s << f.rdbuf();
        parse_meminfo(s.str(), m.ram_total, m.ram_available);
    }
    const long online = sysconf(_SC_NPROCESSORS_ONLN);
    m.cores = online > 0 ? static_cast<unsigned>(online) : std::thread::hardware_concurrency();
    const DeviceReport cuda = query_cuda_devices();
    m.cuda_gpus = cuda.gpus;
    m.cuda_note = cuda.note;
    if (with_vulkan) m.vulkan_gpus = query_vulkan_gpus(m.vulkan_note);
    else m.vulkan_note = "not queried";
    return m;
}

MachineInfo synthetic_machine(std::optional<uint64_t> ram, std::optional<uint64_t> gpu_memory, const MachineInfo& measured) {
    MachineInfo m = measured;
    if (ram) {
        m.ram_total = m.ram_available = *ram;
        m.synthetic = true;
    }
    if (gpu_memory) {
        m.synthetic = true;
        m.cuda_gpus.clear();
        m.vulkan_gpus.clear();
        m.vulkan_note = "not used: a GPU size was given";
        if (*gpu_memory > 0) {
            GpuInfo g;
            g.name = "synthetic GPU";
            g.index = 0;
            g.total_bytes = g.free_bytes = *gpu_memory;
            m.cuda_gpus.push_back(g);
            m.cuda_note = "synthetic: " + std::to_string(*gpu_memory >> 20) + " MiB given with --gpu-memory";
        } else {
            m.cuda_note = "synthetic: no GPU";
        }
    }
    return m;
}

}  // namespace gd
