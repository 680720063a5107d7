#include "format/safetensors.h"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <filesystem>
#include <set>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include "common/checked.h"
#include "common/error.h"
#include "common/parallel_writer.h"
#include "format/hf_folder.h"

namespace gd {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

constexpr uint64_t kMaxHeaderBytes = 100ull << 20;  // 100 MiB, the Python library's bound
constexpr const char* kMetadataKey = "__metadata__";
constexpr const char* kSingleFileName = "model.safetensors";
constexpr const char* kIndexFileName = "model.safetensors.index.json";

// A name as it appears in a message: quoted, control and non-ASCII-looking bytes escaped, and cut
// short so that a hostile 100 MiB key cannot make a 100 MiB message.
std::string quote(std::string_view s) {
    constexpr size_t kMax = 160;
    std::string out = "\"";
    for (size_t i = 0; i < s.size() && i < kMax; ++i) {
        const auto c = static_cast<unsigned char>(s[i]);
        if (c == '"' || c == '\\') {
            out += '\\';
            out += static_cast<char>(c);
        } else if (c < 0x20 || c == 0x7f) {
            static const char* hex = "0123456789abcdef";
            out += "\\x";
            out += hex[c >> 4];
            out += hex[c & 15];
        } else {
            out += static_cast<char>(c);
        }
    }
    if (s.size() > kMax) out += "...";
    return out + "\"";
}

std::string json_type(const json& j) { return j.type_name(); }

// shape_to_string, cut short after 16 dimensions (a hostile header can have millions).
std::string shape_str(const std::vector<uint64_t>& shape) {
    constexpr size_t kMax = 16;
    if (shape.size() <= kMax) return shape_to_string(shape);
    std::string s = shape_to_string(std::vector<uint64_t>(shape.begin(), shape.begin() + kMax));
    s.pop_back();
    return s + ", ... (" + std::to_string(shape.size()) + " dimensions)]";
}


std::string supported_dtypes() { return "F64, F32, F16, BF16, I64, I32, I16, I8, U8, U16, U32, U64, BOOL"; }

// Parses the header JSON, rejecting duplicate keys in any object (nlohmann would keep the last one).
json parse_header_json(std::string_view text, const std::string& file) {
    std::vector<std::set<std::string>> keys;  // one set per open object
    std::string duplicate;
    bool duplicate_is_tensor = false;
    json::parser_callback_t cb = [&](int /*depth*/, json::parse_event_t ev, json& parsed) {
        switch (ev) {
            case json::parse_event_t::object_start: keys.emplace_back(); break;
            case json::parse_event_t::object_end:
                if (!keys.empty()) keys.pop_back();
                break;
            case json::parse_event_t::key:
                if (!keys.empty() && parsed.is_string() && !keys.back().insert(parsed.get_ref<const std::string&>()).second &&
                    duplicate.empty()) {
                    duplicate = parsed.get_ref<const std::string&>();
                    duplicate_is_tensor = keys.size() == 1;
                }
                break;
            default: break;
        }
        return true;
    };
    // nlohmann takes a NUL byte for the end of the input and would ignore whatever follows it.
    if (const auto nul = text.find('\0'); nul != std::string_view::npos)
        throw FormatError(file + ": the safetensors header is not valid JSON: it has a NUL byte at byte " +
                          std::to_string(nul) + " of the header");
    json j;
    try {
        j = json::parse(text.begin(), text.end(), cb);
    } catch (const json::parse_error& e) {
        throw FormatError(file + ": the safetensors header is not valid JSON: " + json_error_text(e.what()) +
                          " (byte " + std::to_string(e.byte) + " of the header, which starts at file offset 8)");
    } catch (const json::exception& e) {
        throw FormatError(file + ": the safetensors header cannot be read as JSON: " + json_error_text(e.what()));
    }
    if (!duplicate.empty()) {
        if (duplicate_is_tensor)
            throw FormatError(file + ": tensor " + quote(duplicate) + " is listed twice in the safetensors header");
        throw FormatError(file + ": the safetensors header has the field " + quote(duplicate) +
                          " twice in one object");
    }
    return j;
}

uint64_t read_le64(const uint8_t* p) {
    uint64_t v = 0;
    for (int i = 7; i >= 0; --i) v = (v << 8) | p[i];
    return v;
}

struct Entry {
    std::string name;
    DType type;
    std::vector<uint64_t> shape;
    uint64_t begin, end;
};

// Checks one header entry and returns it; `data_size` is the number of bytes after the header.
Entry parse_entry(const std::string& file, const std::string& name, const json& v, uint64_t data_size) {
    const std::string where = file + ": tensor " + quote(name);
    if (!v.is_object())
        throw FormatError(where + ": the header entry is a JSON " + json_type(v) +
                          ", expected an object with dtype, shape and data_offsets");
    Entry e;
    e.name = name;

    const auto dt = v.find("dtype");
    if (dt == v.end()) throw FormatError(where + ": the header entry has no \"dtype\"");
    if (!dt->is_string()) throw FormatError(where + ": \"dtype\" is a JSON " + json_type(*dt) + ", expected a string");
    const auto& dts = dt->get_ref<const std::string&>();
    const auto type = dtype_from_safetensors(dts);
    if (!type)
        throw FormatError(where + " has dtype " + quote(dts) + ", which Gemma Desk cannot read (supported: " +
                          supported_dtypes() + ")");
    e.type = *type;

    const auto sh = v.find("shape");
    if (sh == v.end()) throw FormatError(where + ": the header entry has no \"shape\"");
    if (!sh->is_array()) throw FormatError(where + ": \"shape\" is a JSON " + json_type(*sh) + ", expected an array");
    uint64_t elems = 1;
    for (size_t i = 0; i < sh->size(); ++i) {
        const json& d = (*sh)[i];
        if (d.is_number_unsigned()) {
            const uint64_t n = d.get<uint64_t>();
            e.shape.push_back(n);
            if (__builtin_mul_overflow(elems, n, &elems))
                throw FormatError(where + ": the element count of shape " + shape_str(e.shape) +
                                  (i + 1 < sh->size() ? " (and more dimensions)" : "") + " overflows 64 bits");
        } else if (d.is_number_integer()) {
            throw FormatError(where + ": dimension " + std::to_string(i) + " of the shape is negative (" +
                              std::to_string(d.get<int64_t>()) + ")");
        } else {
            throw FormatError(where + ": dimension " + std::to_string(i) + " of the shape is a JSON " + json_type(d) +
                              (d.is_number_float() ? " (not an integer, or too large)" : "") +
                              ", expected a non-negative integer");
        }
    }
    uint64_t nbytes = 0;
    if (__builtin_mul_overflow(elems, static_cast<uint64_t>(dtype_info(e.type).block_bytes), &nbytes))
        throw FormatError(where + ": the byte size of shape " + shape_str(e.shape) + " " + dts +
                          " overflows 64 bits");

    const auto off = v.find("data_offsets");
    if (off == v.end()) throw FormatError(where + ": the header entry has no \"data_offsets\"");
    if (!off->is_array() || off->size() != 2 || !(*off)[0].is_number_unsigned() || !(*off)[1].is_number_unsigned())
        throw FormatError(where + ": \"data_offsets\" must be two non-negative integers [begin, end], got " +
                          (off->is_array() && off->size() <= 4 ? off->dump() : "a JSON " + json_type(*off)));
    e.begin = (*off)[0].get<uint64_t>();
    e.end = (*off)[1].get<uint64_t>();
    if (e.begin > e.end)
        throw FormatError(where + ": data_offsets [" + std::to_string(e.begin) + ", " + std::to_string(e.end) +
                          "] end before they begin");
    if (e.end > data_size)
        throw FormatError(where + ": data_offsets [" + std::to_string(e.begin) + ", " + std::to_string(e.end) +
                          "] run past the end of the file's data section (" + std::to_string(data_size) +
                          " bytes); the file may be truncated");
    if (e.end - e.begin != nbytes)
        throw FormatError(where + ": data_offsets [" + std::to_string(e.begin) + ", " + std::to_string(e.end) + "] span " +
                          std::to_string(e.end - e.begin) + " bytes, but shape " + shape_str(e.shape) + " " + dts +
                          " needs " + std::to_string(nbytes));
    return e;  // other fields of the entry are ignored, as the Python library does
}

bool is_plain_file_name(const std::string& s) {
    if (s.empty() || s == "." || s == "..") return false;
    return s.find('/') == std::string::npos && s.find('\\') == std::string::npos && s.find('\0') == std::string::npos;
}

}  // namespace

// ------------------------------------------------------------------------------------------------
// SafetensorsFile

SafetensorsFile SafetensorsFile::open(const std::string& path) {
    auto mapped = MappedFile::open(path);
    const auto bytes = mapped->bytes();
    return parse(bytes, path, std::move(mapped));
}

SafetensorsFile SafetensorsFile::parse(std::span<const uint8_t> bytes, std::string name,
                                       std::shared_ptr<const MappedFile> keepalive) {
    const uint64_t size = bytes.size();
    if (size < 8)
        throw FormatError(name + ": " + std::to_string(size) +
                          " bytes is too short for a safetensors file (it starts with an 8-byte header length)");
    const uint64_t n = read_le64(bytes.data());
    if (n > kMaxHeaderBytes)
        throw FormatError(name + ": the safetensors header length is " + std::to_string(n) +
                          " bytes, more than the 100 MiB limit (not a safetensors file, or corrupt)");
    if (n > size - 8)
        throw FormatError(name + ": the safetensors header length is " + std::to_string(n) + " bytes but only " +
                          std::to_string(size - 8) + " bytes follow it (truncated file?)");
    if (n < 2) throw FormatError(name + ": the safetensors header is " + std::to_string(n) + " bytes long, too short for a JSON object");

    const std::string_view text(reinterpret_cast<const char*>(bytes.data() + 8), static_cast<size_t>(n));
    const json header = parse_header_json(text, name);
    if (!header.is_object())
        throw FormatError(name + ": the safetensors header is a JSON " + json_type(header) + ", expected an object");

    const uint64_t data_start = 8 + n;
    const uint64_t data_size = size - data_start;

    SafetensorsFile f;
    std::vector<Entry> entries;
    entries.reserve(header.size());
    for (auto it = header.begin(); it != header.end(); ++it) {
        const std::string& key = it.key();
        if (key == kMetadataKey) {
            const json& m = it.value();
            if (m.is_null()) continue;
            if (!m.is_object())
                throw FormatError(name + ": \"__metadata__\" is a JSON " + json_type(m) + ", expected an object of strings");
            for (auto mi = m.begin(); mi != m.end(); ++mi) {
                if (!mi.value().is_string())
                    throw FormatError(name + ": \"__metadata__\" entry " + quote(mi.key()) + " is a JSON " +
                                      json_type(mi.value()) + ", expected a string");
                f.metadata_.emplace(mi.key(), mi.value().get<std::string>());
            }
            continue;
        }
        entries.push_back(parse_entry(name, key, it.value(), data_size));
    }

    std::sort(entries.begin(), entries.end(), [](const Entry& a, const Entry& b) {
        if (a.begin != b.begin) return a.begin < b.begin;
        if (a.end != b.end) return a.end < b.end;
        return a.name < b.name;
    });
    // Overlap: two non-empty byte ranges [begin, end) that intersect. Zero-size tensors occupy no bytes.
    const Entry* furthest = nullptr;  // the non-empty tensor reaching furthest so far
    for (const Entry& e : entries) {
        if (e.begin == e.end) continue;
        if (furthest && e.begin < furthest->end)
            throw FormatError(name + ": tensors " + quote(furthest->name) + " (bytes " + std::to_string(furthest->begin) +
                              ".." + std::to_string(furthest->end) + ") and " + quote(e.name) + " (bytes " +
                              std::to_string(e.begin) + ".." + std::to_string(e.end) + ") overlap");
        if (!furthest || e.end > furthest->end) furthest = &e;
    }

    f.keepalive_ = std::move(keepalive);
    f.bytes_ = bytes;
    f.name_ = std::move(name);
    f.data_start_ = data_start;
    f.tensors_.reserve(entries.size());
    const uint8_t* data = bytes.data() + data_start;
    for (Entry& e : entries) {
        TensorView t;
        t.name = std::move(e.name);
        t.type = e.type;
        t.shape = std::move(e.shape);
        t.data = data + e.begin;
        t.nbytes = e.end - e.begin;
        f.index_.emplace(t.name, f.tensors_.size());
        f.tensors_.push_back(std::move(t));
    }
    return f;
}

const TensorView* SafetensorsFile::find(std::string_view name) const {
    const auto it = index_.find(name);
    return it == index_.end() ? nullptr : &tensors_[it->second];
}

// ------------------------------------------------------------------------------------------------
// SafetensorsCheckpoint

SafetensorsCheckpoint SafetensorsCheckpoint::open(const std::string& path) {
    std::error_code ec;
    std::string resolved = path;
    bool is_index = false;
    if (fs::is_directory(path, ec)) {
        const fs::path dir(path);
        if (fs::exists(dir / kSingleFileName, ec)) {
            resolved = (dir / kSingleFileName).string();
        } else if (fs::exists(dir / kIndexFileName, ec)) {
            resolved = (dir / kIndexFileName).string();
            is_index = true;
        } else {
            throw Error(path + ": the folder has neither " + kSingleFileName + " nor " + kIndexFileName);
        }
    } else {
        is_index = std::string_view(path).ends_with(".json");
    }

    SafetensorsCheckpoint ck;
    ck.path_ = resolved;
    ck.sharded_ = is_index;

    if (!is_index) {
        ck.files_.push_back(SafetensorsFile::open(resolved));
    } else {
        const json index = read_json_file(resolved, kMaxJsonFileBytes);
        const auto wm = index.find("weight_map");
        if (wm == index.end()) throw FormatError(resolved + ": the index has no \"weight_map\"");
        if (!wm->is_object())
            throw FormatError(resolved + ": \"weight_map\" is a JSON " + json_type(*wm) + ", expected an object");
        if (wm->empty()) throw FormatError(resolved + ": \"weight_map\" lists no tensors");
        std::map<std::string, std::vector<std::string>> by_shard;  // shard -> tensors the index puts there
        for (auto it = wm->begin(); it != wm->end(); ++it) {
            if (!it.value().is_string())
                throw FormatError(resolved + ": tensor " + quote(it.key()) + ": the shard name is a JSON " +
                                  json_type(it.value()) + ", expected a file name");
            const auto& shard = it.value().get_ref<const std::string&>();
            if (!is_plain_file_name(shard))
                throw FormatError(resolved + ": tensor " + quote(it.key()) + ": shard " + quote(shard) +
                                  " is not a plain file name in the index's folder");
            by_shard[shard].push_back(it.key());
        }
        const fs::path dir = fs::path(resolved).parent_path();
        for (const auto& [shard, names] : by_shard) {
            const fs::path shard_path = dir / shard;
            if (!fs::exists(shard_path, ec))
                throw FormatError(resolved + ": shard " + quote(shard) + " (holding tensor " + quote(names.front()) +
                                  " and " + std::to_string(names.size() - 1) + " more) does not exist at " +
                                  shard_path.string());
            ck.files_.push_back(SafetensorsFile::open(shard_path.string()));
            const SafetensorsFile& f = ck.files_.back();
            for (const auto& t : names)
                if (!f.find(t))
                    throw FormatError(resolved + ": the index puts tensor " + quote(t) + " in " + f.path() +
                                      ", which has no tensor of that name");
        }
        for (const SafetensorsFile& f : ck.files_)
            for (const TensorView& t : f.tensors())
                if (wm->find(t.name) == wm->end()) ck.unindexed_.push_back(t.name);
    }

    for (size_t fi = 0; fi < ck.files_.size(); ++fi) {
        const auto& tensors = ck.files_[fi].tensors();
        for (size_t ti = 0; ti < tensors.size(); ++ti) {
            const auto [it, inserted] = ck.index_.emplace(tensors[ti].name, std::make_pair(fi, ti));
            if (!inserted)
                throw FormatError(resolved + ": tensor " + quote(tensors[ti].name) + " is in both " +
                                  ck.files_[it->second.first].path() + " and " + ck.files_[fi].path());
        }
    }
    return ck;
}

const TensorView* SafetensorsCheckpoint::find(std::string_view name) const {
    const auto it = index_.find(name);
    if (it == index_.end()) return nullptr;
    return &files_[it->second.first].tensors()[it->second.second];
}

std::vector<const TensorView*> SafetensorsCheckpoint::tensors() const {
    std::vector<const TensorView*> out;
    out.reserve(index_.size());
    for (const auto& f : files_)
        for (const auto& t : f.tensors()) out.push_back(&t);
    return out;
}

const std::string& SafetensorsCheckpoint::file_of(std::string_view tensor_name) const {
    const auto it = index_.find(tensor_name);
    if (it == index_.end())
        throw ModelError(path_ + ": the checkpoint has no tensor " + quote(tensor_name));
    return files_[it->second.first].path();
}

// ------------------------------------------------------------------------------------------------
// write_safetensors

namespace {

// Rank of a type in the Python library's data order (its Dtype enum, smallest alignment first); the
// writer sorts by descending rank.
int python_dtype_rank(DType t) {
    switch (t) {
        case DType::BOOL: return 0;
        case DType::U8: return 1;
        case DType::I8: return 2;
        case DType::I16: return 3;
        case DType::U16: return 4;
        case DType::F16: return 5;
        case DType::BF16: return 6;
        case DType::I32: return 7;
        case DType::U32: return 8;
        case DType::F32: return 9;
        case DType::F64: return 10;
        case DType::I64: return 11;
        case DType::U64: return 12;
        default: return -1;
    }
}


std::string build_header(const std::vector<const SafetensorsWriteTensor*>& order, const std::vector<uint64_t>& sizes,
                         const std::map<std::string, std::string>& metadata) {
    std::string h = "{";
    bool first = true;
    if (!metadata.empty()) {
        json m = json::object();
        for (const auto& [k, v] : metadata) m[k] = v;
        h += "\"__metadata__\":" + m.dump();
        first = false;
    }
    uint64_t offset = 0;
    for (size_t i = 0; i < order.size(); ++i) {
        const auto& t = *order[i];
        if (!first) h += ',';
        first = false;
        h += json(t.name).dump();
        h += ":{\"dtype\":\"";
        h += dtype_info(t.type).safetensors;
        h += "\",\"shape\":[";
        for (size_t d = 0; d < t.shape.size(); ++d) {
            if (d) h += ',';
            h += std::to_string(t.shape[d]);
        }
        h += "],\"data_offsets\":[" + std::to_string(offset) + ',';
        offset = checked_add(offset, sizes[i], "the safetensors data size");
        h += std::to_string(offset) + "]}";
    }
    h += '}';
    h.append((8 - h.size() % 8) % 8, ' ');
    return h;
}

}  // namespace

void write_safetensors(const std::string& path, const std::vector<SafetensorsWriteTensor>& tensors,
                       const std::map<std::string, std::string>& metadata, unsigned threads) {
    std::vector<const SafetensorsWriteTensor*> order;
    std::set<std::string_view> names;
    for (const auto& t : tensors) {
        if (t.name.empty()) throw Error(path + ": cannot write a tensor with an empty name");
        if (t.name == kMetadataKey) throw Error(path + ": \"__metadata__\" cannot be a tensor name");
        if (!names.insert(t.name).second) throw Error(path + ": tensor " + quote(t.name) + " is given twice");
        if (python_dtype_rank(t.type) < 0 || !dtype_info(t.type).safetensors)
            throw Error(path + ": tensor " + quote(t.name) + ": type " + dtype_name(t.type) +
                        " cannot be stored in safetensors");
        order.push_back(&t);
    }
    std::stable_sort(order.begin(), order.end(), [](const SafetensorsWriteTensor* a, const SafetensorsWriteTensor* b) {
        const int ra = python_dtype_rank(a->type), rb = python_dtype_rank(b->type);
        if (ra != rb) return ra > rb;
        return a->name < b->name;
    });
    std::vector<uint64_t> sizes;
    sizes.reserve(order.size());
    for (const auto* t : order) {
        uint64_t elems = 1;
        for (uint64_t d : t->shape) elems = checked_mul(elems, d, "a tensor's element count");
        sizes.push_back(dtype_bytes(t->type, elems));
    }

    std::string header;
    try {
        header = build_header(order, sizes, metadata);
    } catch (const json::exception& e) {
        throw Error(path + ": cannot write the safetensors header (names and metadata must be valid UTF-8): " +
                    json_error_text(e.what()));
    }

    // The file: 8-byte header length, the header, then the tensors back to back. Pieces are
    // produced on `threads` threads and written at their offsets (common/parallel_writer.h).
    auto prefix = std::make_shared<std::vector<uint8_t>>(8 + header.size());
    for (int i = 0; i < 8; ++i) (*prefix)[static_cast<size_t>(i)] = static_cast<uint8_t>(uint64_t(header.size()) >> (8 * i));
    std::memcpy(prefix->data() + 8, header.data(), header.size());
    std::vector<FilePiece> pieces;
    pieces.push_back({0, prefix->size(), [prefix](uint8_t* dst) { std::memcpy(dst, prefix->data(), prefix->size()); }});
    uint64_t offset = prefix->size();
    for (size_t i = 0; i < order.size(); ++i) {
        const SafetensorsWriteTensor& t = *order[i];
        const uint64_t nb = sizes[i];
        if (nb > 0 && t.produce_rows) {
            const uint64_t row_bytes = dtype_bytes(t.type, t.shape.empty() ? 1 : t.shape.back());
            append_row_pieces(pieces, offset, row_bytes ? nb / row_bytes : 0, row_bytes, t.produce_rows);
        } else if (nb > 0 && t.produce) {
            pieces.push_back({offset, nb, [&t, nb](uint8_t* dst) {
                                  std::memset(dst, 0, nb);
                                  t.produce(dst, nb);
                              }});
        }
        offset += nb;
    }
    write_file_in_pieces(path, offset, pieces, threads);
}

}  // namespace gd
