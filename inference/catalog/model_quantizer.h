#pragma once
// Load-time quantization, saved as a file: a Gemma 4 GGUF text model's matrices re-encoded as q8_0,
// q4_k, ... on several threads with progress, written with the GGUF writer. The type of each tensor
// is gguf_storage_type's (format/storage_type.h), the rule make-test-model uses, so quantizing an
// f32 model gives byte-for-byte the tensors make-test-model writes in that type.
//
// What is kept as stored: 1-D tensors (norms, scalars), the tables llama.cpp keeps in f32, tensors
// already in a block-quantized type (re-quantizing compounds the error), and tensors whose rows are
// not whole blocks of any fallback type. The mmproj (vision/audio towers) file beside a GGUF input
// is copied unchanged next to the output as mmproj-<output name>, so the output opens with its towers.
//
// Hugging Face folders are not accepted yet: their tokenizer and tower layouts need a converter
// (llama.cpp's convert_hf_to_gguf.py makes a GGUF from them, which this then quantizes).
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "format/dtype.h"

namespace gd {

struct QuantizeOptions {
    std::string input;             // a GGUF text model (its first part when split by gguf-split: not supported yet)
    std::string output;            // *.gguf
    DType type = DType::Q8_0;      // what matrices become
    unsigned threads = 0;          // 0 = all cores
    bool copy_mmproj = true;       // copy the input's mmproj file next to the output
    // fraction in [0, 1] and a short stage; return false to cancel (throws gd::Cancelled).
    std::function<bool(double, const std::string&)> progress;
};

struct QuantizeResult {
    std::vector<std::string> files;  // written: the text model, then the mmproj copy if any
    uint64_t input_bytes = 0;        // tensor bytes in, out
    uint64_t output_bytes = 0;
    uint64_t quantized_tensors = 0;
    uint64_t kept_tensors = 0;
    std::vector<std::string> notes;  // plain words: what was kept and why, the mmproj
};

// Types `quantize` can produce (the GGUF types quantize_row encodes).
bool can_quantize_to(DType t);
// llama.cpp's general.file_type for a file mostly of `t` (the _S variant for k-quants).
uint32_t gguf_file_type(DType t);

QuantizeResult quantize_model(const QuantizeOptions& o);

}  // namespace gd
