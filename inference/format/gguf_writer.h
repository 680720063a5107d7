#pragma once
// GGUF version 3 writer. Tensors are declared first (name, shape, type, a row producer); write() lays
// out the header and streams the data, producing rows on several threads in bounded pieces, so
// multi-gigabyte models go to disk without being held in memory. Output is byte-identical whatever
// the thread count, provided producers are deterministic per row.
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "format/dtype.h"
#include "format/gguf.h"

namespace gd {

class GgufWriter {
public:
    explicit GgufWriter(uint64_t alignment = 32);

    void set(std::string key, GgufValue value);  // replaces an existing key, keeps insertion order
    void set_u32(std::string key, uint32_t v) { set(std::move(key), GgufValue::make_u32(v)); }
    void set_f32(std::string key, float v) { set(std::move(key), GgufValue::make_f32(v)); }
    void set_bool(std::string key, bool v) { set(std::move(key), GgufValue::make_bool(v)); }
    void set_string(std::string key, std::string v) { set(std::move(key), GgufValue::make_string(std::move(v))); }

    // A row is the innermost dimension (shape.back() elements; a scalar is one row of one element).
    // The producer writes rows [row0, row0 + nrows) in the stored type to dst, and may be called
    // concurrently for different row ranges.
    using RowProducer = std::function<void(uint8_t* dst, uint64_t row0, uint64_t nrows)>;
    // `shape` is in PyTorch order (outermost first), like TensorView; it is written reversed as ne[].
    void add_tensor(std::string name, std::vector<uint64_t> shape, DType type, RowProducer produce);
    // Convenience: stores a copy of `bytes` (must be the exact stored size).
    void add_tensor_bytes(std::string name, std::vector<uint64_t> shape, DType type, std::vector<uint8_t> bytes);

    // Writes the file atomically (path.tmp, then rename). Throws gd::Error on failure.
    void write(const std::string& path, unsigned threads = 1) const;

    uint64_t tensor_count() const { return tensors_.size(); }
    // Size the file will have.
    uint64_t file_size() const;

private:
    struct Pending {
        std::string name;
        std::vector<uint64_t> shape;
        DType type;
        uint64_t row_elems;
        uint64_t rows;
        uint64_t row_bytes;
        uint64_t nbytes;
        RowProducer produce;
    };
    std::vector<uint8_t> header_bytes(std::vector<uint64_t>* offsets) const;

    uint64_t alignment_;
    std::vector<std::pair<std::string, GgufValue>> kv_;
    std::vector<Pending> tensors_;
};

}  // namespace gd
