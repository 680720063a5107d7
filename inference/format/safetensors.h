#pragma once
// safetensors reader: one file, or a sharded checkpoint described by model.safetensors.index.json.
// Files are memory-mapped; the JSON header is parsed with nlohmann::json and every offset is checked
// against the file size (untrusted input: a corrupt file is a FormatError, never a crash).
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/mapped_file.h"
#include "format/tensor_view.h"

namespace gd {

// Rules of parse() (all violations are FormatError naming the file and, where one is involved, the
// tensor): 8-byte little-endian header length N with N ≤ 100 MiB and N ≤ size − 8; the header is one
// JSON object (trailing whitespace allowed) without duplicate keys; "__metadata__" is an optional
// string→string map; every other key is a tensor {"dtype", "shape", "data_offsets"} with a plain
// dtype (F64 F32 F16 BF16 I64 I32 I16 I8 U8 U16 U32 U64 BOOL), non-negative integer dimensions whose
// product times the element size fits in 64 bits, and offsets [begin, end] relative to the data start
// with begin ≤ end ≤ data size and end − begin equal to the tensor's byte size; the byte ranges of two
// tensors may not overlap. Unlike the Python library, gaps between tensors and bytes after the last one
// are accepted. tensors() is in offset order (ties: by end, then name). Tensor data is not guaranteed
// to be aligned (the writer aligns it; other writers may not).
class SafetensorsFile {
public:
    static SafetensorsFile open(const std::string& path);
    static SafetensorsFile parse(std::span<const uint8_t> bytes, std::string name,
                                 std::shared_ptr<const MappedFile> keepalive = nullptr);

    const std::string& path() const { return name_; }
    uint64_t file_size() const { return bytes_.size(); }
    const std::vector<TensorView>& tensors() const { return tensors_; }
    const TensorView* find(std::string_view name) const;
    const std::map<std::string, std::string>& header_metadata() const { return metadata_; }  // "__metadata__"
    // Byte offset in the file where tensor data begins (8 + header length); data_offsets count from here.
    uint64_t data_start() const { return data_start_; }

private:
    std::shared_ptr<const MappedFile> keepalive_;
    std::span<const uint8_t> bytes_;
    std::string name_;
    std::vector<TensorView> tensors_;
    std::map<std::string, size_t, std::less<>> index_;
    std::map<std::string, std::string> metadata_;
    uint64_t data_start_ = 0;
};

// All tensors of a checkpoint folder or file: `path` is a .safetensors file, a
// model.safetensors.index.json, or a folder holding either. Shards listed in the index must exist and
// hold the tensors the index says; a tensor name appearing twice is an error.
//
// Resolution of `path`: a folder holding model.safetensors opens that file (as transformers does, it
// wins over an index next to it); else a folder holding model.safetensors.index.json opens the index;
// a path ending in ".json" is an index; anything else is one .safetensors file. Shard names in the
// index's "weight_map" must be plain file names in the index's folder (no '/', '\\', "." or "..").
// Files are kept in shard-name order. A tensor found in a shard but missing from the index is
// included (find() and tensors() see it) and listed by unindexed(), so a tool can warn about it; an
// index entry whose shard lacks the tensor is a FormatError.
class SafetensorsCheckpoint {
public:
    static SafetensorsCheckpoint open(const std::string& path);

    const std::string& path() const { return path_; }              // as resolved: the file or the index
    bool sharded() const { return sharded_; }                        // opened through an index
    const std::vector<std::string>& unindexed() const { return unindexed_; }  // in shards, not in index

    const std::vector<SafetensorsFile>& files() const { return files_; }
    const TensorView* find(std::string_view name) const;
    std::vector<const TensorView*> tensors() const;  // in file order
    const std::string& file_of(std::string_view tensor_name) const;

private:
    std::vector<SafetensorsFile> files_;
    std::map<std::string, std::pair<size_t, size_t>, std::less<>> index_;  // name -> (file, tensor)
    std::string path_;
    bool sharded_ = false;
    std::vector<std::string> unindexed_;
};

// Writes one safetensors file (used by make-test-model). Tensors are produced by callbacks so large
// files stream. Throws gd::Error on I/O failure.
//
// Layout as the Python library writes it: the header is compact JSON with "__metadata__" first (when
// `metadata` is not empty; its keys sorted) and then the tensors in data order, which is by element
// size descending (8-, 4-, 2-, 1-byte types, so every tensor is aligned to its element size) and then
// by name; the header is padded with spaces to a multiple of 8 bytes. The file is written to
// path + ".tmp", synced and renamed over `path`; on any failure the .tmp file is removed.
// `produce` is called once per tensor with nbytes = elements × element size on a zero-filled buffer
// (not called for zero-size tensors; a null `produce` leaves the tensor zero). Names must be unique,
// non-empty, valid UTF-8 and not "__metadata__"; the type must be a plain safetensors type.
struct SafetensorsWriteTensor {
    std::string name;
    DType type;
    std::vector<uint64_t> shape;
    // Fills the whole tensor (nbytes bytes). For small tensors; nullptr leaves the tensor zero.
    std::function<void(uint8_t* dst, uint64_t nbytes)> produce;
    // Alternative for large tensors: fills rows [row0, row0 + nrows), a row being the innermost
    // dimension. Called from several threads for different rows, so the whole tensor never needs to
    // be in memory. Used instead of `produce` when set.
    std::function<void(uint8_t* dst, uint64_t row0, uint64_t nrows)> produce_rows;
};
// `threads` > 1 produces tensors (and row ranges) in parallel; the file is the same either way.
void write_safetensors(const std::string& path, const std::vector<SafetensorsWriteTensor>& tensors,
                       const std::map<std::string, std::string>& metadata = {}, unsigned threads = 1);

}  // namespace gd
