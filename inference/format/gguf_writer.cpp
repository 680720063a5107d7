#include "format/gguf_writer.h"

#include <algorithm>
#include <cstring>
#include <memory>

#include "common/checked.h"
#include "common/error.h"
#include "common/parallel_writer.h"

namespace gd {
namespace {

class Out {
public:
    std::vector<uint8_t> bytes;
    template <typename T>
    void put(T v) {
        const size_t at = bytes.size();
        bytes.resize(at + sizeof(T));
        std::memcpy(bytes.data() + at, &v, sizeof(T));
    }
    void put_string(const std::string& s) {
        put<uint64_t>(s.size());
        bytes.insert(bytes.end(), s.begin(), s.end());
    }
};

void put_value(Out& o, const GgufValue& v) {
    switch (v.type) {
        case GgufType::UINT8: o.put<uint8_t>(static_cast<uint8_t>(v.u)); break;
        case GgufType::INT8: o.put<int8_t>(static_cast<int8_t>(v.i)); break;
        case GgufType::UINT16: o.put<uint16_t>(static_cast<uint16_t>(v.u)); break;
        case GgufType::INT16: o.put<int16_t>(static_cast<int16_t>(v.i)); break;
        case GgufType::UINT32: o.put<uint32_t>(static_cast<uint32_t>(v.u)); break;
        case GgufType::INT32: o.put<int32_t>(static_cast<int32_t>(v.i)); break;
        case GgufType::UINT64: o.put<uint64_t>(v.u); break;
        case GgufType::INT64: o.put<int64_t>(v.i); break;
        case GgufType::FLOAT32: o.put<float>(static_cast<float>(v.f)); break;
        case GgufType::FLOAT64: o.put<double>(v.f); break;
        case GgufType::BOOL: o.put<uint8_t>(v.u ? 1 : 0); break;
        case GgufType::STRING: o.put_string(v.s); break;
        case GgufType::ARRAY:
            o.put<uint32_t>(static_cast<uint32_t>(v.elem_type));
            o.put<uint64_t>(v.array.size());
            for (const auto& e : v.array) {
                if (e.type != v.elem_type)
                    throw Error(std::string("GGUF array of ") + gguf_type_name(v.elem_type) + " holds a " + gguf_type_name(e.type));
                put_value(o, e);
            }
            break;
    }
}

}  // namespace

GgufWriter::GgufWriter(uint64_t alignment) : alignment_(alignment) {
    if (alignment == 0 || (alignment & (alignment - 1)) != 0) throw Error("GGUF alignment must be a power of two");
    if (alignment != 32) set_u32("general.alignment", static_cast<uint32_t>(alignment));
}

void GgufWriter::set(std::string key, GgufValue value) {
    for (auto& kv : kv_)
        if (kv.first == key) {
            kv.second = std::move(value);
            return;
        }
    kv_.emplace_back(std::move(key), std::move(value));
}

void GgufWriter::add_tensor(std::string name, std::vector<uint64_t> shape, DType type, RowProducer produce) {
    for (const auto& t : tensors_)
        if (t.name == name) throw Error("tensor '" + name + "' added twice to a GGUF file");
    if (shape.size() > 4) throw Error("tensor '" + name + "' has more than 4 dimensions");
    if (dtype_info(type).ggml_id < 0) throw Error("tensor '" + name + "': GGUF cannot store " + dtype_name(type));
    Pending p;
    p.row_elems = shape.empty() ? 1 : shape.back();
    uint64_t elems = 1;
    for (uint64_t d : shape) elems = checked_mul(elems, d, "tensor size");
    p.rows = p.row_elems ? elems / p.row_elems : 0;
    if (p.row_elems % dtype_info(type).block_elems != 0)
        throw Error("tensor '" + name + "': rows of " + std::to_string(p.row_elems) + " elements are not whole " +
                    dtype_name(type) + " blocks of " + std::to_string(dtype_info(type).block_elems));
    p.row_bytes = dtype_bytes(type, p.row_elems);
    p.nbytes = dtype_bytes(type, elems);
    p.name = std::move(name);
    p.shape = std::move(shape);
    p.type = type;
    p.produce = std::move(produce);
    tensors_.push_back(std::move(p));
}

void GgufWriter::add_tensor_bytes(std::string name, std::vector<uint64_t> shape, DType type, std::vector<uint8_t> bytes) {
    uint64_t elems = 1;
    for (uint64_t d : shape) elems = checked_mul(elems, d, "tensor size");
    const uint64_t expected = dtype_bytes(type, elems);
    if (bytes.size() != expected)
        throw Error("tensor '" + name + "': " + std::to_string(bytes.size()) + " bytes given, " + std::to_string(expected) + " expected");
    const uint64_t row_bytes = dtype_bytes(type, shape.empty() ? 1 : shape.back());
    auto data = std::make_shared<std::vector<uint8_t>>(std::move(bytes));
    add_tensor(std::move(name), std::move(shape), type, [data, row_bytes](uint8_t* dst, uint64_t row0, uint64_t nrows) {
        std::memcpy(dst, data->data() + row0 * row_bytes, nrows * row_bytes);
    });
}

std::vector<uint8_t> GgufWriter::header_bytes(std::vector<uint64_t>* offsets) const {
    Out o;
    o.bytes = {'G', 'G', 'U', 'F'};
    o.put<uint32_t>(3);
    o.put<uint64_t>(tensors_.size());
    o.put<uint64_t>(kv_.size());
    for (const auto& [k, v] : kv_) {
        o.put_string(k);
        o.put<uint32_t>(static_cast<uint32_t>(v.type));
        put_value(o, v);
    }
    uint64_t offset = 0;
    offsets->clear();
    for (const auto& t : tensors_) {
        o.put_string(t.name);
        o.put<uint32_t>(static_cast<uint32_t>(t.shape.size()));
        for (auto it = t.shape.rbegin(); it != t.shape.rend(); ++it) o.put<uint64_t>(*it);
        o.put<uint32_t>(static_cast<uint32_t>(dtype_info(t.type).ggml_id));
        o.put<uint64_t>(offset);
        offsets->push_back(offset);
        offset = checked_align_up(checked_add(offset, t.nbytes, "GGUF data size"), alignment_, "GGUF data size");
    }
    return o.bytes;
}

uint64_t GgufWriter::file_size() const {
    std::vector<uint64_t> offsets;
    const uint64_t data_start = checked_align_up(header_bytes(&offsets).size(), alignment_, "GGUF header size");
    if (tensors_.empty()) return data_start;
    return data_start + offsets.back() + tensors_.back().nbytes;
}

void GgufWriter::write(const std::string& path, unsigned threads) const {
    std::vector<uint64_t> offsets;
    auto header = std::make_shared<std::vector<uint8_t>>(header_bytes(&offsets));
    const uint64_t data_start = checked_align_up(header->size(), alignment_, "GGUF header size");
    const uint64_t total = tensors_.empty() ? data_start : data_start + offsets.back() + tensors_.back().nbytes;

    std::vector<FilePiece> pieces;
    pieces.push_back({0, header->size(), [header](uint8_t* dst) { std::memcpy(dst, header->data(), header->size()); }});
    for (size_t k = 0; k < tensors_.size(); ++k) {
        const Pending& t = tensors_[k];
        append_row_pieces(pieces, data_start + offsets[k], t.rows, t.row_bytes, t.produce);
    }
    write_file_in_pieces(path, total, pieces, threads);
}

}  // namespace gd
