#pragma once
// Shared helpers for the tests: where test data lives and scratch directories.
#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "format/dtype.h"
#include "model/model_config.h"
#include "model/model_files.h"

namespace gd::test {

std::string data_dir();             // tests/data in the source tree
std::string shared_fixtures_dir();  // ../shared/fixtures next to the repository (may be absent)
std::string cli_path();             // the gemmadesk-cli binary under test
// A fresh, empty directory for one test (under $GD_TMP, which ctest points into the build tree).
// It is left in place after the test for inspection.
std::string scratch_dir(const std::string& test_name);

std::vector<uint8_t> read_file(const std::string& path);
void write_file(const std::string& path, const std::vector<uint8_t>& bytes);

// A JSON file under tests/data (e.g. "reference/decoder_cases.json"), parsed once per process.
const nlohmann::json& data_json(const std::string& relative_path);
// Every tensor of a safetensors file under tests/data, decoded to f32 (name -> row-major floats).
std::map<std::string, std::vector<float>> data_tensors(const std::string& relative_path);

// A tiny test model of `variant` made once per process and (format, seed, type): a safetensors
// folder, or a GGUF file with its mmproj beside it. The references use seed 1.
std::string tiny_model(Variant variant, bool gguf, uint64_t seed = 1, DType type = DType::F32);

// max |a - b| / max |b|: the error relative to the reference tensor's scale (INFINITY on a size mismatch).
double relative_error(const std::vector<float>& a, const std::vector<float>& b);

// A copy of a safetensors test model whose model.safetensors is rewritten tensor by tensor, in a
// scratch directory named `name`: `edit(name, type, bytes, n)` returns false to leave the tensor out,
// and may change the bytes it is given.
using TensorEdit = std::function<bool(const std::string& name, DType type, uint8_t* bytes, uint64_t n)>;
std::string rewritten_model(const std::string& src, const std::string& name, const TensorEdit& edit);

// The tiny E2B safetensors model (seed 1) without the tensor `hf_name`, or with its float `index` set
// to NaN: for the loaders' error tests.
std::string model_without_tensor(const std::string& hf_name, const std::string& scratch_name);
std::string model_with_nan(const std::string& hf_name, size_t index, const std::string& scratch_name);
// Opens `path` (looking for an mmproj beside a GGUF only when `find_mmproj`) and runs `place` (a
// tower's constructor, say), expecting a ModelError whose message contains `text`.
void expect_model_error(const std::string& path, const std::function<void(const ModelFiles&)>& place,
                        const std::string& text, bool find_mmproj = true);

// Runs a command through /bin/sh, capturing stdout+stderr; returns the exit status.
int run_command(const std::string& command, std::string* output);

}  // namespace gd::test
