// The memory model against the spec's §7 tables (KV cache, weight memory), against what the engine
// allocates (KvCache, BackendStats) and against the measured memory of a tiny model run on the CPU.
#include <gtest/gtest.h>

#include <cstdio>

#include "backend/backend.h"
#include "catalog/memory_model.h"
#include "engine/engine.h"
#include "model/model_files.h"
#include "model/tensor_names.h"
#include "model/variants.h"
#include "support/test_support.h"
#include "text/kv_cache.h"

namespace gd {
namespace {

constexpr uint64_t KiB = 1024, MiB = 1024 * KiB;

TextConfig full_text(Variant v) { return preset_config(v, ModelSize::Full).text; }

// Spec §7.3's table is for a 16-bit cache with sliding layers holding exactly the window: our f16
// figure with one-token chunks (ring = W + 1 - 1) must be the table's, to the byte.
TEST(MemoryModel, KvCacheMatchesSpecTable) {
    struct Row {
        Variant v;
        uint64_t per_token_global, sliding_window_bytes;
    };
    // E2B: 3 F layers × 1·512 × 2 (K, V) × 2 B = 6 KiB/token; 12 S × 1·256 × 2 × 2 B × 512 = 6 MiB.
    // E4B: 4 × 2·512 ×4 B = 16 KiB; 20 × 2·256 × 4 B × 512 = 20 MiB.
    // 26B: 5 × 2·512 × 4 B = 20 KiB; 25 × 8·256 × 4 B × 1024 = 200 MiB.
    // 31B: 10 × 4·512 × 4 B = 80 KiB; 50 × 16·256 × 4 B × 1024 = 800 MiB.
    const Row rows[] = {{Variant::E2B, 6 * KiB, 6 * MiB},
                        {Variant::E4B, 16 * KiB, 20 * MiB},
                        {Variant::A26B, 20 * KiB, 200 * MiB},
                        {Variant::B31, 80 * KiB, 800 * MiB}};
    for (const Row& r : rows) {
        const TextConfig c = full_text(r.v);
        SCOPED_TRACE(variant_name(r.v));
        EXPECT_EQ(kv_bytes(c, 32768, 1, KvCacheType::F16), r.per_token_global * 32768 + r.sliding_window_bytes);
        const int64_t max = c.max_position_embeddings;
        EXPECT_EQ(kv_bytes(c, max, 1, KvCacheType::F16), r.per_token_global * static_cast<uint64_t>(max) + r.sliding_window_bytes);
    }
    // The table's totals: E2B 198 MiB @ 32K, E4B 532 MiB @ 32K and 2.02 GiB @ 128K, 26B 840 MiB @ 32K
    // and 5.2 GiB @ 256K, 31B 3.3 GiB @ 32K and 20.8 GiB @ 256K.
    EXPECT_EQ(kv_bytes(full_text(Variant::E2B), 32768, 1, KvCacheType::F16), 198 * MiB);
    EXPECT_EQ(kv_bytes(full_text(Variant::E4B), 32768, 1, KvCacheType::F16), 532 * MiB);
    EXPECT_NEAR(kv_bytes(full_text(Variant::E4B), 131072, 1, KvCacheType::F16) / double(1 << 30), 2.02, 0.005);
    EXPECT_EQ(kv_bytes(full_text(Variant::A26B), 32768, 1, KvCacheType::F16), 840 * MiB);
    EXPECT_NEAR(kv_bytes(full_text(Variant::A26B), 262144, 1, KvCacheType::F16) / double(1 << 30), 5.2, 0.05);
    EXPECT_NEAR(kv_bytes(full_text(Variant::B31), 32768, 1, KvCacheType::F16) / double(1 << 30), 3.3, 0.05);
    EXPECT_NEAR(kv_bytes(full_text(Variant::B31), 262144, 1, KvCacheType::F16) / double(1 << 30), 20.8, 0.05);
    // f32 is twice f16; q8_0 keeps 34 bytes per 32 values.
    const TextConfig e4b = full_text(Variant::E4B);
    EXPECT_EQ(kv_bytes(e4b, 8192, 512, KvCacheType::F32), 2 * kv_bytes(e4b, 8192, 512, KvCacheType::F16));
    EXPECT_EQ(kv_bytes(e4b, 8192, 512, KvCacheType::Q8_0), kv_bytes(e4b, 8192, 512, KvCacheType::F16) * 17 / 32);
}

// The f32 figure is what text/kv_cache.cpp allocates, to the byte, for every variant and for a
// split of the layers.
TEST(MemoryModel, KvCacheIsWhatTheEngineAllocates) {
    auto backend = make_cpu_backend(1);
    for (Variant v : published_variants()) {
        const TextConfig c = preset_config(v, ModelSize::Tiny).text;
        for (int64_t context : {8, 40, 1000}) {
            for (int64_t chunk : {1, 7, 512}) {
                const KvCache cache(*backend, c, context, chunk);
                EXPECT_EQ(kv_bytes(c, context, chunk, KvCacheType::F32), cache.bytes()) << variant_name(v) << " " << context << " " << chunk;
            }
        }
        EXPECT_EQ(kv_bytes(c, 1000, 64, KvCacheType::F32, 0, 5) + kv_bytes(c, 1000, 64, KvCacheType::F32, 5, -1),
                  kv_bytes(c, 1000, 64, KvCacheType::F32));
    }
}

// Spec §7.1/§7.2: bytes ≈ params × bits/8 — E2B bf16 ≈ 10.2 GB (4.7 GB of it the PLE table), E4B bf16
// ≈ 15.9 GB (5.6 GB PLE), 26B bf16 ≈ 51.6 GB, 31B bf16 ≈ 62.6 GB, 31B at 8.5 bpw (q8_0) ≈ 33 GB, at
// ~4.5 bpw (q4_k) ≈ 17.6 GB. Our q4_k keeps rows that are not whole 256-blocks in q5_0 (the vision
// tower of 26B/31B, hidden 1152; the MoE down projections, 704 wide), as llama.cpp does.
TEST(MemoryModel, WeightMemoryMatchesSpec) {
    auto gb = [](Variant v, DType t) { return weight_layout_for(preset_config(v, ModelSize::Full), t).total() / 1e9; };
    EXPECT_NEAR(gb(Variant::E2B, DType::BF16), 10.2, 0.1);
    EXPECT_NEAR(weight_layout_for(preset_config(Variant::E2B, ModelSize::Full), DType::BF16).ple_table / 1e9, 4.7, 0.05);
    EXPECT_NEAR(gb(Variant::E4B, DType::BF16), 15.9, 0.1);
    EXPECT_NEAR(weight_layout_for(preset_config(Variant::E4B, ModelSize::Full), DType::BF16).ple_table / 1e9, 5.6, 0.05);
    EXPECT_NEAR(gb(Variant::A26B, DType::BF16), 51.6, 0.2);
    EXPECT_NEAR(gb(Variant::B31, DType::BF16), 62.6, 0.2);
    EXPECT_NEAR(gb(Variant::B31, DType::Q8_0), 33.0, 0.5);
    EXPECT_NEAR(gb(Variant::B31, DType::Q4_K), 17.6, 0.4);
    EXPECT_NEAR(gb(Variant::A26B, DType::Q4_K), 14.5, 1.4);  // 15.8: the 704-wide experts' down projections are q5_0
    // bf16 is two bytes per parameter of count_params (plus the f32 1-D tensors and buffers).
    for (Variant v : published_variants()) {
        const ModelConfig c = preset_config(v, ModelSize::Full);
        const double params = static_cast<double>(count_params(c).total());
        EXPECT_NEAR(weight_layout_for(c, DType::BF16).total() / (2 * params), 1.0, 0.005) << variant_name(v);
    }
}

// What a written file holds is what weight_layout_for predicts for that type, part by part.
TEST(MemoryModel, LayoutOfFilesMatchesPrediction) {
    for (DType t : {DType::F32, DType::Q8_0, DType::Q4_K}) {
        const std::string path = test::tiny_model(Variant::E4B, true, 1, t);
        const ModelFiles files = ModelFiles::open({path});
        const WeightLayout got = weight_layout(files), want = weight_layout_for(files.config(), t);
        EXPECT_EQ(got.layer_bytes, want.layer_bytes) << dtype_name(t);
        EXPECT_EQ(got.text_global, want.text_global) << dtype_name(t);
        EXPECT_EQ(got.ple_table, want.ple_table) << dtype_name(t);
        EXPECT_EQ(got.vision, want.vision) << dtype_name(t);
        EXPECT_EQ(got.audio, want.audio) << dtype_name(t);
    }
}

// The parts add up and go where the request puts them.
TEST(MemoryModel, PartsFollowThePlacement) {
    const ModelConfig c = preset_config(Variant::E4B, ModelSize::Full);
    const WeightLayout w = weight_layout_for(c, DType::Q4_K);
    MemoryRequest r;
    r.context = 32768;
    const MemoryEstimate cpu = estimate_memory_parts(c, w, r);
    EXPECT_EQ(cpu.gpu_total(), 0u);
    EXPECT_GE(cpu.host_total(), w.total() + kv_bytes(c.text, 32768, 512, KvCacheType::F32));
    r.gpu = true;
    r.gpu_layers = c.text.num_layers;
    const MemoryEstimate gpu = estimate_memory_parts(c, w, r);
    // Only the PLE table (and the runtime) stay in host memory with a full offload.
    EXPECT_EQ(gpu.host_total(), w.ple_table + kRuntimeHostBytes);
    EXPECT_GE(gpu.gpu_total(), w.total() - w.ple_table + kCudaContextBytes);
    r.gpu_layers = 10;
    const MemoryEstimate split = estimate_memory_parts(c, w, r);
    // A split keeps the embedding and head with the first layers on the GPU (as engine.cpp places it).
    EXPECT_EQ(split.parts[0].gpu, w.layers_bytes(0, 10) + w.text_global);
    EXPECT_EQ(split.parts[0].host, w.layers_bytes(10, c.text.num_layers));
    r.cache = KvCacheType::F16;
    const MemoryEstimate planned = estimate_memory_parts(c, w, r);
    bool flagged = false;
    for (const MemoryPart& p : planned.parts)
        if (p.name == "KV cache") flagged = p.note.find("planned cache type") != std::string::npos;
    EXPECT_TRUE(flagged);
}

uint64_t rss_bytes() {
    FILE* f = std::fopen("/proc/self/statm", "r");
    if (!f) return 0;
    unsigned long long pages = 0, resident = 0;
    const int n = std::fscanf(f, "%llu %llu", &pages, &resident);
    std::fclose(f);
    return n == 2 ? resident * 4096ull : 0;
}

// A tiny model on the CPU backend: the predicted host bytes against BackendStats (exact for the KV
// cache, a bound for the activations) and against the process's resident memory growth.
TEST(MemoryModel, PredictionAgainstMeasuredCpuRun) {
    const std::string path = test::tiny_model(Variant::E2B, true, 1, DType::F32);
    const uint64_t rss0 = rss_bytes();
    LoadOptions o;
    o.paths = {path};
    o.device = LoadOptions::Device::Cpu;
    o.threads = 1;
    o.context = 256;
    o.batch = 64;
    auto model = Model::load(o);
    const ModelConfig& c = model->config();
    Session s(model);
    std::vector<int32_t> ids;
    for (int i = 0; i < 64; ++i) ids.push_back(30 + i % 200);
    (void)s.score(ids, 1);
    const BackendStats st = model->backend().stats();
    const WeightLayout w = weight_layout(model->files());
    MemoryRequest r;
    r.context = 256;
    r.chunk = prefill_chunk(c, 64);
    r.logit_rows = 64;  // scoring keeps every position's logits
    const uint64_t kv = kv_bytes(c.text, 256, r.chunk, KvCacheType::F32);
    const uint64_t act = text_activation_bytes(c.text, r.chunk) + logits_bytes(c.text, 64);
    // Weights held by the backend: every tensor as stored, the towers' too (one backend holds all),
    // less the scalars and tables the engine reads into host floats (clip bounds, rope_freqs).
    EXPECT_LE(st.weight_bytes, w.total());
    EXPECT_GE(st.weight_bytes, w.total() - w.total() / 100) << "backend weight bytes";
    // Peak buffers = the KV cache + the chunk's activations and logits. The model's figure is a bound.
    const double predicted = static_cast<double>(kv + act), measured = static_cast<double>(st.peak_buffer_bytes);
    std::printf("tiny e2b: kv %llu, predicted peak buffers %.0f, measured %.0f (%.1f%%); rss growth %.0f KiB, predicted host %.0f KiB\n",
                static_cast<unsigned long long>(kv), predicted, measured, 100.0 * (predicted - measured) / measured,
                (rss_bytes() - rss0) / 1024.0,
                (w.total() + kv + act) / 1024.0);
    EXPECT_GE(predicted, measured);
    EXPECT_LE(predicted, measured * 1.35) << "the activation model overestimates by more than 35%";
}

}  // namespace
}  // namespace gd
