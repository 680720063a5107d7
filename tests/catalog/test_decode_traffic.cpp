// Bytes one decode token reads (catalog/decode_traffic.h), on tiny models of every variant in both
// file formats, against the memory model's weight layout and the config's expert shapes.
#include <gtest/gtest.h>

#include <string>

#include "catalog/decode_traffic.h"
#include "catalog/memory_model.h"
#include "model/model_files.h"
#include "model/variants.h"
#include "support/test_support.h"

namespace gd {
namespace {

// The expert matrices of all MoE layers in f32, from the config alone: per layer a gate/up block
// [E, 2 * I, H] and a down block [E, H, I] (spec §2.7).
uint64_t f32_expert_bytes(const TextConfig& c) {
    if (!c.enable_moe_block) return 0;
    const uint64_t per_layer = static_cast<uint64_t>(c.num_experts) * 3u * static_cast<uint64_t>(c.moe_intermediate_size) *
                               static_cast<uint64_t>(c.hidden_size) * 4u;
    return per_layer * static_cast<uint64_t>(c.num_layers);
}

TEST(DecodeTraffic, EveryTextWeightOnceButThePleTableTowersAndIdleExperts) {
    for (Variant v : {Variant::E2B, Variant::E4B, Variant::A26B, Variant::B31}) {
        for (const bool gguf : {false, true}) {
            SCOPED_TRACE(std::string(variant_name(v)) + (gguf ? " gguf" : " safetensors"));
            const ModelFiles files = ModelFiles::open({test::tiny_model(v, gguf)});
            const TextConfig& c = files.config().text;
            const WeightLayout layout = weight_layout(files);
            const DecodeTraffic d = decode_traffic(files);
            const uint64_t experts = f32_expert_bytes(c);
            // The layout's device-side text weights hold every expert; a token reads top_k of them.
            // The towers (in the HF folder, in the GGUF's mmproj) and the PLE table are outside it.
            ASSERT_GT(layout.vision, 0u);
            if (v == Variant::E2B || v == Variant::E4B) {
                ASSERT_GT(layout.ple_table, 0u);
            }
            EXPECT_EQ(d.dense_bytes + experts, layout.text_device());
            EXPECT_EQ(d.expert_bytes, c.enable_moe_block ? experts / static_cast<uint64_t>(c.num_experts) *
                                                               static_cast<uint64_t>(c.top_k_experts)
                                                         : 0u);
            EXPECT_EQ(d.weight_bytes, d.dense_bytes + d.expert_bytes);
        }
        // Both formats agree but for the GGUF's rope frequency table (head_dim / 2 floats).
        const DecodeTraffic hf = decode_traffic(ModelFiles::open({test::tiny_model(v, false)}));
        const DecodeTraffic gguf = decode_traffic(ModelFiles::open({test::tiny_model(v, true)}));
        EXPECT_LE(gguf.weight_bytes - hf.weight_bytes, 1024u);
        EXPECT_EQ(gguf.expert_bytes, hf.expert_bytes);
    }
}

TEST(DecodeTraffic, QuantizedFilesCountTheirStoredBytes) {
    const ModelFiles f32 = ModelFiles::open({test::tiny_model(Variant::A26B, true)});
    const ModelFiles q8 = ModelFiles::open({test::tiny_model(Variant::A26B, true, 1, DType::Q8_0)});
    const DecodeTraffic a = decode_traffic(f32), b = decode_traffic(q8);
    const TextConfig& c = q8.config().text;
    // The routed share scaled back to all experts gives the layout's stored bytes again.
    EXPECT_EQ(b.dense_bytes + b.expert_bytes / static_cast<uint64_t>(c.top_k_experts) * static_cast<uint64_t>(c.num_experts),
              weight_layout(q8).text_device());
    EXPECT_LT(b.weight_bytes, a.weight_bytes / 3);
}

}  // namespace
}  // namespace gd
