// The log-mel spectrogram of transformers' Gemma4AudioFeatureExtractor._extract_spectrogram, step by
// step with the same precision at each step: samples and window in float32, their product in float32
// (numpy multiplies two float32 arrays in float32), the FFT in double, magnitude, mel product and log
// in double, the result rounded to float once at the end.
//
// One deliberate difference: numpy >= 2 computes rfft of a float32 array in float32 (complex64), so
// the reference's spectrum carries float32 rounding; ours is the double transform of the same float32
// frame, i.e. closer to the exact value. tests/audio/test_log_mel.cpp bounds the difference.
#include "audio/features/log_mel.h"

#include <algorithm>
#include <cmath>
#include <numbers>

#include "audio/features/real_fft.h"

namespace gd {

namespace {

constexpr int64_t kFrameSpan = kMelFrameLength + 1;  // 321: the reference cuts 321 and drops the last
constexpr int64_t kLeftPad = kMelFrameLength / 2;    // 160 zeros, "semicausal"
constexpr double kLogOffset = 1e-3;                  // ln(mel + 0.001): an offset, not a floor

// window_function(320) = numpy.hanning(321)[:-1] = 0.5 + 0.5 cos(pi (2t - 320) / 320) in double,
// then .astype(float32).
const std::vector<float>& hann_window() {
    static const std::vector<float> w = [] {
        std::vector<float> v(static_cast<size_t>(kMelFrameLength));
        for (int64_t t = 0; t < kMelFrameLength; ++t) {
            const double n = double(2 * t - kMelFrameLength);
            v[size_t(t)] = float(0.5 + 0.5 * std::cos(std::numbers::pi * n / double(kMelFrameLength)));
        }
        return v;
    }();
    return w;
}

// Each triangle covers only a few FFT bins, so the [257, 128] product is done over the non-zero
// range of each filter (about 2 x 257 terms per frame instead of 257 x 128). Skipped terms are exact
// zeros, so only the summation order differs from the reference's dense matmul.
struct SparseFilter {
    int64_t first = 0;
    std::vector<double> weights;  // bins first, first + 1, ...
};

const std::vector<SparseFilter>& sparse_filters() {
    static const std::vector<SparseFilter> filters = [] {
        const std::vector<double>& fb = mel_filter_bank();
        std::vector<SparseFilter> out(static_cast<size_t>(kMelBins));
        for (int64_t j = 0; j < kMelBins; ++j) {
            int64_t lo = kMelFrequencyBins, hi = 0;
            for (int64_t k = 0; k < kMelFrequencyBins; ++k) {
                if (fb[size_t(k * kMelBins + j)] != 0.0) {
                    lo = std::min(lo, k);
                    hi = k + 1;
                }
            }
            SparseFilter& f = out[size_t(j)];
            f.first = lo < hi ? lo : 0;
            for (int64_t k = f.first; k < hi; ++k) f.weights.push_back(fb[size_t(k * kMelBins + j)]);
        }
        return out;
    }();
    return filters;
}

}  // namespace

int64_t audio_frame_count(int64_t samples) {
    if (samples < kFrameSpan - kLeftPad) return 0;
    return (samples + kLeftPad - kFrameSpan) / kMelHopLength + 1;
}

int64_t audio_piece_token_count(int64_t samples) {
    // Two stride-2 convolutions (kernel 3, padding 1) over time: each makes ceil(T / 2) of T frames.
    const int64_t frames = audio_frame_count(samples);
    const int64_t after_first = (frames + 1) / 2;
    return (after_first + 1) / 2;
}

LogMel log_mel_spectrogram(const float* samples, size_t n) {
    LogMel out;
    out.frames = audio_frame_count(int64_t(n));
    out.data.resize(size_t(out.frames * kMelBins));
    if (out.frames == 0) return out;

    // The transform context is made once per thread: this runs on worker threads, and a tx context
    // must not be shared between concurrent calls.
    thread_local audio_detail::RealFft fft(static_cast<int>(kMelFftLength));
    const std::vector<float>& window = hann_window();
    const std::vector<SparseFilter>& filters = sparse_filters();
    double* in = fft.input();
    std::vector<double> magnitude(static_cast<size_t>(kMelFrequencyBins));

    for (int64_t i = 0; i < out.frames; ++i) {
        // Sample t of frame i sits at i * 160 + t in the zero-padded signal, i.e. at i * 160 + t - 160
        // in the clip; every frame counted by audio_frame_count ends inside the clip.
        const int64_t start = i * kMelHopLength - kLeftPad;
        for (int64_t t = 0; t < kMelFrameLength; ++t) {
            const int64_t s = start + t;
            const float x = s < 0 ? 0.0f : samples[s];
            in[t] = double(x * window[size_t(t)]);  // float32 product, as the reference
        }
        for (int64_t t = kMelFrameLength; t < kMelFftLength; ++t) in[t] = 0.0;  // rfft(n=512) pads
        const double* X = fft.forward();
        for (int64_t k = 0; k < kMelFrequencyBins; ++k) {
            const double re = X[2 * k], im = X[2 * k + 1];
            // numpy's abs uses hypot; sqrt of the sum of squares differs by at most an ulp of a double
            // here (no overflow or underflow is possible for these magnitudes) and is much faster.
            magnitude[size_t(k)] = std::sqrt(re * re + im * im);
        }
        float* row = out.data.data() + i * kMelBins;
        for (int64_t j = 0; j < kMelBins; ++j) {
            const SparseFilter& f = filters[size_t(j)];
            double mel = 0.0;
            for (size_t q = 0; q < f.weights.size(); ++q) mel += magnitude[size_t(f.first) + q] * f.weights[q];
            row[j] = float(std::log(mel + kLogOffset));
        }
    }
    return out;
}

}  // namespace gd
