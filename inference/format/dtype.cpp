#include "format/dtype.h"

#include <array>

#include "common/checked.h"
#include "common/error.h"

namespace gd {
namespace {

constexpr uint32_t QK_K = 256;

// Block sizes follow ggml's block structs (ggml-common.h); ids follow ggml_type.
constexpr std::array<DTypeInfo, static_cast<size_t>(DType::COUNT)> kTable = {{
    {DType::F32, "f32", 1, 4, 0, "F32", true, true},
    {DType::F16, "f16", 1, 2, 1, "F16", true, true},
    {DType::BF16, "bf16", 1, 2, 30, "BF16", true, true},
    {DType::F64, "f64", 1, 8, 28, "F64", true, true},
    {DType::I8, "i8", 1, 1, 24, "I8", false, false},
    {DType::I16, "i16", 1, 2, 25, "I16", false, false},
    {DType::I32, "i32", 1, 4, 26, "I32", false, false},
    {DType::I64, "i64", 1, 8, 27, "I64", false, false},
    {DType::U8, "u8", 1, 1, -1, "U8", false, false},
    {DType::U16, "u16", 1, 2, -1, "U16", false, false},
    {DType::U32, "u32", 1, 4, -1, "U32", false, false},
    {DType::U64, "u64", 1, 8, -1, "U64", false, false},
    {DType::BOOL, "bool", 1, 1, -1, "BOOL", false, false},
    {DType::Q4_0, "q4_0", 32, 2 + 16, 2, nullptr, true, true},
    {DType::Q4_1, "q4_1", 32, 2 + 2 + 16, 3, nullptr, true, true},
    {DType::Q5_0, "q5_0", 32, 2 + 4 + 16, 6, nullptr, true, true},
    {DType::Q5_1, "q5_1", 32, 2 + 2 + 4 + 16, 7, nullptr, true, true},
    {DType::Q8_0, "q8_0", 32, 2 + 32, 8, nullptr, true, true},
    {DType::Q8_1, "q8_1", 32, 4 + 32, 9, nullptr, false, true},
    {DType::Q2_K, "q2_k", QK_K, QK_K / 16 + QK_K / 4 + 2 + 2, 10, nullptr, true, true},
    {DType::Q3_K, "q3_k", QK_K, QK_K / 8 + QK_K / 4 + 12 + 2, 11, nullptr, true, true},
    {DType::Q4_K, "q4_k", QK_K, 2 + 2 + 12 + QK_K / 2, 12, nullptr, true, true},
    {DType::Q5_K, "q5_k", QK_K, 2 + 2 + 12 + QK_K / 8 + QK_K / 2, 13, nullptr, true, true},
    {DType::Q6_K, "q6_k", QK_K, QK_K / 2 + QK_K / 4 + QK_K / 16 + 2, 14, nullptr, true, true},
    {DType::Q8_K, "q8_k", QK_K, 4 + QK_K + QK_K / 16 * 2, 15, nullptr, false, true},
    {DType::IQ4_NL, "iq4_nl", 32, 2 + 16, 20, nullptr, true, true},
    {DType::IQ4_XS, "iq4_xs", QK_K, 2 + 2 + QK_K / 64 + QK_K / 2, 23, nullptr, true, true},
    {DType::IQ2_XXS, "iq2_xxs", QK_K, 2 + QK_K / 8 * 2, 16, nullptr, false, true},
    {DType::IQ2_XS, "iq2_xs", QK_K, 2 + QK_K / 8 * 2 + QK_K / 32, 17, nullptr, false, true},
    {DType::IQ3_XXS, "iq3_xxs", QK_K, 2 + 3 * QK_K / 8, 18, nullptr, false, true},
    {DType::IQ1_S, "iq1_s", QK_K, 2 + QK_K / 8 + QK_K / 16, 19, nullptr, false, true},
    {DType::IQ3_S, "iq3_s", QK_K, 2 + QK_K / 4 + QK_K / 8 + QK_K / 32 + 4, 21, nullptr, false, true},
    {DType::IQ2_S, "iq2_s", QK_K, 2 + QK_K / 4 + QK_K / 16, 22, nullptr, false, true},
    {DType::IQ1_M, "iq1_m", QK_K, QK_K / 8 + QK_K / 16 + QK_K / 32, 29, nullptr, false, true},
    {DType::TQ1_0, "tq1_0", QK_K, (QK_K - 4 * QK_K / 64) / 5 + QK_K / 64 + 2, 34, nullptr, false, true},
    {DType::TQ2_0, "tq2_0", QK_K, QK_K / 4 + 2, 35, nullptr, false, true},
    {DType::MXFP4, "mxfp4", 32, 1 + 16, 39, nullptr, false, true},
}};

constexpr bool table_in_enum_order() {
    for (size_t i = 0; i < kTable.size(); ++i)
        if (static_cast<size_t>(kTable[i].type) != i) return false;
    return true;
}
static_assert(table_in_enum_order(), "kTable must list the types in enum order");

}  // namespace

const DTypeInfo& dtype_info(DType t) { return kTable.at(static_cast<size_t>(t)); }

std::optional<DType> dtype_from_ggml_id(uint32_t id) {
    for (const auto& e : kTable)
        if (e.ggml_id >= 0 && static_cast<uint32_t>(e.ggml_id) == id) return e.type;
    return std::nullopt;
}

std::optional<DType> dtype_from_safetensors(std::string_view s) {
    for (const auto& e : kTable)
        if (e.safetensors && s == e.safetensors) return e.type;
    return std::nullopt;
}

std::optional<DType> dtype_from_name(std::string_view n) {
    for (const auto& e : kTable)
        if (n == e.name) return e.type;
    return std::nullopt;
}

uint64_t dtype_bytes(DType t, uint64_t n_elems) {
    const auto& info = dtype_info(t);
    if (n_elems % info.block_elems != 0)
        throw FormatError(std::to_string(n_elems) + " elements is not a whole number of " + info.name + " blocks of " +
                          std::to_string(info.block_elems));
    return checked_mul(n_elems / info.block_elems, info.block_bytes, "tensor byte size");
}

}  // namespace gd
