#pragma once
// The audio front end exactly as the reference (transformers' Gemma4AudioFeatureExtractor, spec §4.2):
// 16 kHz mono, 160 zeros prepended ("semicausal"), 321-sample frames every 160 samples with the last
// sample dropped, periodic Hann(320), a 512-point real FFT (libavutil's tx, double precision, as numpy's
// rfft), magnitude, 128 HTK mel filters 0-8000 Hz without normalisation (built and applied in double),
// ln(mel + 0.001). Output cast to float, as the reference does.
#include <cstddef>
#include <cstdint>
#include <vector>

namespace gd {

constexpr int64_t kMelBins = 128;
constexpr int64_t kMelFrameLength = 320;   // 20 ms
constexpr int64_t kMelHopLength = 160;     // 10 ms
constexpr int64_t kMelFftLength = 512;
constexpr int64_t kMelFrequencyBins = kMelFftLength / 2 + 1;  // 257

struct LogMel {
    int64_t frames = 0;
    std::vector<float> data;  // [frames, kMelBins] row-major
};

// Frames of a clip of n samples: floor((n + 160 - 321) / 160) + 1, 0 when n < 161. Every one of them
// lies wholly inside the clip (the reference's "valid" mask is all true for an unpadded clip).
int64_t audio_frame_count(int64_t samples);
// Soft tokens the encoder makes of a clip of n samples (one piece, n <= kAudioPieceSamples):
// ceil(ceil(frames / 2) / 2), i.e. one per 40 ms (spec §4.7).
int64_t audio_piece_token_count(int64_t samples);

// The log-mel spectrogram of one piece (samples at 16 kHz). n may be anything; n < 161 gives 0 frames.
LogMel log_mel_spectrogram(const float* samples, size_t n);

// The filter bank [kMelFrequencyBins, kMelBins] row-major, as transformers' mel_filter_bank(htk, norm None).
const std::vector<double>& mel_filter_bank();

}  // namespace gd
