// 16-bit PCM WAV writing: the canonical 44-byte header (RIFF, a 16-byte "fmt " chunk, "data"),
// which every player and FFmpeg read.
#include "audio/io/wav_file.h"

#include <fcntl.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <limits>

#include "common/error.h"

namespace gd {

namespace {

void put_le(std::vector<uint8_t>& out, uint32_t value, int bytes) {
    for (int i = 0; i < bytes; ++i) out.push_back(static_cast<uint8_t>(value >> (8 * i)));
}

void put_tag(std::vector<uint8_t>& out, const char* tag) { out.insert(out.end(), tag, tag + 4); }

// Scaled by 32768, not 32767: decoders (FFmpeg, libsndfile, torchaudio) read a sample as v/32768,
// so a value written here comes back within half a step; +1.0 is the one value that clips (to
// 32767/32768). NaN, which has no meaningful level, is written as silence.
int16_t to_pcm16(float x) {
    if (!(x == x)) return 0;
    const float scaled = std::round(std::fmax(-1.0f, std::fmin(1.0f, x)) * 32768.0f);
    return static_cast<int16_t>(std::fmin(scaled, 32767.0f));
}

bool write_all(int fd, const uint8_t* data, size_t size) {
    while (size > 0) {
        const ssize_t n = ::write(fd, data, size);
        if (n < 0) {
            if (errno == EINTR) continue;
            return false;
        }
        data += n;
        size -= static_cast<size_t>(n);
    }
    return true;
}

}  // namespace

std::vector<uint8_t> encode_wav_pcm16(const float* samples, size_t count, int sample_rate, int channels) {
    if (channels < 1 || channels > 32767 || sample_rate < 1) {
        throw Error("WAV: unsupported format (" + std::to_string(channels) + " channels at " +
                    std::to_string(sample_rate) + " Hz)");
    }
    if (count % static_cast<size_t>(channels) != 0) throw Error("WAV: the sample count is not a multiple of the channels");
    if (count > 0 && !samples) throw Error("WAV: no samples given");
    const uint64_t data_bytes = uint64_t{count} * 2;
    const uint64_t byte_rate = uint64_t(sample_rate) * uint64_t(channels) * 2;
    constexpr uint64_t kMax = std::numeric_limits<uint32_t>::max();
    if (data_bytes > kMax - 36) throw Error("WAV: the recording is too long for a WAV file (4 GB)");
    if (byte_rate > kMax) throw Error("WAV: the sample rate is too high");

    std::vector<uint8_t> out;
    out.reserve(44 + static_cast<size_t>(data_bytes));
    put_tag(out, "RIFF");
    put_le(out, static_cast<uint32_t>(36 + data_bytes), 4);
    put_tag(out, "WAVE");
    put_tag(out, "fmt ");
    put_le(out, 16, 4);  // chunk size
    put_le(out, 1, 2);   // PCM
    put_le(out, static_cast<uint32_t>(channels), 2);
    put_le(out, static_cast<uint32_t>(sample_rate), 4);
    put_le(out, static_cast<uint32_t>(byte_rate), 4);
    put_le(out, static_cast<uint32_t>(channels * 2), 2);  // block align
    put_le(out, 16, 2);                                    // bits per sample
    put_tag(out, "data");
    put_le(out, static_cast<uint32_t>(data_bytes), 4);
    for (size_t i = 0; i < count; ++i) put_le(out, static_cast<uint16_t>(to_pcm16(samples[i])), 2);
    return out;
}

void write_wav_file(const std::string& path, const float* samples, size_t count, int sample_rate, int channels) {
    const std::vector<uint8_t> bytes = encode_wav_pcm16(samples, count, sample_rate, channels);
    // The temporary file sits beside the target so rename() is atomic: readers see the old file
    // or the whole new one, never a half-written recording. The name is unique per process and
    // call; O_EXCL guards against another process using the same one.
    static std::atomic<unsigned> counter{0};
    const std::string tmp = path + ".tmp." + std::to_string(::getpid()) + "." + std::to_string(counter++);
    const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
    if (fd < 0) throw Error(path + ": cannot be written (" + std::strerror(errno) + ")");
    bool ok = write_all(fd, bytes.data(), bytes.size()) && ::fsync(fd) == 0;
    int err = ok ? 0 : errno;
    if (::close(fd) != 0 && ok) {
        ok = false;
        err = errno;
    }
    if (!ok) {
        ::unlink(tmp.c_str());
        throw Error(path + ": cannot be written (" + std::strerror(err) + ")");
    }
    if (::rename(tmp.c_str(), path.c_str()) != 0) {
        const int e = errno;
        ::unlink(tmp.c_str());
        throw Error(path + ": cannot be written (" + std::strerror(e) + ")");
    }
}

}  // namespace gd
