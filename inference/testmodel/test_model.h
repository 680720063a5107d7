#pragma once
// make-test-model: writes a random model with the exact Gemma 4 structure of a variant, with its
// tokenizer, as a GGUF text file plus mmproj file or as a Hugging Face safetensors folder. Tiny
// models are byte-for-byte deterministic; full-size ones have the real shapes for benchmarks and are
// streamed to disk on several threads.
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "format/dtype.h"
#include "format/storage_type.h"
#include "model/model_config.h"
#include "model/variants.h"

namespace gd {

enum class TestModelFormat { Gguf, Safetensors };

struct TestModelOptions {
    Variant variant = Variant::E2B;
    ModelSize size = ModelSize::Tiny;
    TestModelFormat format = TestModelFormat::Gguf;
    DType dtype = DType::F32;          // matrices; GGUF keeps norms, scalars and position tables in f32
    uint64_t seed = 0;
    std::string out;                   // GGUF: the text model file (*.gguf); safetensors: the folder
    unsigned threads = 0;              // 0 = all cores
    // Benchmarks only: in each ~8 MiB piece of a tensor, the first kRepeatPoolRows rows get their
    // random values and the others repeat those rows (chosen by a hash of the row index), so a 31B
    // model is written at disk speed instead of quantizing 31 billion values. The bytes stay valid
    // values of the stored type with the same distribution; nothing compares them with a reference.
    bool repeat_rows = false;
    uint64_t shard_bytes = 0;          // safetensors: split into shards of about this size (0 = 4 GiB for full, one file for tiny)
    std::function<void(const std::string&)> progress;  // optional: one line per file written
};

inline constexpr uint64_t kRepeatPoolRows = 32;

struct TestModelResult {
    std::vector<std::string> files;    // everything written
    uint64_t bytes = 0;
};

TestModelResult write_test_model(const TestModelOptions& o);

// gguf_storage_type (format/storage_type.h) decides the type of each tensor.

}  // namespace gd
