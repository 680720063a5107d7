#pragma once
// Decoded frames of any sample format, rate and channel layout in, 16 kHz mono float out, appended
// to one growing vector. The libswresample context is made from the first frame and remade when a
// stream changes its format midway (chained Ogg, MP3 with a rate switch), after draining the old
// one so no samples are lost at the seam.
#include <cstddef>
#include <vector>

extern "C" {
#include <libavutil/channel_layout.h>
#include <libavutil/samplefmt.h>
}

struct AVFrame;
struct SwrContext;

namespace gd::audio_detail {

class MonoResampler {
public:
    explicit MonoResampler(std::vector<float>& out) : out_(out) {}
    ~MonoResampler();
    MonoResampler(const MonoResampler&) = delete;
    MonoResampler& operator=(const MonoResampler&) = delete;

    // Converts one frame and appends the result. Returns false for a frame that cannot be
    // converted (no channels, a rate outside 1 kHz..1 MHz, more channels than libswresample
    // mixes); the caller counts it like a packet that failed to decode.
    bool push(const AVFrame* frame);
    // Appends what the resampler still holds (its filter delay) at the end of the stream.
    void flush();

private:
    bool configure(const AVFrame* frame);
    void drain();
    void scrub(size_t from);

    std::vector<float>& out_;
    SwrContext* swr_ = nullptr;
    AVChannelLayout layout_{};
    AVSampleFormat format_ = AV_SAMPLE_FMT_NONE;
    int rate_ = 0;
};

}  // namespace gd::audio_detail
