#include "audio/io/avio_reader.h"

extern "C" {
#include <libavformat/avio.h>
#include <libavutil/error.h>
#include <libavutil/mem.h>
}

#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <new>

namespace gd::audio_detail {

namespace {
// FFmpeg's own file protocol uses 32 KiB; larger buffers do not make in-memory reads faster.
constexpr int kBufferBytes = 32 * 1024;
}  // namespace

AvioReader::AvioReader(const uint8_t* data, uint64_t size) : data_(data), size_(data ? size : 0) { open_context(); }

AvioReader::AvioReader(int fd, uint64_t size) : fd_(fd), size_(size) { open_context(); }

void AvioReader::open_context() {
    auto* buffer = static_cast<uint8_t*>(av_malloc(kBufferBytes));
    if (!buffer) throw std::bad_alloc();
    ctx_ = avio_alloc_context(buffer, kBufferBytes, 0, this, &AvioReader::read, nullptr, &AvioReader::seek);
    if (!ctx_) {
        av_free(buffer);
        throw std::bad_alloc();
    }
}

AvioReader::~AvioReader() {
    // FFmpeg may have replaced the buffer (avio grows it while probing), so free the current one.
    av_freep(&ctx_->buffer);
    avio_context_free(&ctx_);
}

int AvioReader::read(void* opaque, uint8_t* buf, int n) {
    auto* self = static_cast<AvioReader*>(opaque);
    if (n <= 0) return 0;
    if (self->pos_ >= self->size_) return AVERROR_EOF;
    size_t want = static_cast<size_t>(n);
    if (self->size_ - self->pos_ < want) want = static_cast<size_t>(self->size_ - self->pos_);
    if (self->data_) {
        std::memcpy(buf, self->data_ + self->pos_, want);
    } else {
        ssize_t got;
        do {
            got = ::pread(self->fd_, buf, want, static_cast<off_t>(self->pos_));
        } while (got < 0 && errno == EINTR);
        if (got < 0) {
            self->read_failed_ = true;
            return AVERROR(EIO);
        }
        if (got == 0) return AVERROR_EOF;  // the file shrank since its size was taken
        want = static_cast<size_t>(got);
    }
    self->pos_ += want;
    return static_cast<int>(want);
}

int64_t AvioReader::seek(void* opaque, int64_t offset, int whence) {
    auto* self = static_cast<AvioReader*>(opaque);
    const auto size = static_cast<int64_t>(self->size_);  // sizes are far below 2^63
    whence &= ~AVSEEK_FORCE;  // a hint that seeking is cheap; it always is here
    if (whence == AVSEEK_SIZE) return size;
    int64_t base;
    switch (whence) {
        case SEEK_SET: base = 0; break;
        case SEEK_CUR: base = static_cast<int64_t>(self->pos_); break;
        case SEEK_END: base = size; break;
        default: return AVERROR(EINVAL);
    }
    int64_t target;
    // Offsets come from the file being parsed: an overflowing or out-of-range one is refused.
    if (__builtin_add_overflow(base, offset, &target) || target < 0 || target > size) return AVERROR(EINVAL);
    self->pos_ = static_cast<uint64_t>(target);
    return target;
}

}  // namespace gd::audio_detail
