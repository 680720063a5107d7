#include "format/gguf.h"

#include <algorithm>
#include <cstring>

#include "common/checked.h"
#include "common/error.h"

namespace gd {
namespace {

constexpr uint32_t kMaxDims = 4;             // GGML_MAX_DIMS
constexpr uint64_t kMaxNameLength = 4096;    // keys and tensor names; ggml itself uses 64 for tensors
constexpr int kMaxArrayDepth = 8;            // nested arrays deeper than this are rejected
// Real files hold about 1.3 M metadata values (a 262k vocabulary with its merges); parsed values take
// ~100 bytes each, so this bounds the memory a hostile file can make us allocate to about 3 GiB.
constexpr uint64_t kMaxMetadataValues = uint64_t(1) << 25;

// Cursor over the untrusted bytes. Every read checks the remaining length first.
class Reader {
public:
    Reader(std::span<const uint8_t> b, const std::string& name) : b_(b), name_(name) {}

    void count_value() {
        if (++values_ > kMaxMetadataValues)
            fail("holds more than " + std::to_string(kMaxMetadataValues) + " metadata values; refusing to load it");
    }

    uint64_t pos() const { return pos_; }
    uint64_t remaining() const { return b_.size() - pos_; }

    [[noreturn]] void fail(const std::string& what) const {
        throw FormatError(name_ + ": " + what + " (at byte " + std::to_string(pos_) + " of " +
                          std::to_string(b_.size()) + ")");
    }

    void need(uint64_t n, const char* what) const {
        if (n > remaining()) fail(std::string("file ends inside ") + what + ": it is truncated or corrupt");
    }

    template <typename T>
    T read(const char* what) {
        need(sizeof(T), what);
        T v;
        std::memcpy(&v, b_.data() + pos_, sizeof(T));
        pos_ += sizeof(T);
        return v;
    }

    std::string read_string(const char* what, uint64_t max_len) {
        const uint64_t len = read<uint64_t>(what);
        if (len > max_len) fail(std::string(what) + " is " + std::to_string(len) + " bytes long, over the limit of " +
                                std::to_string(max_len));
        need(len, what);
        std::string s(reinterpret_cast<const char*>(b_.data() + pos_), static_cast<size_t>(len));
        pos_ += len;
        return s;
    }

private:
    std::span<const uint8_t> b_;
    const std::string& name_;
    uint64_t pos_ = 0;
    uint64_t values_ = 0;
};

// Smallest encoded size of one value of type t (used to bound array counts by the bytes left).
uint64_t min_encoded_size(GgufType t) {
    switch (t) {
        case GgufType::UINT8: case GgufType::INT8: case GgufType::BOOL: return 1;
        case GgufType::UINT16: case GgufType::INT16: return 2;
        case GgufType::UINT32: case GgufType::INT32: case GgufType::FLOAT32: return 4;
        case GgufType::UINT64: case GgufType::INT64: case GgufType::FLOAT64: return 8;
        case GgufType::STRING: return 8;
        case GgufType::ARRAY: return 12;
    }
    return 1;
}

bool valid_type(uint32_t t) { return t <= static_cast<uint32_t>(GgufType::FLOAT64); }

GgufValue read_value(Reader& r, GgufType type, int depth, const std::string& key) {
    r.count_value();
    GgufValue v;
    v.type = type;
    switch (type) {
        case GgufType::UINT8: v.u = r.read<uint8_t>("a metadata value"); break;
        case GgufType::INT8: v.i = r.read<int8_t>("a metadata value"); break;
        case GgufType::UINT16: v.u = r.read<uint16_t>("a metadata value"); break;
        case GgufType::INT16: v.i = r.read<int16_t>("a metadata value"); break;
        case GgufType::UINT32: v.u = r.read<uint32_t>("a metadata value"); break;
        case GgufType::INT32: v.i = r.read<int32_t>("a metadata value"); break;
        case GgufType::UINT64: v.u = r.read<uint64_t>("a metadata value"); break;
        case GgufType::INT64: v.i = r.read<int64_t>("a metadata value"); break;
        case GgufType::FLOAT32: v.f = r.read<float>("a metadata value"); break;
        case GgufType::FLOAT64: v.f = r.read<double>("a metadata value"); break;
        case GgufType::BOOL: {
            const uint8_t b = r.read<uint8_t>("a metadata value");
            if (b > 1) r.fail("metadata key '" + key + "' has a bool value of " + std::to_string(b));
            v.u = b;
            break;
        }
        case GgufType::STRING: v.s = r.read_string("a metadata string", r.remaining()); break;
        case GgufType::ARRAY: {
            if (depth >= kMaxArrayDepth) r.fail("metadata key '" + key + "' nests arrays too deeply");
            const uint32_t et = r.read<uint32_t>("an array type");
            if (!valid_type(et)) r.fail("metadata key '" + key + "' has an array of unknown type " + std::to_string(et));
            v.elem_type = static_cast<GgufType>(et);
            const uint64_t n = r.read<uint64_t>("an array length");
            if (n > r.remaining() / min_encoded_size(v.elem_type))
                r.fail("metadata key '" + key + "' claims " + std::to_string(n) + " array elements, more than the file holds");
            v.array.reserve(static_cast<size_t>(std::min<uint64_t>(n, kMaxMetadataValues)));
            for (uint64_t k = 0; k < n; ++k) v.array.push_back(read_value(r, v.elem_type, depth + 1, key));
            break;
        }
    }
    return v;
}

}  // namespace

const char* gguf_type_name(GgufType t) {
    switch (t) {
        case GgufType::UINT8: return "uint8";
        case GgufType::INT8: return "int8";
        case GgufType::UINT16: return "uint16";
        case GgufType::INT16: return "int16";
        case GgufType::UINT32: return "uint32";
        case GgufType::INT32: return "int32";
        case GgufType::FLOAT32: return "float32";
        case GgufType::BOOL: return "bool";
        case GgufType::STRING: return "string";
        case GgufType::ARRAY: return "array";
        case GgufType::UINT64: return "uint64";
        case GgufType::INT64: return "int64";
        case GgufType::FLOAT64: return "float64";
    }
    return "unknown";
}

bool GgufValue::is_integer() const {
    switch (type) {
        case GgufType::UINT8: case GgufType::INT8: case GgufType::UINT16: case GgufType::INT16:
        case GgufType::UINT32: case GgufType::INT32: case GgufType::UINT64: case GgufType::INT64: return true;
        default: return false;
    }
}

static bool is_unsigned(GgufType t) {
    return t == GgufType::UINT8 || t == GgufType::UINT16 || t == GgufType::UINT32 || t == GgufType::UINT64 ||
           t == GgufType::BOOL;
}

int64_t GgufValue::as_int() const {
    if (!is_integer()) throw FormatError(std::string("expected an integer, found ") + gguf_type_name(type));
    if (is_unsigned(type)) {
        if (u > static_cast<uint64_t>(INT64_MAX)) throw FormatError("integer value out of range");
        return static_cast<int64_t>(u);
    }
    return i;
}

uint64_t GgufValue::as_uint() const {
    if (!is_integer()) throw FormatError(std::string("expected an integer, found ") + gguf_type_name(type));
    if (is_unsigned(type)) return u;
    if (i < 0) throw FormatError("expected a non-negative integer, found " + std::to_string(i));
    return static_cast<uint64_t>(i);
}

double GgufValue::as_double() const {
    if (type == GgufType::FLOAT32 || type == GgufType::FLOAT64) return f;
    if (is_integer()) return is_unsigned(type) ? static_cast<double>(u) : static_cast<double>(i);
    throw FormatError(std::string("expected a number, found ") + gguf_type_name(type));
}

bool GgufValue::as_bool() const {
    if (type == GgufType::BOOL) return u != 0;
    throw FormatError(std::string("expected a bool, found ") + gguf_type_name(type));
}

const std::string& GgufValue::as_string() const {
    if (type != GgufType::STRING) throw FormatError(std::string("expected a string, found ") + gguf_type_name(type));
    return s;
}

GgufValue GgufValue::make_u32(uint32_t v) { GgufValue x; x.type = GgufType::UINT32; x.u = v; return x; }
GgufValue GgufValue::make_i32(int32_t v) { GgufValue x; x.type = GgufType::INT32; x.i = v; return x; }
GgufValue GgufValue::make_u64(uint64_t v) { GgufValue x; x.type = GgufType::UINT64; x.u = v; return x; }
GgufValue GgufValue::make_f32(float v) { GgufValue x; x.type = GgufType::FLOAT32; x.f = v; return x; }
GgufValue GgufValue::make_bool(bool v) { GgufValue x; x.type = GgufType::BOOL; x.u = v ? 1 : 0; return x; }
GgufValue GgufValue::make_string(std::string v) { GgufValue x; x.type = GgufType::STRING; x.s = std::move(v); return x; }
GgufValue GgufValue::make_array(GgufType elem, std::vector<GgufValue> items) {
    GgufValue x;
    x.type = GgufType::ARRAY;
    x.elem_type = elem;
    x.array = std::move(items);
    return x;
}

GgufFile GgufFile::open(const std::string& path) {
    auto mapped = MappedFile::open(path);
    return parse(mapped->bytes(), path, mapped);
}

GgufFile GgufFile::parse(std::span<const uint8_t> bytes, std::string name, std::shared_ptr<const MappedFile> keepalive) {
    GgufFile f;
    f.keepalive_ = std::move(keepalive);
    f.bytes_ = bytes;
    f.name_ = std::move(name);
    Reader r(bytes, f.name_);

    if (bytes.size() < 4 || std::memcmp(bytes.data(), "GGUF", 4) != 0)
        throw FormatError(f.name_ + ": not a GGUF file (the first bytes are not 'GGUF')");
    r.read<uint32_t>("the magic");
    f.version_ = r.read<uint32_t>("the version");
    if (f.version_ == 1) r.fail("GGUF version 1 is obsolete and not supported; convert the file again with a current llama.cpp");
    if (f.version_ != 2 && f.version_ != 3) {
        if ((f.version_ & 0xffff) == 0 && (f.version_ >> 24) <= 3)
            r.fail("this GGUF file is big-endian; only little-endian files are supported");
        r.fail("unsupported GGUF version " + std::to_string(f.version_));
    }
    const uint64_t n_tensors = r.read<uint64_t>("the tensor count");
    const uint64_t n_kv = r.read<uint64_t>("the metadata count");
    // Each key/value takes at least 8 (key length) + 4 (type) + 1 bytes; each tensor info at least 8+4+4+8.
    if (n_kv > r.remaining() / 13) r.fail("claims " + std::to_string(n_kv) + " metadata entries, more than the file holds");
    if (n_tensors > r.remaining() / 24) r.fail("claims " + std::to_string(n_tensors) + " tensors, more than the file holds");

    f.kv_.reserve(static_cast<size_t>(n_kv));
    for (uint64_t k = 0; k < n_kv; ++k) {
        std::string key = r.read_string("a metadata key", kMaxNameLength);
        const uint32_t t = r.read<uint32_t>("a metadata type");
        if (!valid_type(t)) r.fail("metadata key '" + key + "' has unknown value type " + std::to_string(t));
        GgufValue v = read_value(r, static_cast<GgufType>(t), 0, key);
        if (f.kv_index_.count(key)) r.fail("metadata key '" + key + "' appears twice");
        f.kv_index_.emplace(key, f.kv_.size());
        f.kv_.emplace_back(std::move(key), std::move(v));
    }

    if (const GgufValue* a = f.find("general.alignment")) {
        if (a->type != GgufType::UINT32) r.fail("general.alignment must be a uint32");
        if (a->u == 0 || (a->u & (a->u - 1)) != 0) r.fail("general.alignment " + std::to_string(a->u) + " is not a power of two");
        f.alignment_ = a->u;
    }

    f.tensors_.reserve(static_cast<size_t>(n_tensors));
    for (uint64_t k = 0; k < n_tensors; ++k) {
        GgufTensorInfo ti;
        ti.name = r.read_string("a tensor name", kMaxNameLength);
        const uint32_t n_dims = r.read<uint32_t>("a tensor's dimension count");
        if (n_dims > kMaxDims) r.fail("tensor '" + ti.name + "' has " + std::to_string(n_dims) + " dimensions (at most 4)");
        uint64_t elems = 1;
        for (uint32_t d = 0; d < n_dims; ++d) {
            const uint64_t ne = r.read<uint64_t>("a tensor dimension");
            if (ne > static_cast<uint64_t>(INT64_MAX)) r.fail("tensor '" + ti.name + "' has a negative dimension");
            ti.ne.push_back(ne);
            elems = checked_mul(elems, ne, "a tensor's element count");
        }
        ti.ggml_type = r.read<uint32_t>("a tensor type");
        const auto dt = dtype_from_ggml_id(ti.ggml_type);
        if (!dt) r.fail("tensor '" + ti.name + "' has unknown ggml type " + std::to_string(ti.ggml_type));
        ti.type = *dt;
        const uint32_t block = dtype_info(ti.type).block_elems;
        if (!ti.ne.empty() && ti.ne[0] % block != 0)
            r.fail("tensor '" + ti.name + "' of type " + dtype_name(ti.type) + " has rows of " + std::to_string(ti.ne[0]) +
                   " elements, not a multiple of its block size " + std::to_string(block));
        try {
            ti.nbytes = dtype_bytes(ti.type, elems);
        } catch (const FormatError& e) {
            r.fail("tensor '" + ti.name + "': " + e.what());
        }
        ti.offset = r.read<uint64_t>("a tensor offset");
        if (ti.offset % f.alignment_ != 0)
            r.fail("tensor '" + ti.name + "' starts at offset " + std::to_string(ti.offset) + ", not a multiple of the alignment " +
                   std::to_string(f.alignment_));
        if (f.tensor_index_.count(ti.name)) r.fail("tensor '" + ti.name + "' appears twice");
        f.tensor_index_.emplace(ti.name, f.tensors_.size());
        f.tensors_.push_back(std::move(ti));
    }

    f.data_offset_ = checked_align_up(r.pos(), f.alignment_, "the data section offset");
    if (f.data_offset_ > bytes.size() && !f.tensors_.empty())
        throw FormatError(f.name_ + ": the file ends before its tensor data starts: it is truncated");
    const uint64_t data_size = bytes.size() > f.data_offset_ ? bytes.size() - f.data_offset_ : 0;

    // Every tensor must lie inside the file, and no two may overlap.
    std::vector<const GgufTensorInfo*> by_offset;
    by_offset.reserve(f.tensors_.size());
    for (const auto& ti : f.tensors_) {
        const uint64_t end = checked_add(ti.offset, ti.nbytes, "a tensor's end offset");
        if (end > data_size)
            throw FormatError(f.name_ + ": tensor '" + ti.name + "' (" + std::to_string(ti.nbytes) + " bytes at data offset " +
                              std::to_string(ti.offset) + ") extends past the end of the file: it is truncated or corrupt");
        by_offset.push_back(&ti);
    }
    std::sort(by_offset.begin(), by_offset.end(), [](auto* a, auto* b) { return a->offset < b->offset; });
    for (size_t k = 1; k < by_offset.size(); ++k) {
        const auto* prev = by_offset[k - 1];
        if (prev->offset + prev->nbytes > by_offset[k]->offset)
            throw FormatError(f.name_ + ": tensors '" + prev->name + "' and '" + by_offset[k]->name + "' overlap");
    }
    return f;
}

const GgufValue* GgufFile::find(std::string_view key) const {
    auto it = kv_index_.find(key);
    return it == kv_index_.end() ? nullptr : &kv_[it->second].second;
}

const GgufValue& GgufFile::get(std::string_view key) const {
    const GgufValue* v = find(key);
    if (!v) throw FormatError(name_ + ": metadata key '" + std::string(key) + "' is missing");
    return *v;
}

template <typename F>
static auto with_key(const std::string& file, std::string_view key, F&& f) {
    try {
        return f();
    } catch (const FormatError& e) {
        throw FormatError(file + ": metadata key '" + std::string(key) + "': " + e.what());
    }
}

std::string GgufFile::get_string(std::string_view key) const {
    return with_key(name_, key, [&] { return get(key).as_string(); });
}

std::optional<std::string> GgufFile::get_string_opt(std::string_view key) const {
    const GgufValue* v = find(key);
    if (!v) return std::nullopt;
    return with_key(name_, key, [&] { return v->as_string(); });
}

std::optional<int64_t> GgufFile::get_int_opt(std::string_view key) const {
    const GgufValue* v = find(key);
    if (!v) return std::nullopt;
    return with_key(name_, key, [&] { return v->as_int(); });
}

std::optional<double> GgufFile::get_float_opt(std::string_view key) const {
    const GgufValue* v = find(key);
    if (!v) return std::nullopt;
    return with_key(name_, key, [&] { return v->as_double(); });
}

std::optional<bool> GgufFile::get_bool_opt(std::string_view key) const {
    const GgufValue* v = find(key);
    if (!v) return std::nullopt;
    return with_key(name_, key, [&] { return v->as_bool(); });
}

const GgufTensorInfo* GgufFile::find_tensor(std::string_view name) const {
    auto it = tensor_index_.find(name);
    return it == tensor_index_.end() ? nullptr : &tensors_[it->second];
}

TensorView GgufFile::view(const GgufTensorInfo& t) const {
    TensorView v;
    v.name = t.name;
    v.type = t.type;
    v.shape.assign(t.ne.rbegin(), t.ne.rend());
    v.data = bytes_.data() + data_offset_ + t.offset;
    v.nbytes = t.nbytes;
    return v;
}

std::vector<TensorView> GgufFile::views() const {
    std::vector<TensorView> out;
    out.reserve(tensors_.size());
    for (const auto& t : tensors_) out.push_back(view(t));
    return out;
}

std::string GgufFile::architecture() const { return get_string_opt("general.architecture").value_or(""); }

}  // namespace gd
