// The CPU decoder against transformers (tools/reference/dump_decoder_reference.py): every named
// intermediate tensor of every tiny variant and prompt, from the safetensors folder and from the
// same model written as an f32 GGUF.
//
// Tolerances: both sides compute in f32 with different summation orders. The reference script also
// runs every case in float64 and records the f32 reference's own error per tensor (`f32_error`,
// relative to max|x|); this engine's error against float64 was measured below the reference's
// (e.g. 31b long, layer 10: 3.4e-5 vs 8.8e-5). Two f32 results each within e of the exact one differ
// by up to 2e; the bound is 3e (one tensor's error is a sample, not a maximum), with a floor of 1e-6
// for tensors the reference computes exactly (the embedding lookup).
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>

#include "text/decoder_support.h"

namespace gd::test {
namespace {

void compare_case(const nlohmann::json& c, bool gguf) {
    auto model = load_decoder(tiny_model_path(variant_of_case(c), gguf));
    const auto got = run_all(*model->decoder, c.at("input_ids").get<std::vector<int32_t>>());
    EXPECT_GE(expect_matches_reference(c, got, gguf ? "(gguf)" : "(safetensors)"), 10);
}

class DecoderReference : public ::testing::TestWithParam<int> {};

TEST_P(DecoderReference, SafetensorsMatchesTransformers) { compare_case(reference_cases().at("cases").at(GetParam()), false); }
TEST_P(DecoderReference, GgufF32MatchesTransformers) { compare_case(reference_cases().at("cases").at(GetParam()), true); }

INSTANTIATE_TEST_SUITE_P(Cases, DecoderReference, ::testing::Range(0, 8), reference_case_name);

}  // namespace
}  // namespace gd::test
