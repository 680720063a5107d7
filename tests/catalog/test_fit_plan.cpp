// The fit planner on fixed synthetic machines. Each expectation is derived in its comment from the
// memory model's figures (spec §7 formulas; GiB = 2^30 bytes):
//   weights (text + towers), GiB:  E2B bf16 9.54, q8_0 5.10 (PLE 2.32), q4_k 2.73
//                                  E4B bf16 14.82 (PLE 5.25), q8_0 7.90 (PLE 2.79), q4_k 4.21 (PLE 1.48)
//                                  26B q4_k 14.73, 31B bf16 58.30, q8_0 31.13, q4_k 16.69
//   f32 KV cache (what the engine allocates; sliding rings W + chunk - 1):
//                                  E4B 32 KiB/token on global layers: 8K 0.33, 32K 1.08, 128K 4.08 GiB
//                                  31B 160 KiB/token: 4K 2.97, 8K 4.52, 32K 8.27 GiB
//   plus activations (0.33 GiB E2B/E4B image peak, 0.49 GiB 26B/31B), 0.49 GiB CUDA context, 0.25 GiB
//   runtime in RAM. Usable: 90% of the GPU, RAM less 1.5 GiB (8 GiB RAM -> 6.5; 16 -> 14.5; 32 -> 30.5).
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "catalog/fit_plan.h"
#include "model/model_files.h"
#include "model/variants.h"
#include "support/test_support.h"

namespace gd {
namespace {

constexpr uint64_t GiB = 1ull << 30;

MachineInfo machine(uint64_t ram_gib, uint64_t gpu_gib) {
    MachineInfo none;
    none.cores = 8;
    return synthetic_machine(ram_gib * GiB, gpu_gib * GiB, none);
}

FitPlan best(uint64_t ram_gib, uint64_t gpu_gib, const PlanRequest& r = {}) {
    const std::vector<FitPlan> plans = plan_fit(recommended_candidates(), machine(ram_gib, gpu_gib), r);
    EXPECT_FALSE(plans.empty());
    return plans.front();
}

void expect_plan(const FitPlan& p, const std::string& variant, DType type, PlanDevice device, int64_t context) {
    EXPECT_TRUE(p.fits) << p.why;
    EXPECT_EQ(p.variant, variant) << p.why;
    EXPECT_EQ(p.weight_type, type) << p.why;
    EXPECT_EQ(p.device, device) << p.why;
    EXPECT_EQ(p.context, context) << p.why;
    EXPECT_LE(p.memory.gpu_total(), p.gpu_budget) << p.why;
    EXPECT_LE(p.memory.host_total(), p.ram_budget) << p.why;
}

// No GPU, 8 GiB RAM (6.5 usable): E4B q8_0 7.90 alone is too much; E4B q4_k 4.21 + KV 32K 1.08 +
// 0.33 + 0.25 = 5.87 fits, at 128K the KV alone (4.08) does not.
TEST(FitPlan, NoGpu8GiB) { expect_plan(best(8, 0), "e4b", DType::Q4_K, PlanDevice::Cpu, 32768); }

// No GPU, 16 GiB (14.5 usable): 26B q4_k 14.73 does not fit; E4B bf16 14.82 neither; E4B q8_0 7.90 +
// KV 128K 4.08 + 0.58 = 12.6 does, at the model's maximum.
TEST(FitPlan, NoGpu16GiB) { expect_plan(best(16, 0), "e4b", DType::Q8_0, PlanDevice::Cpu, 131072); }

// No GPU, 32 GiB (30.5 usable): 31B q4_k (16.69 + KV 32K 8.27 + 0.74 = 25.7) would fit, but every token
// reads its 16.7 GiB of layers from RAM — over the 12 GiB speed floor (fit_plan.cpp). The 26B-A4B reads
// only its active experts (3.8/25.2 of 26.9 GiB q8_0 ≈ 4.1 GiB): q8_0 + KV 32K fits in 28.5 GiB.
TEST(FitPlan, NoGpu32GiB) { expect_plan(best(32, 0), "26b-a4b", DType::Q8_0, PlanDevice::Cpu, 32768); }

// No GPU, 64 GiB (62.5 usable): 31B q8_0 (31.1 GiB read per token) is too slow, as above; 26B-A4B bf16
// (51.7 GB, ≈7.8 GB active per token) + its KV at the model's maximum fits in 59.7 GiB.
TEST(FitPlan, NoGpu64GiB) { expect_plan(best(64, 0), "26b-a4b", DType::BF16, PlanDevice::Cpu, 262144); }

// 8 GiB GPU (7.2 usable), 8 GiB RAM: E4B q8_0 on the GPU: text 4.60 + towers 0.52 + KV 32K 1.08 + act
// 0.33 + CUDA 0.49 = 7.0 fits; the PLE table (2.79) stays in RAM. Quality-first would take a bigger
// model split across GPU and RAM, but 6.5 GiB of RAM holds no 26B/31B remainder (26B q4_k is 14.7).
TEST(FitPlan, Gpu8GiBRam8GiB) {
    const FitPlan p = best(8, 8);
    expect_plan(p, "e4b", DType::Q8_0, PlanDevice::Gpu, 32768);
    EXPECT_EQ(p.gpu_layers, 42);
}

// 12 GiB GPU (10.8 usable), 8 GiB RAM: E4B bf16: 9.57 on the GPU + KV 8K 0.33 + 0.33 + 0.49 = 10.7;
// at 32K (+0.75) not; the PLE table 5.25 + 0.25 fits the 6.5 GiB of RAM.
TEST(FitPlan, Gpu12GiBRam8GiB) { expect_plan(best(8, 12), "e4b", DType::BF16, PlanDevice::Gpu, 8192); }

// 48 GiB GPU (43.2 usable), 8 GiB RAM: 31B bf16 (58.3) does not fit even split (its remainder exceeds
// 6.5 GiB of RAM); 31B q8_0 31.13 + KV 32K 8.27 + 0.49 + 0.49 = 40.4 fits wholly on the GPU.
TEST(FitPlan, Gpu48GiB) { expect_plan(best(8, 48), "31b", DType::Q8_0, PlanDevice::Gpu, 32768); }

// 80 GiB GPU (72 usable): 31B bf16 58.3 + KV 32K 8.27 + 0.98 = 67.5 fits; 128K adds 20 GiB of KV.
TEST(FitPlan, Gpu80GiB) { expect_plan(best(8, 80), "31b", DType::BF16, PlanDevice::Gpu, 32768); }

// 24 GiB GPU (21.6 usable): 31B q4_k 16.69 + 0.98 leaves 3.9 GiB: the f32 KV at 4K (2.97) fits, at 8K
// (4.52) not, so with 8 GiB of RAM the planner splits at 32K (53 of 60 layers on the GPU, the rest and
// their KV in RAM). With the planned f16 cache at 8K (2.26) the whole model fits the GPU; 16 GiB of
// GPU (14.4 usable) is too small for 16.69 of weights even then.
TEST(FitPlan, Gpu24GiBSplitsOr31bFitsWithF16Cache) {
    const FitPlan split = best(8, 24);
    expect_plan(split, "31b", DType::Q4_K, PlanDevice::Split, 32768);
    EXPECT_GT(split.gpu_layers, 45);
    EXPECT_LT(split.gpu_layers, 60);
    PlanRequest f16;
    f16.cache = KvCacheType::F16;
    f16.context = 8192;
    const FitPlan p = best(8, 24, f16);
    expect_plan(p, "31b", DType::Q4_K, PlanDevice::Gpu, 8192);
    EXPECT_NE(p.why.find("planned"), std::string::npos) << p.why;
    const FitPlan small = best(8, 16, f16);
    EXPECT_NE(small.device, PlanDevice::Gpu) << small.why;
}

// 4 GiB GPU (3.6 usable), 8 GiB RAM: a split of E4B q8_0 (whole, it is 7.9 GiB): leading layers on
// the GPU, the rest, the embedding and the PLE table in RAM; 8K context (32K does not fit the RAM).
TEST(FitPlan, Gpu4GiBSplits) {
    const FitPlan p = best(8, 4);
    expect_plan(p, "e4b", DType::Q8_0, PlanDevice::Split, 8192);
    EXPECT_GT(p.gpu_layers, 0);
    EXPECT_LT(p.gpu_layers, 42);
    // gpu_layers is the most that fit: one more layer would pass the GPU budget.
    EXPECT_LE(p.memory.gpu_total(), p.gpu_budget);
}

// 16 GiB GPU (14.4 usable), 16 GiB RAM: 31B q4_k split (16.69 of weights cannot all go on the GPU);
// quality comes before speed, so it beats E4B bf16 on the GPU.
TEST(FitPlan, Gpu16GiBQualityBeforeSpeed) {
    const FitPlan p = best(16, 16);
    expect_plan(p, "31b", DType::Q4_K, PlanDevice::Split, 32768);
}

// The requested context is planned for (capped at the model's maximum) and nothing that cannot
// hold it is offered.
TEST(FitPlan, RequestedContext) {
    PlanRequest r;
    r.context = 131072;
    // 8 GiB RAM, no GPU: E4B q4_k at 128K needs 4.21 + 4.08 + 0.58 = 8.9 > 6.5; E2B q4_k (2.73 + KV
    // 128K: 3 global layers × 1·512 × 8 B = 12 KiB/token -> 1.5 GiB) fits.
    expect_plan(best(8, 0, r), "e2b", DType::Q4_K, PlanDevice::Cpu, 131072);
    r.context = 1 << 30;
    const FitPlan capped = best(64, 80, r);
    EXPECT_EQ(capped.context, preset_config(Variant::B31, ModelSize::Full).text.max_position_embeddings);
}

// Nothing fits a 2 GiB machine: every plan says why in numbers.
TEST(FitPlan, NothingFits) {
    const std::vector<FitPlan> plans = plan_fit(recommended_candidates(), machine(2, 0), {});
    ASSERT_EQ(plans.size(), 12u);
    for (const FitPlan& p : plans) {
        EXPECT_FALSE(p.fits);
        EXPECT_NE(p.why.find("does not fit"), std::string::npos) << p.why;
    }
}

// bf16 on disk that does not fit is planned as q8_0 (or q4_k) made at load time.
TEST(FitPlan, LoadTimeQuantization) {
    PlanCandidate c;
    c.name = "/models/gemma-4-e4b-it";
    c.paths = {c.name};
    c.config = preset_config(Variant::E4B, ModelSize::Full);
    c.weights = weight_layout_for(c.config, DType::BF16);
    c.weight_type = DType::BF16;
    c.on_disk = true;
    // 8 GiB GPU, 8 GiB RAM: bf16 (14.8) fits neither; q8_0 made from it fits the GPU. Its towers stay
    // bf16 (0.92 GiB, not q8_0's 0.52), so 32K (7.0 + 0.4 = 7.4 GiB) passes the 7.2 usable: 8K (6.7) it is.
    const std::vector<FitPlan> plans = plan_fit({c}, machine(8, 8), {});
    ASSERT_EQ(plans.size(), 3u);
    const FitPlan& p = plans.front();
    expect_plan(p, "e4b", DType::Q8_0, PlanDevice::Gpu, 8192);
    EXPECT_TRUE(p.load_time_quantization);
    EXPECT_EQ(p.stored_type, DType::BF16);
    EXPECT_NE(p.why.find("at load time"), std::string::npos) << p.why;
    // With room for bf16, no load-time plans are made.
    EXPECT_EQ(plan_fit({c}, machine(64, 80), {}).size(), 1u);
}

// Models on disk: a tiny model fits anything; its plan names its path and the JSON carries the table.
TEST(FitPlan, ModelOnDiskAndJson) {
    const std::string path = test::tiny_model(Variant::E2B, true, 1, DType::Q8_0);
    const ModelFiles files = ModelFiles::open({path});
    const std::vector<FitPlan> plans = plan_fit({candidate_from_files(files, {path})}, machine(8, 0), {});
    ASSERT_EQ(plans.size(), 1u);
    EXPECT_TRUE(plans[0].fits);
    EXPECT_EQ(plans[0].stored_type, DType::Q8_0);
    EXPECT_EQ(plans[0].context, 4096);  // the tiny preset's maximum
    const nlohmann::json j = plan_to_json(plans[0]);
    EXPECT_EQ(j["paths"][0], path);
    EXPECT_EQ(j["device"], "cpu");
    EXPECT_EQ(j["gpu_layers"], 0);
    EXPECT_FALSE(j["memory"].empty());
    EXPECT_TRUE(j["kv_cache_bytes"].contains("f16_planned"));
}

TEST(FitPlan, QualityRanks) {
    EXPECT_GT(variant_quality("31b"), variant_quality("26b-a4b"));
    EXPECT_GT(variant_quality("26b-a4b"), variant_quality("e4b"));
    EXPECT_GT(variant_quality("e4b"), variant_quality("e2b"));
    EXPECT_EQ(precision_quality(DType::BF16), precision_quality(DType::F16));
    EXPECT_GT(precision_quality(DType::BF16), precision_quality(DType::Q8_0));
    EXPECT_GT(precision_quality(DType::Q8_0), precision_quality(DType::Q4_K));
}

}  // namespace
}  // namespace gd
