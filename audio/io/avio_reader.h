#pragma once
// FFmpeg reads audio through this AVIOContext instead of opening files itself: the bytes come
// either from memory (decode_audio_bytes) or from an already opened file read with pread
// (decode_audio_file), so both share one decoding path and FFmpeg never sees a path or URL.
// Every read and seek is bounds-checked against the size fixed when the reader is made.
#include <cstddef>
#include <cstdint>

struct AVIOContext;

namespace gd::audio_detail {

class AvioReader {
public:
    // Reads `size` bytes at `data` (kept, not copied: they must outlive the reader).
    AvioReader(const uint8_t* data, uint64_t size);
    // Reads the first `size` bytes of the open file `fd` (not closed by the reader).
    AvioReader(int fd, uint64_t size);
    ~AvioReader();
    AvioReader(const AvioReader&) = delete;
    AvioReader& operator=(const AvioReader&) = delete;

    AVIOContext* context() const { return ctx_; }
    // True once a read of the file failed (EIO and the like), so the caller can say "cannot be
    // read" instead of "damaged".
    bool read_failed() const { return read_failed_; }

private:
    static int read(void* opaque, uint8_t* buf, int n);
    static int64_t seek(void* opaque, int64_t offset, int whence);
    void open_context();

    const uint8_t* data_ = nullptr;
    int fd_ = -1;
    uint64_t size_ = 0;
    uint64_t pos_ = 0;
    bool read_failed_ = false;
    AVIOContext* ctx_ = nullptr;
};

}  // namespace gd::audio_detail
