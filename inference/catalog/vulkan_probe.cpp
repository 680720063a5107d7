// Vulkan GPUs through the loader opened at run time: no build or link dependency on libvulkan, and a
// machine without the loader, without a driver or without a device is an empty list with a note.
// Only the structs come from the Vulkan headers (libvulkan-dev, in scripts/install-deps.sh); without
// them the probe says so.
#include "catalog/machine_probe.h"

#if __has_include(<vulkan/vulkan.h>)
#define VK_NO_PROTOTYPES
#include <dlfcn.h>
#include <vulkan/vulkan.h>
#define GD_HAVE_VULKAN_HEADERS 1
#endif

#include <cstring>

namespace gd {

#ifdef GD_HAVE_VULKAN_HEADERS
namespace {

// Closes the loader and destroys the instance on every path out.
struct VulkanSession {
    void* lib = nullptr;
    VkInstance instance = VK_NULL_HANDLE;
    PFN_vkDestroyInstance destroy = nullptr;
    ~VulkanSession() {
        if (instance && destroy) destroy(instance, nullptr);
        if (lib) dlclose(lib);
    }
};

bool has_extension(PFN_vkEnumerateDeviceExtensionProperties enumerate, VkPhysicalDevice dev, const char* name) {
    uint32_t n = 0;
    if (!enumerate || enumerate(dev, nullptr, &n, nullptr) != VK_SUCCESS) return false;
    std::vector<VkExtensionProperties> ext(n);
    if (enumerate(dev, nullptr, &n, ext.data()) != VK_SUCCESS) return false;
    for (const auto& e : ext)
        if (std::strcmp(e.extensionName, name) == 0) return true;
    return false;
}

}  // namespace

std::vector<VulkanGpu> query_vulkan_gpus(std::string& note) {
    std::vector<VulkanGpu> out;
    VulkanSession s;
    s.lib = dlopen("libvulkan.so.1", RTLD_NOW | RTLD_LOCAL);
    if (!s.lib) {
        note = "no Vulkan loader (libvulkan.so.1 is not installed)";
        return out;
    }
    auto get_instance_proc = reinterpret_cast<PFN_vkGetInstanceProcAddr>(dlsym(s.lib, "vkGetInstanceProcAddr"));
    if (!get_instance_proc) {
        note = "the Vulkan loader has no vkGetInstanceProcAddr";
        return out;
    }
    auto create = reinterpret_cast<PFN_vkCreateInstance>(get_instance_proc(VK_NULL_HANDLE, "vkCreateInstance"));
    if (!create) {
        note = "the Vulkan loader has no vkCreateInstance";
        return out;
    }
    VkApplicationInfo app{};
    app.sType = VK_STRUCTURE_TYPE_APPLICATION_INFO;
    app.pApplicationName = "gemmadesk";
    app.apiVersion = VK_API_VERSION_1_1;  // vkGetPhysicalDeviceMemoryProperties2 is core in 1.1
    VkInstanceCreateInfo info{};
    info.sType = VK_STRUCTURE_TYPE_INSTANCE_CREATE_INFO;
    info.pApplicationInfo = &app;
    const VkResult created = create(&info, nullptr, &s.instance);
    if (created != VK_SUCCESS) {
        s.instance = VK_NULL_HANDLE;
        note = created == VK_ERROR_INCOMPATIBLE_DRIVER ? "no Vulkan driver (no installable client driver found)"
                                                        : "Vulkan instance could not be created (error " + std::to_string(created) + ")";
        return out;
    }
    auto proc = [&](const char* name) { return get_instance_proc(s.instance, name); };
    s.destroy = reinterpret_cast<PFN_vkDestroyInstance>(proc("vkDestroyInstance"));
    auto enumerate = reinterpret_cast<PFN_vkEnumeratePhysicalDevices>(proc("vkEnumeratePhysicalDevices"));
    auto properties = reinterpret_cast<PFN_vkGetPhysicalDeviceProperties>(proc("vkGetPhysicalDeviceProperties"));
    auto memory = reinterpret_cast<PFN_vkGetPhysicalDeviceMemoryProperties>(proc("vkGetPhysicalDeviceMemoryProperties"));
    auto memory2 = reinterpret_cast<PFN_vkGetPhysicalDeviceMemoryProperties2>(proc("vkGetPhysicalDeviceMemoryProperties2"));
    auto extensions = reinterpret_cast<PFN_vkEnumerateDeviceExtensionProperties>(proc("vkEnumerateDeviceExtensionProperties"));
    if (!enumerate || !properties || !memory) {
        note = "the Vulkan loader lacks basic device queries";
        return out;
    }
    uint32_t count = 0;
    if (enumerate(s.instance, &count, nullptr) != VK_SUCCESS || count == 0) {
        note = "Vulkan: no devices";
        return out;
    }
    std::vector<VkPhysicalDevice> devices(count);
    if (enumerate(s.instance, &count, devices.data()) != VK_SUCCESS) {
        note = "Vulkan: the devices could not be listed";
        return out;
    }
    for (VkPhysicalDevice dev : devices) {
        VkPhysicalDeviceProperties p{};
        properties(dev, &p);
        VkPhysicalDeviceMemoryProperties mp{};
        std::vector<uint64_t> budgets, usages;
        if (memory2 && has_extension(extensions, dev, VK_EXT_MEMORY_BUDGET_EXTENSION_NAME)) {
            VkPhysicalDeviceMemoryBudgetPropertiesEXT budget{};
            budget.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_MEMORY_BUDGET_PROPERTIES_EXT;
            VkPhysicalDeviceMemoryProperties2 mp2{};
            mp2.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_MEMORY_PROPERTIES_2;
            mp2.pNext = &budget;
            memory2(dev, &mp2);
            mp = mp2.memoryProperties;
            for (uint32_t i = 0; i < mp.memoryHeapCount; ++i) {
                budgets.push_back(budget.heapBudget[i]);
                usages.push_back(budget.heapUsage[i]);
            }
        } else {
            memory(dev, &mp);
        }
        std::vector<uint64_t> sizes;
        std::vector<uint32_t> flags;
        for (uint32_t i = 0; i < mp.memoryHeapCount; ++i) {
            sizes.push_back(mp.memoryHeaps[i].size);
            flags.push_back(mp.memoryHeaps[i].flags);
        }
        out.push_back(make_vulkan_gpu(p.deviceName, static_cast<int>(p.deviceType), p.vendorID, sizes, flags, budgets, usages));
    }
    note = "Vulkan: " + std::to_string(out.size()) + " device(s)";
    return out;
}

#else

std::vector<VulkanGpu> query_vulkan_gpus(std::string& note) {
    note = "this build has no Vulkan headers (libvulkan-dev), so Vulkan GPUs are not listed";
    return {};
}

#endif

}  // namespace gd
