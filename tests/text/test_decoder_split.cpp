// A model split over two backends (the first layers on one, the rest on another, as the engine does
// with a GPU too small for the whole model): here two CPU backends, so the split's own logic — the
// weights and KV cache of each layer on its backend, the activations and per-layer inputs moved at
// the boundary and back for the head — must give exactly the single-backend results, bit for bit.
#include <gtest/gtest.h>

#include "common/error.h"
#include "text/decoder_support.h"

namespace gd::test {
namespace {

// The largest split point below the layer count that keeps every KV-sharing layer with its donor.
int64_t middle_split(const TextConfig& c) {
    for (int64_t n = c.num_layers / 2; n > 0; --n)
        if (TextDecoder::valid_split(c, n)) return n;
    return 0;
}

TEST(DecoderSplit, KvSharingLayersStayWithTheirDonors) {
    for (Variant v : {Variant::E2B, Variant::E4B, Variant::A26B, Variant::B31}) {
        const ModelFiles files = ModelFiles::open({tiny_model_path(v, false)});
        const TextConfig& c = files.config().text;
        EXPECT_TRUE(TextDecoder::valid_split(c, 0)) << variant_name(v);
        EXPECT_TRUE(TextDecoder::valid_split(c, c.num_layers)) << variant_name(v);
        for (int64_t n = 0; n <= c.num_layers; ++n) {
            bool crosses = false;
            for (int64_t i = 0; i < c.num_layers; ++i) crosses |= (i < n) != (c.kv_source_layer(i) < n);
            EXPECT_EQ(TextDecoder::valid_split(c, n), !crosses) << variant_name(v) << " split at " << n;
        }
        if (c.first_kv_shared_layer() < c.num_layers) {  // E2B/E4B: a split inside the shared layers
            auto cpu = make_cpu_backend(1);
            EXPECT_THROW(load_split_decoder(tiny_model_path(v, false), std::move(cpu), c.num_layers - 1), Error)
                << variant_name(v);
        }
    }
}

class DecoderSplit : public ::testing::TestWithParam<int> {};

TEST_P(DecoderSplit, TwoBackendsComputeWhatOneDoes) {
    const nlohmann::json& c = reference_cases().at("cases").at(GetParam());
    const std::string path = tiny_model_path(variant_of_case(c), false);
    auto whole = load_decoder(path);
    const int64_t n = middle_split(whole->decoder->config());
    auto split = load_split_decoder(path, make_cpu_backend(2), n);
    EXPECT_EQ(split->decoder->gpu_layers(), n);
    const auto ids = c.at("input_ids").get<std::vector<int32_t>>();
    // Chunks of 16: the boundary is crossed in every chunk, the KV caches carry across chunks.
    const auto want = run_all(*whole->decoder, ids, 64, 16), got = run_all(*split->decoder, ids, 64, 16);
    ASSERT_EQ(want.size(), got.size());
    for (const auto& [name, v] : want) EXPECT_EQ(got.at(name), v) << name << " (split at " << n << ")";
}

INSTANTIATE_TEST_SUITE_P(Cases, DecoderSplit, ::testing::Range(0, 8), reference_case_name);

}  // namespace
}  // namespace gd::test
