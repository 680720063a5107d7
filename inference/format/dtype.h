#pragma once
// Element types of stored tensors: the plain types of safetensors and the block-quantized types of
// GGUF. One table (dtype.cpp) holds every fact about each type: name, block size, bytes per block,
// GGUF type id and whether we can dequantize it.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace gd {

enum class DType : uint8_t {
    F32, F16, BF16, F64,
    I8, I16, I32, I64, U8, U16, U32, U64, BOOL,
    // GGUF block types we read (reference dequantization in format/quant/)
    Q4_0, Q4_1, Q5_0, Q5_1, Q8_0, Q8_1,
    Q2_K, Q3_K, Q4_K, Q5_K, Q6_K, Q8_K,
    IQ4_NL, IQ4_XS,
    // GGUF block types we recognise (sizes known, so files holding them parse) but cannot compute with
    IQ2_XXS, IQ2_XS, IQ3_XXS, IQ1_S, IQ3_S, IQ2_S, IQ1_M, TQ1_0, TQ2_0, MXFP4,
    COUNT
};

struct DTypeInfo {
    DType type;
    const char* name;          // lower-case name used in CLI flags and reports: "f32", "q4_k", ...
    uint32_t block_elems;      // elements per block (1 for plain types)
    uint32_t block_bytes;      // bytes per block
    int ggml_id;               // GGUF tensor type id, or -1 when GGUF has none
    const char* safetensors;   // safetensors dtype string, or nullptr
    bool dequantizable;        // has a reference dequantization to f32
    bool is_float;             // plain or quantized floating point data (not integer/bool)
};

const DTypeInfo& dtype_info(DType t);
inline const char* dtype_name(DType t) { return dtype_info(t).name; }

std::optional<DType> dtype_from_ggml_id(uint32_t id);
std::optional<DType> dtype_from_safetensors(std::string_view s);
std::optional<DType> dtype_from_name(std::string_view lower_case_name);  // "q4_k", "bf16", ...

// Bytes of `n_elems` elements stored as `t`. Throws FormatError when n_elems is not a multiple of
// the block size or the product overflows.
uint64_t dtype_bytes(DType t, uint64_t n_elems);

}  // namespace gd
