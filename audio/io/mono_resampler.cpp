#include "audio/io/mono_resampler.h"

extern "C" {
#include <libavutil/frame.h>
#include <libswresample/swresample.h>
}

#include <cmath>

#include "audio/io/audio_decode.h"

namespace gd::audio_detail {

namespace {
// libswresample mixes at most 64 channels (SWR_CH_MAX, not in its public header).
constexpr int kMaxChannels = 64;
// Real audio is 8 kHz telephone to 384 kHz studio; a rate far outside is a damaged header, and
// a tiny one would blow each input sample up into thousands of output samples.
constexpr int kMinRate = 1000;
constexpr int kMaxRate = 1'000'000;
}  // namespace

MonoResampler::~MonoResampler() {
    swr_free(&swr_);
    av_channel_layout_uninit(&layout_);
}

bool MonoResampler::configure(const AVFrame* frame) {
    swr_free(&swr_);
    av_channel_layout_uninit(&layout_);
    rate_ = 0;
    const int channels = frame->ch_layout.nb_channels;
    if (channels < 1 || channels > kMaxChannels || frame->sample_rate < kMinRate || frame->sample_rate > kMaxRate) {
        return false;
    }
    const auto format = static_cast<AVSampleFormat>(frame->format);
    if (!av_get_sample_fmt_name(format)) return false;
    // The mix below weighs every channel the same, so which speaker each channel belongs to does
    // not matter: the plain default layout of that many channels stands in for whatever order
    // (or lack of one) the file declared, which libswresample might otherwise refuse.
    AVChannelLayout in{};
    av_channel_layout_default(&in, channels);
    AVChannelLayout mono = AV_CHANNEL_LAYOUT_MONO;  // not const: FFmpeg 5.1 takes both layouts by non-const pointer
    int err = swr_alloc_set_opts2(&swr_, &mono, AV_SAMPLE_FMT_FLT, kAudioSampleRate, &in, format, frame->sample_rate, 0,
                                  nullptr);
    av_channel_layout_uninit(&in);
    if (err < 0 || !swr_) return false;
    // Mono is the mean of the channels, as librosa.to_mono and torchaudio's mean(dim=0) make it
    // for the reference feature extractor. libswresample's own downmix would give stereo
    // 0.707·(L+R) for float output and leave out LFE, so a louder and different signal.
    double weights[kMaxChannels];
    for (int c = 0; c < channels; ++c) weights[c] = 1.0 / channels;
    if (swr_set_matrix(swr_, weights, channels) < 0 || swr_init(swr_) < 0) {
        swr_free(&swr_);
        return false;
    }
    if (av_channel_layout_copy(&layout_, &frame->ch_layout) < 0) {
        swr_free(&swr_);
        return false;
    }
    format_ = format;
    rate_ = frame->sample_rate;
    return true;
}

bool MonoResampler::push(const AVFrame* frame) {
    if (frame->nb_samples <= 0) return true;
    const bool same = swr_ && frame->sample_rate == rate_ && frame->format == format_ &&
                      av_channel_layout_compare(&frame->ch_layout, &layout_) == 0;
    if (!same) {
        if (swr_) drain();
        if (!configure(frame)) return false;
    }
    const int room = swr_get_out_samples(swr_, frame->nb_samples);
    if (room < 0) return false;
    const size_t old = out_.size();
    out_.resize(old + static_cast<size_t>(room));
    auto* dst = reinterpret_cast<uint8_t*>(out_.data() + old);
    const int got = swr_convert(swr_, &dst, room, const_cast<const uint8_t**>(frame->extended_data), frame->nb_samples);
    out_.resize(old + static_cast<size_t>(got > 0 ? got : 0));
    scrub(old);
    return got >= 0;
}

void MonoResampler::scrub(size_t from) {
    // Float PCM can carry NaN and infinities (a damaged or hostile file), and the resampling filter
    // smears them over their neighbours; the feature extractor and the model must only ever see
    // finite numbers, so they become silence.
    for (size_t i = from; i < out_.size(); ++i) {
        if (!std::isfinite(out_[i])) out_[i] = 0.0f;
    }
}

void MonoResampler::drain() {
    for (;;) {
        const int room = swr_get_out_samples(swr_, 0);
        if (room <= 0) return;
        const size_t old = out_.size();
        out_.resize(old + static_cast<size_t>(room));
        auto* dst = reinterpret_cast<uint8_t*>(out_.data() + old);
        const int got = swr_convert(swr_, &dst, room, nullptr, 0);
        out_.resize(old + static_cast<size_t>(got > 0 ? got : 0));
        scrub(old);
        if (got <= 0) return;
    }
}

void MonoResampler::flush() {
    if (swr_) drain();
}

}  // namespace gd::audio_detail
