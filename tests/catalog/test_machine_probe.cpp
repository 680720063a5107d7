// Machine detection on fixed inputs (meminfo text, raw Vulkan heap values) and on this machine,
// where no GPU, no driver and no Vulkan loader are all normal answers.
#include <gtest/gtest.h>

#include "catalog/machine_probe.h"

namespace gd {
namespace {

TEST(MachineProbe, ParsesMeminfo) {
    uint64_t total = 0, available = 0;
    parse_meminfo("MemTotal:       16384000 kB\nMemFree:  100 kB\nMemAvailable:    8192000 kB\n", total, available);
    EXPECT_EQ(total, 16384000ull * 1024);
    EXPECT_EQ(available, 8192000ull * 1024);
    parse_meminfo("garbage\n", total = 0, available = 0);
    EXPECT_EQ(total, 0u);
}

TEST(MachineProbe, VulkanHeapsWithAndWithoutBudget) {
    // A discrete GPU: 8 GiB device-local heap and 16 GiB of host-visible system memory.
    const VulkanGpu with = make_vulkan_gpu("Radeon", 2, 0x1002, {8ull << 30, 16ull << 30}, {1u, 0u},
                                           {7ull << 30, 12ull << 30}, {1ull << 29, 0});
    EXPECT_EQ(with.type, "discrete");
    EXPECT_TRUE(with.has_memory_budget);
    EXPECT_EQ(with.device_local_bytes(), 8ull << 30);
    EXPECT_EQ(with.device_local_budget(), 7ull << 30);
    EXPECT_EQ(with.heaps[0].usage, 1ull << 29);
    const VulkanGpu without = make_vulkan_gpu("Intel UHD", 1, 0x8086, {4ull << 30}, {1u}, {}, {});
    EXPECT_EQ(without.type, "integrated");
    EXPECT_FALSE(without.has_memory_budget);
    EXPECT_EQ(without.device_local_budget(), 0u);
    EXPECT_EQ(vulkan_device_type_name(4), std::string("cpu"));
    EXPECT_EQ(vulkan_device_type_name(99), std::string("other"));
}

TEST(MachineProbe, ThisMachineNeverThrows) {
    const MachineInfo m = probe_machine(/*with_vulkan=*/false);  // drivers stay out of sanitizer runs
    EXPECT_GT(m.ram_total, 0u);
    EXPECT_GT(m.cores, 0u);
    if (m.cuda_gpus.empty()) {
        EXPECT_FALSE(m.cuda_note.empty());
    }
}

TEST(MachineProbe, SyntheticMachine) {
    MachineInfo measured;
    measured.ram_total = 64ull << 30;
    measured.cuda_gpus.push_back(GpuInfo{"real", 0, 8, 9, 80ull << 30, 70ull << 30});
    const MachineInfo no_gpu = synthetic_machine(std::nullopt, 0, measured);
    EXPECT_TRUE(no_gpu.cuda_gpus.empty());
    EXPECT_EQ(no_gpu.ram_total, 64ull << 30);
    const MachineInfo m = synthetic_machine(16ull << 30, 8ull << 30, measured);
    ASSERT_EQ(m.cuda_gpus.size(), 1u);
    EXPECT_EQ(m.cuda_gpus[0].free_bytes, 8ull << 30);
    EXPECT_EQ(m.ram_available, 16ull << 30);
    EXPECT_TRUE(m.synthetic);
}

}  // namespace
}  // namespace gd
