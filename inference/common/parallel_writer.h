#pragma once
// Writes a large file from independent pieces produced on several threads. Each piece is generated
// into a bounded buffer and written with pwrite at its offset, so memory stays small whatever the
// file size, and the output is byte-identical whatever the thread count.
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace gd {

struct FilePiece {
    uint64_t offset = 0;
    uint64_t nbytes = 0;
    std::function<void(uint8_t* dst)> fill;  // writes exactly nbytes; must be thread-safe
};

// Writes `path` atomically: the data goes to `path`.tmp, which is renamed over `path` at the end.
// Gaps between pieces are zero. Reserves the whole size first, so a full disk is an error up front.
// Throws gd::Error (with the OS reason) on failure and removes the temporary file.
void write_file_in_pieces(const std::string& path, uint64_t total_size, const std::vector<FilePiece>& pieces,
                          unsigned threads);

unsigned default_thread_count();

// Appends pieces of about 8 MiB (whole rows) covering `rows` rows of `row_bytes` bytes at `offset`;
// each fills its rows with produce(dst, first_row, row_count). `produce` must outlive the write.
using RowFill = std::function<void(uint8_t* dst, uint64_t row0, uint64_t nrows)>;
void append_row_pieces(std::vector<FilePiece>& pieces, uint64_t offset, uint64_t rows, uint64_t row_bytes,
                       const RowFill& produce);

}  // namespace gd
