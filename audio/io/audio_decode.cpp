// Audio files to 16 kHz mono float. libavformat reads the container through our AvioReader (never
// a path), libavcodec decodes the best audio stream, MonoResampler mixes and resamples it.
//
// Untrusted input is bounded three ways: the file size is checked before anything is read; a
// container that states its length is refused from the header when that is over the limit; and
// decoding stops at the first frame that takes the output past the limit, so a file that hides
// its length (streamed WAV, raw AAC, an MP3 without a Xing header) still costs at most the limit
// plus one frame of memory and time. A packet that fails to decode is skipped; only when nothing
// at all decodes is the file called damaged.
#include "audio/io/audio_decode.h"

extern "C" {
#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
#include <libavutil/error.h>
}

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <memory>
#include <new>

#include "audio/io/avio_reader.h"
#include "audio/io/ffmpeg_policy.h"
#include "audio/io/mono_resampler.h"
#include "common/error.h"

namespace gd {

using namespace audio_detail;

namespace {

// A clip may run this much past the limit and is cut to it rather than refused: encoder padding,
// the resampler's filter tail and rounding add a few milliseconds to a file of exactly the limit.
constexpr double kOutputSlackSeconds = 0.05;
// A length stated in the header is trusted to refuse a file before decoding only when it exceeds
// the limit by more than codec priming and padding could explain.
constexpr double kHeaderSlackSeconds = 0.25;
// After this many failures in a row without a frame, the decoder is asked for nothing more from
// the current packet (a decoder in a bad state must not keep the loop spinning).
constexpr int kMaxErrorsInARow = 8;

struct FormatCloser {
    void operator()(AVFormatContext* f) const { avformat_close_input(&f); }
};
struct CodecCloser {
    void operator()(AVCodecContext* c) const { avcodec_free_context(&c); }
};
struct PacketFree {
    void operator()(AVPacket* p) const { av_packet_free(&p); }
};
struct FrameFree {
    void operator()(AVFrame* f) const { av_frame_free(&f); }
};
struct FdCloser {
    int fd;
    ~FdCloser() { ::close(fd); }
};

[[noreturn]] void fail(const std::string& name, const std::string& what) { throw FormatError(name + ": " + what); }

std::string size_text(uint64_t bytes) {
    char buf[32];
    if (bytes >= (uint64_t{1} << 30)) {
        std::snprintf(buf, sizeof buf, "%.3g GB", static_cast<double>(bytes) / double(uint64_t{1} << 30));
    } else if (bytes >= (uint64_t{1} << 20)) {
        std::snprintf(buf, sizeof buf, "%.3g MB", static_cast<double>(bytes) / double(uint64_t{1} << 20));
    } else {
        std::snprintf(buf, sizeof buf, "%llu bytes", static_cast<unsigned long long>(bytes));
    }
    return buf;
}

// "0.5 s", "12 s", "3 min 20 s", "2 h 3 min": how long a clip is, in words a user reads at once.
std::string duration_text(double seconds) {
    char buf[48];
    if (seconds < 59.95) {
        const double tenths = std::round(seconds * 10);
        if (std::fmod(tenths, 10) == 0) {
            std::snprintf(buf, sizeof buf, "%.0f s", tenths / 10);
        } else {
            std::snprintf(buf, sizeof buf, "%.1f s", tenths / 10);
        }
    } else if (seconds < 3600) {
        const long total = std::lround(seconds);
        if (total % 60 == 0) {
            std::snprintf(buf, sizeof buf, "%ld min", total / 60);
        } else {
            std::snprintf(buf, sizeof buf, "%ld min %ld s", total / 60, total % 60);
        }
    } else {
        const double minutes = std::min(std::round(seconds / 60), 1e12);  // a damaged header can claim anything
        std::snprintf(buf, sizeof buf, "%.0f h %.0f min", std::floor(minutes / 60), std::fmod(minutes, 60));
    }
    return buf;
}

std::string limit_text(double seconds) {
    if (seconds >= 60 && std::fmod(seconds, 60) == 0 && seconds < 1e9) {
        const long minutes = static_cast<long>(seconds / 60);
        return std::to_string(minutes) + (minutes == 1 ? " minute" : " minutes");
    }
    return duration_text(seconds);
}

[[noreturn]] void too_long(const std::string& name, const std::string& length, double max_seconds) {
    fail(name, length + " long; Gemma Desk takes audio up to " + limit_text(max_seconds));
}

size_t samples_for(double seconds) {
    if (!(seconds > 0)) return 0;  // zero, negative or NaN: nothing is allowed
    return static_cast<size_t>(std::min(std::floor(seconds * kAudioSampleRate), 1e15));
}

// The stream's length as the container states it, or a negative number when it is unknown or
// only guessed from the bit rate (which a VBR file or a damaged header can make arbitrarily wrong).
// (FFmpeg writes a bit-rate guess into the stream's duration too, so the method is checked first.)
double stated_seconds(const AVFormatContext* fmt, const AVStream* st) {
    if (fmt->duration_estimation_method == AVFMT_DURATION_FROM_BITRATE) return -1;
    if (st->duration != AV_NOPTS_VALUE && st->duration > 0 && st->time_base.num > 0 && st->time_base.den > 0) {
        return static_cast<double>(st->duration) * av_q2d(st->time_base);
    }
    if (fmt->duration != AV_NOPTS_VALUE && fmt->duration > 0) return static_cast<double>(fmt->duration) / AV_TIME_BASE;
    return -1;
}

// The whole decode, shared by files and memory. `io` supplies the bytes.
DecodedAudio decode_input(AvioReader& io, const std::string& name, const AudioDecodeLimits& limits) {
    quiet_ffmpeg_logs();
    AVFormatContext* raw = avformat_alloc_context();
    if (!raw) throw std::bad_alloc();
    raw->pb = io.context();
    raw->flags |= AVFMT_FLAG_CUSTOM_IO;
    try {
        apply_input_policy(raw);
    } catch (...) {
        avformat_free_context(raw);
        throw;
    }
    // The name goes in as the "URL" only so its extension can break a tie while probing (raw AAC
    // or MP3 without tags); nothing is ever opened by name.
    if (avformat_open_input(&raw, name.c_str(), nullptr, nullptr) < 0) {  // frees raw on failure
        if (io.read_failed()) fail(name, "cannot be read (input/output error)");
        fail(name, "not an audio file FFmpeg can read");
    }
    std::unique_ptr<AVFormatContext, FormatCloser> fmt(raw);

    // Reads ahead (bounded by the policy) for containers that reveal streams only in the packets,
    // such as MPEG-TS, and for the stated duration. A failure here is not fatal: the streams the
    // header listed may still decode.
    avformat_find_stream_info(fmt.get(), nullptr);
    if (io.read_failed()) fail(name, "cannot be read (input/output error)");

    const AVCodec* codec = nullptr;
    const int index = av_find_best_stream(fmt.get(), AVMEDIA_TYPE_AUDIO, -1, -1, &codec, 0);
    if (index == AVERROR_DECODER_NOT_FOUND) {
        const int any = av_find_best_stream(fmt.get(), AVMEDIA_TYPE_AUDIO, -1, -1, nullptr, 0);
        const char* id = any >= 0 ? avcodec_get_name(fmt->streams[any]->codecpar->codec_id) : "unknown";
        fail(name, std::string("its sound is in a format FFmpeg cannot decode (") + id + ")");
    }
    if (index < 0 || !codec) fail(name, fmt->nb_streams ? "the file has no audio track" : "not an audio file FFmpeg can read");
    AVStream* st = fmt->streams[index];
    for (unsigned i = 0; i < fmt->nb_streams; ++i) {
        // Demuxers skip the data of discarded streams: a film's pictures are not even read.
        if (static_cast<int>(i) != index) fmt->streams[i]->discard = AVDISCARD_ALL;
    }

    const size_t max_samples = samples_for(limits.max_seconds);
    const size_t cut_samples = max_samples + samples_for(kOutputSlackSeconds);
    const double stated = stated_seconds(fmt.get(), st);
    if (stated > limits.max_seconds + kHeaderSlackSeconds || (stated > 0 && max_samples == 0)) {
        too_long(name, duration_text(stated), limits.max_seconds);
    }

    std::unique_ptr<AVCodecContext, CodecCloser> dec(avcodec_alloc_context3(codec));
    if (!dec) throw std::bad_alloc();
    if (avcodec_parameters_to_context(dec.get(), st->codecpar) < 0) fail(name, "the audio track's header is damaged");
    dec->pkt_timebase = st->time_base;
    // Audio decodes far faster than real time on one thread; the app already runs decodes on
    // worker threads, and FFmpeg's own threads would only multiply them.
    dec->thread_count = 1;
    if (avcodec_open2(dec.get(), codec, nullptr) < 0) {
        fail(name, std::string("the ") + codec->name + " audio track cannot be decoded; its header is damaged");
    }

    DecodedAudio out;
    out.container = fmt->iformat->name;
    out.codec = avcodec_get_name(st->codecpar->codec_id);
    if (stated > 0) out.samples.reserve(std::min(samples_for(stated) + kAudioSampleRate, cut_samples));

    std::unique_ptr<AVPacket, PacketFree> packet(av_packet_alloc());
    std::unique_ptr<AVFrame, FrameFree> frame(av_frame_alloc());
    if (!packet || !frame) throw std::bad_alloc();
    MonoResampler mono(out.samples);
    size_t frames = 0, failures = 0;

    // Takes every frame the decoder has ready. A failed frame is counted and skipped; after
    // kMaxErrorsInARow failures the rest of the current packet is given up.
    const auto receive = [&] {
        for (int errors = 0; errors < kMaxErrorsInARow;) {
            const int err = avcodec_receive_frame(dec.get(), frame.get());
            if (err == AVERROR(EAGAIN) || err == AVERROR_EOF) return;
            if (err < 0) {
                ++failures;
                ++errors;
                continue;
            }
            if (frames == 0) {
                out.source_rate = frame->sample_rate;
                out.source_channels = frame->ch_layout.nb_channels;
            }
            if (mono.push(frame.get())) {
                ++frames;
                errors = 0;
            } else {
                ++failures;
                ++errors;
            }
            av_frame_unref(frame.get());
            if (out.samples.size() > cut_samples) too_long(name, "more than " + limit_text(limits.max_seconds), limits.max_seconds);
        }
    };

    for (;;) {
        const int err = av_read_frame(fmt.get(), packet.get());
        if (err < 0) break;  // the end, or a damaged or truncated container: keep what decoded
        if (packet->stream_index == index) {
            int sent = avcodec_send_packet(dec.get(), packet.get());
            if (sent == AVERROR(EAGAIN)) {  // the decoder still holds output: take it, then retry once
                receive();
                sent = avcodec_send_packet(dec.get(), packet.get());
            }
            if (sent < 0) ++failures;  // a corrupt packet is skipped
            receive();
        }
        av_packet_unref(packet.get());
    }
    if (io.read_failed()) fail(name, "cannot be read (input/output error)");
    avcodec_send_packet(dec.get(), nullptr);  // drain the decoder's delayed frames
    receive();
    mono.flush();
    if (out.samples.size() > cut_samples) too_long(name, "more than " + limit_text(limits.max_seconds), limits.max_seconds);
    if (out.samples.size() > max_samples) out.samples.resize(max_samples);

    if (frames == 0 || out.samples.empty()) {
        fail(name, failures ? "the audio is damaged or truncated; nothing in it could be decoded"
                            : "the file contains no sound (its audio track is empty)");
    }
    if (out.source_rate == 0) {
        out.source_rate = st->codecpar->sample_rate;
        out.source_channels = st->codecpar->ch_layout.nb_channels;
    }
    out.samples.shrink_to_fit();
    return out;
}

}  // namespace

DecodedAudio decode_audio_bytes(const void* data, size_t size, const std::string& name, const AudioDecodeLimits& limits) {
    if (size == 0 || data == nullptr) fail(name, "the file is empty");
    if (size > limits.max_file_bytes) {
        fail(name, "the file is " + size_text(size) + "; Gemma Desk opens audio files up to " + size_text(limits.max_file_bytes));
    }
    AvioReader io(static_cast<const uint8_t*>(data), size);
    return decode_input(io, name, limits);
}

DecodedAudio decode_audio_file(const std::string& path, const AudioDecodeLimits& limits) {
    std::string name = std::filesystem::path(path).filename().string();
    if (name.empty()) name = path;
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        const int e = errno;
        if (e == ENOENT || e == ENOTDIR) fail(name, "no such file");
        if (e == EACCES || e == EPERM) fail(name, "permission denied; the file cannot be read");
        fail(name, std::string("cannot be opened (") + std::strerror(e) + ")");
    }
    FdCloser closer{fd};
    // The size is checked before anything is read: a huge file costs neither memory nor time.
    // The file is read in place with pread, not copied to memory or mapped (a mapping would
    // crash the app with SIGBUS if the file were truncated while being decoded).
    struct stat info {};
    if (::fstat(fd, &info) != 0) fail(name, std::string("cannot be read (") + std::strerror(errno) + ")");
    if (S_ISDIR(info.st_mode)) fail(name, "a folder, not an audio file");
    if (!S_ISREG(info.st_mode)) fail(name, "not a regular file");  // a FIFO or device would never end
    const auto size = static_cast<uint64_t>(info.st_size);
    if (size == 0) fail(name, "the file is empty");
    if (size > limits.max_file_bytes) {
        fail(name, "the file is " + size_text(size) + "; Gemma Desk opens audio files up to " + size_text(limits.max_file_bytes));
    }
    AvioReader io(fd, size);
    return decode_input(io, name, limits);
}

}  // namespace gd
