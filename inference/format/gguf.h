#pragma once
// GGUF (versions 2 and 3) reader. The file is memory-mapped; tensor data is never copied.
// Every count, offset and size read from the file is checked against the file size, with overflow
// checks, before it is used: a truncated or corrupted file is a FormatError, never a crash.
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/mapped_file.h"
#include "format/tensor_view.h"

namespace gd {

enum class GgufType : uint32_t {
    UINT8 = 0, INT8 = 1, UINT16 = 2, INT16 = 3, UINT32 = 4, INT32 = 5, FLOAT32 = 6, BOOL = 7,
    STRING = 8, ARRAY = 9, UINT64 = 10, INT64 = 11, FLOAT64 = 12,
};
const char* gguf_type_name(GgufType t);

// One metadata value. Arrays hold their element type and elements (arrays may nest).
struct GgufValue {
    GgufType type = GgufType::UINT8;
    uint64_t u = 0;          // unsigned integers and bool
    int64_t i = 0;           // signed integers
    double f = 0;            // floats
    std::string s;           // STRING
    GgufType elem_type = GgufType::UINT8;  // ARRAY
    std::vector<GgufValue> array;          // ARRAY

    bool is_integer() const;
    bool is_number() const { return is_integer() || type == GgufType::FLOAT32 || type == GgufType::FLOAT64; }
    // Numeric value converted; throws FormatError when not a number or out of range.
    int64_t as_int() const;
    uint64_t as_uint() const;
    double as_double() const;
    bool as_bool() const;
    const std::string& as_string() const;

    static GgufValue make_u32(uint32_t v);
    static GgufValue make_i32(int32_t v);
    static GgufValue make_u64(uint64_t v);
    static GgufValue make_f32(float v);
    static GgufValue make_bool(bool v);
    static GgufValue make_string(std::string v);
    static GgufValue make_array(GgufType elem, std::vector<GgufValue> items);
};

struct GgufTensorInfo {
    std::string name;
    std::vector<uint64_t> ne;   // ggml order: ne[0] is the fastest-varying dimension
    uint32_t ggml_type = 0;
    DType type = DType::F32;
    uint64_t offset = 0;        // relative to the start of the data section
    uint64_t nbytes = 0;
};

class GgufFile {
public:
    // Maps and parses `path`.
    static GgufFile open(const std::string& path);
    // Parses bytes held elsewhere (tests, fuzzers); `keepalive` keeps them mapped if given.
    static GgufFile parse(std::span<const uint8_t> bytes, std::string name,
                          std::shared_ptr<const MappedFile> keepalive = nullptr);

    const std::string& path() const { return name_; }
    uint32_t version() const { return version_; }
    uint64_t alignment() const { return alignment_; }
    uint64_t file_size() const { return bytes_.size(); }
    uint64_t data_offset() const { return data_offset_; }

    const std::vector<std::pair<std::string, GgufValue>>& metadata() const { return kv_; }
    const GgufValue* find(std::string_view key) const;
    // Typed accessors: throw FormatError naming the file and key when absent or of the wrong type.
    const GgufValue& get(std::string_view key) const;
    std::string get_string(std::string_view key) const;
    std::optional<std::string> get_string_opt(std::string_view key) const;
    std::optional<int64_t> get_int_opt(std::string_view key) const;
    std::optional<double> get_float_opt(std::string_view key) const;
    std::optional<bool> get_bool_opt(std::string_view key) const;

    const std::vector<GgufTensorInfo>& tensor_infos() const { return tensors_; }
    const GgufTensorInfo* find_tensor(std::string_view name) const;
    // The tensor with its data pointer and PyTorch-order shape.
    TensorView view(const GgufTensorInfo& t) const;
    std::vector<TensorView> views() const;

    // general.architecture, or "" when absent.
    std::string architecture() const;

private:
    std::shared_ptr<const MappedFile> keepalive_;
    std::span<const uint8_t> bytes_;
    std::string name_;
    uint32_t version_ = 0;
    uint64_t alignment_ = 32;
    uint64_t data_offset_ = 0;
    std::vector<std::pair<std::string, GgufValue>> kv_;
    std::map<std::string, size_t, std::less<>> kv_index_;
    std::vector<GgufTensorInfo> tensors_;
    std::map<std::string, size_t, std::less<>> tensor_index_;
};

}  // namespace gd
