#pragma once
// Shared helpers of the decoder tests: tiny test models made on demand (once per variant, format and
// type per test process), a loaded decoder, the transformers reference tensors, and error measures.
#include <gtest/gtest.h>

#include <map>
#include <memory>
#include <string>
#include <vector>
#include <nlohmann/json.hpp>
#include "backend/backend.h"
#include "format/dtype.h"
#include "model/model_files.h"
#include "model/model_config.h"
#include "support/test_support.h"
#include "text/decoder.h"

namespace gd::test {

// A tiny model of `variant` with seed 1 (the seed the references use): a safetensors folder when
// `gguf` is false, else a GGUF file with matrices stored as `type`.
std::string tiny_model_path(Variant variant, bool gguf, DType type = DType::F32);

struct LoadedDecoder {
    ModelFiles files;
    std::unique_ptr<Backend> backend;
    std::unique_ptr<Backend> rest;  // a split model's second backend (the CPU)
    std::unique_ptr<TextDecoder> decoder;
};
std::unique_ptr<LoadedDecoder> load_decoder(const std::string& path, int threads = 2);
// Layers [0, first_layers) on `first`, the rest on a CPU backend of `threads` threads.
std::unique_ptr<LoadedDecoder> load_split_decoder(const std::string& path, std::unique_ptr<Backend> first,
                                                  int64_t first_layers, int threads = 2);
// The same on a given backend (the CUDA tests).
std::unique_ptr<LoadedDecoder> load_decoder_on(const std::string& path, std::unique_ptr<Backend> backend);

// decoder_cases.json and one case's reference tensors (name -> row-major floats).
const nlohmann::json& reference_cases();
std::map<std::string, std::vector<float>> reference_tensors(const std::string& file);
Variant variant_of_case(const nlohmann::json& c);
// Every reference tensor of case `c` against `got` (as run_all returns), each within 3x the reference's
// own f32 error (floor 1e-6; see test_decoder_reference.cpp); `label` goes into failure messages.
// Returns how many tensors were compared.
int expect_matches_reference(const nlohmann::json& c, const std::map<std::string, std::vector<float>>& got,
                             const std::string& label);
// "e2b_short", "26b_a4b_long": a reference case's name for parameterised tests.
std::string reference_case_name(const ::testing::TestParamInfo<int>& p);

// Runs ids through a fresh cache in one chunk; returns every named tensor (host copies) and the
// logits of every position under "logits".
std::map<std::string, std::vector<float>> run_all(TextDecoder& d, const std::vector<int32_t>& ids,
                                                   int64_t context = 256, int64_t max_chunk = 256);

}  // namespace gd::test
