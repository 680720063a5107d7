// The memory a model needs and whether it fits: KV cache sizes by hand for the four published
// configs and against the real KvCache for the tiny ones, the verdicts and their wording.
#include <gtest/gtest.h>

#include "backend/backend.h"
#include "catalog/catalog_support.h"
#include "catalog/fit_estimate.h"
#include "model/model_files.h"
#include "model/variants.h"
#include "support/test_support.h"
#include "text/kv_cache.h"

namespace gd {
namespace {

constexpr uint64_t GiB = 1ull << 30;

// 2 (K and V) x capacity x kv_heads x head_dim x 4 bytes per KV-owning layer; sliding rings hold
// window + 512 - 1 positions at the default batch, full layers the whole 8192.
TEST(FitEstimate, KvCacheOfThePublishedVariantsByHand) {
    // E2B: 35 layers, full every 5th, the last 20 share KV -> layers 0..14 own it: 3 full, 12 sliding;
    // 1 KV head; sliding 256 wide with a 512 + 511 ring, full 512 wide.
    EXPECT_EQ(kv_cache_bytes(preset_config(Variant::E2B, ModelSize::Full).text, 8192),
              12ull * 2 * 1023 * 1 * 256 * 4 + 3ull * 2 * 8192 * 1 * 512 * 4);
    // E4B: 42 layers, full every 6th, the last 18 share -> 0..23 own it: 4 full, 20 sliding; 2 KV heads.
    EXPECT_EQ(kv_cache_bytes(preset_config(Variant::E4B, ModelSize::Full).text, 8192),
              20ull * 2 * 1023 * 2 * 256 * 4 + 4ull * 2 * 8192 * 2 * 512 * 4);
    // 26B-A4B: 30 layers, 5 full (2 KV heads), 25 sliding (8 KV heads, window 1024 -> ring 1535).
    EXPECT_EQ(kv_cache_bytes(preset_config(Variant::A26B, ModelSize::Full).text, 8192),
              25ull * 2 * 1535 * 8 * 256 * 4 + 5ull * 2 * 8192 * 2 * 512 * 4);
    // 31B: 60 layers, 10 full (4 KV heads), 50 sliding (16 KV heads).
    EXPECT_EQ(kv_cache_bytes(preset_config(Variant::B31, ModelSize::Full).text, 8192),
              50ull * 2 * 1535 * 16 * 256 * 4 + 10ull * 2 * 8192 * 4 * 512 * 4);
    // The numbers themselves, so a change in the presets shows up here: 120 MiB, 336 MiB, 920 MiB, 3.6 GiB.
    EXPECT_EQ(kv_cache_bytes(preset_config(Variant::E2B, ModelSize::Full).text, 8192), 125804544u);
    EXPECT_EQ(kv_cache_bytes(preset_config(Variant::E4B, ModelSize::Full).text, 8192), 352239616u);
    EXPECT_EQ(kv_cache_bytes(preset_config(Variant::A26B, ModelSize::Full).text, 8192), 964280320u);
    EXPECT_EQ(kv_cache_bytes(preset_config(Variant::B31, ModelSize::Full).text, 8192), 3857121280u);
}

TEST(FitEstimate, KvCacheMatchesWhatTheDecoderAllocates) {
    auto backend = make_cpu_backend(1);
    for (Variant v : published_variants()) {
        const TextConfig t = preset_config(v, ModelSize::Tiny).text;
        for (int64_t context : {1, 20, 100, 4096})
            for (int64_t chunk : {1, 7, 512}) {
                const KvCache cache(*backend, t, context, chunk);
                EXPECT_EQ(kv_cache_bytes(t, context, chunk), cache.bytes()) << variant_name(v) << " " << context << " " << chunk;
            }
    }
    EXPECT_EQ(kv_cache_bytes(preset_config(Variant::E2B, ModelSize::Tiny).text, 0), 0u);
}

TEST(FitEstimate, MemoryOfATinyModelIsWeightsPlusKvPlusOverhead) {
    const std::string dir = test::scratch_dir("fit_memory");
    test::write_tiny_model(Variant::E4B, TestModelFormat::Gguf, DType::Q8_0, dir + "/m.gguf");
    const ModelFiles m = ModelFiles::open({dir + "/m.gguf"});
    const ModelReport r = make_report(m);
    const MemoryNeed n = estimate_memory(r, m.config());
    EXPECT_EQ(n.weights, r.total_bytes());
    EXPECT_EQ(n.host_resident, r.ple_table_bytes());
    EXPECT_GT(n.host_resident, 0u);
    // The tiny models allow 4096 positions: the default 8192 is capped as the engine caps it.
    EXPECT_EQ(m.config().text.max_position_embeddings, 4096);
    EXPECT_EQ(n.kv_cache, kv_cache_bytes(m.config().text, 4096));
    EXPECT_EQ(n.overhead, kRuntimeOverheadBytes);
    EXPECT_EQ(n.total(), r.total_bytes() + kv_cache_bytes(m.config().text, 4096) + kRuntimeOverheadBytes);
}

TEST(FitEstimate, ReadsMeminfo) {
    MachineMemory m;
    parse_meminfo("MemTotal:       16384000 kB\nMemFree:         1000000 kB\nMemAvailable:   12288000 kB\nBuffers: 1 kB\n", m);
    EXPECT_EQ(m.ram_total, 16384000ull * 1024);
    EXPECT_EQ(m.ram_available, 12288000ull * 1024);
    MachineMemory garbled;
    parse_meminfo("MemTotal: lots\nMemAvailable: 99999999999 kB\nMemTotal: 12 MB\n", garbled);
    EXPECT_EQ(garbled.ram_total, 0u);
    EXPECT_EQ(garbled.ram_available, 0u) << "available can never exceed the total";
    const MachineMemory here = probe_machine_memory();
    EXPECT_GT(here.ram_total, 0u);
    EXPECT_LE(here.ram_available, here.ram_total);
}

MachineMemory laptop() {  // 16 GiB of RAM, 12 free, no GPU
    MachineMemory m;
    m.ram_total = 16 * GiB;
    m.ram_available = 12 * GiB;
    return m;
}

TEST(FitEstimate, CpuVerdicts) {
    const MachineMemory m = laptop();
    FitEstimate f = estimate_fit(6 * GiB, m);
    EXPECT_EQ(f.verdict, FitEstimate::Verdict::Fits);
    EXPECT_EQ(f.device, "CPU");
    EXPECT_EQ(f.summary, "Fits in memory (needs 6.0 GB of 12.0 GB available)");
    // Above 90% of what is free, up to the RAM's total: it runs once other programs give memory back.
    f = estimate_fit(11 * GiB, m);
    EXPECT_EQ(f.verdict, FitEstimate::Verdict::Tight);
    EXPECT_EQ(f.summary, "Tight: needs 11.0 GB, 12.0 GB of 16.0 GB are free now; close other programs first");
    EXPECT_EQ(estimate_fit(16 * GiB, m).verdict, FitEstimate::Verdict::Tight);
    f = estimate_fit(19 * GiB, m);
    EXPECT_EQ(f.verdict, FitEstimate::Verdict::TooLarge);
    EXPECT_EQ(f.summary, "Too large: needs 19.0 GB, this machine has 16.0 GB");
    // Unknown memory: no promise either way.
    f = estimate_fit(1 * GiB, MachineMemory{});
    EXPECT_EQ(f.verdict, FitEstimate::Verdict::Tight);
    EXPECT_NE(f.summary.find("could not be read"), std::string::npos) << f.summary;
    EXPECT_STREQ(verdict_name(FitEstimate::Verdict::TooLarge), "too large");
}

TEST(FitEstimate, GpuVerdicts) {
    MachineMemory m = laptop();
    m.gpus.push_back({"NVIDIA GeForce RTX 4060", 0, 8, 9, 8 * GiB, 7 * GiB});
    m.gpus.push_back({"NVIDIA H100", 1, 9, 0, 80 * GiB, 79 * GiB});
    // The GPU with the most free memory takes it.
    FitEstimate f = estimate_fit(20 * GiB, m);
    EXPECT_EQ(f.verdict, FitEstimate::Verdict::Fits);
    EXPECT_EQ(f.device, "GPU 1 (NVIDIA H100)");
    EXPECT_EQ(f.summary, "Fits in GPU 1 memory (needs 20.0 GB of 79.0 GB free)");
    // A GPU is preferred at the same verdict.
    f = estimate_fit(2 * GiB, m);
    EXPECT_EQ(f.device, "GPU 1 (NVIDIA H100)");
    // The PLE table may stay in RAM: 75 GB with 5 of them host-resident fits in 90% of 79 GB free...
    f = estimate_fit(75 * GiB, m, 5 * GiB);
    EXPECT_EQ(f.verdict, FitEstimate::Verdict::Fits);
    EXPECT_EQ(f.summary, "Fits in GPU 1 memory (needs 70.0 GB of 79.0 GB free)");
    // ...all 75 on the GPU is tight, and still better than 16 GB of RAM.
    f = estimate_fit(75 * GiB, m);
    EXPECT_EQ(f.verdict, FitEstimate::Verdict::Tight);
    EXPECT_EQ(f.device, "GPU 1 (NVIDIA H100)");
    f = estimate_fit(100 * GiB, m);
    EXPECT_EQ(f.verdict, FitEstimate::Verdict::TooLarge);
    EXPECT_EQ(f.summary, "Too large: needs 100.0 GB, this machine has 16.0 GB, GPU 0 has 8.0 GB, GPU 1 has 80.0 GB");
    // A big RAM beats a small GPU.
    MachineMemory ws;
    ws.ram_total = 128 * GiB;
    ws.ram_available = 120 * GiB;
    ws.gpus.push_back({"NVIDIA GeForce RTX 4060", 0, 8, 9, 8 * GiB, 7 * GiB});
    f = estimate_fit(30 * GiB, ws);
    EXPECT_EQ(f.verdict, FitEstimate::Verdict::Fits);
    EXPECT_EQ(f.device, "CPU");
}

}  // namespace
}  // namespace gd
