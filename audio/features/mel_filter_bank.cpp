// The HTK mel filter bank, built with the same double operations, in the same order, as
// transformers' audio_utils.mel_filter_bank(num_frequency_bins=257, num_mel_filters=128,
// min_frequency=0, max_frequency=8000, sampling_rate=16000, norm=None, mel_scale="htk"), so that
// the weights agree to the last bit or so (libm's log10/pow against numpy's may differ by an ulp).
#include <algorithm>
#include <cmath>
#include <vector>

#include "audio/features/log_mel.h"

namespace gd {

namespace {

constexpr double kMinFrequency = 0.0;
constexpr double kMaxFrequency = 8000.0;
constexpr double kSampleRate = 16000.0;

double hertz_to_mel(double hz) { return 2595.0 * std::log10(1.0 + hz / 700.0); }
double mel_to_hertz(double mel) { return 700.0 * (std::pow(10.0, mel / 2595.0) - 1.0); }

// numpy.linspace(start, stop, num) with endpoint: i * ((stop - start) / (num - 1)) + start, and the
// last value set to stop exactly.
std::vector<double> linspace(double start, double stop, int64_t num) {
    std::vector<double> y(static_cast<size_t>(num));
    const double step = (stop - start) / double(num - 1);
    for (int64_t i = 0; i < num; ++i) y[size_t(i)] = double(i) * step + start;
    y[size_t(num - 1)] = stop;
    return y;
}

std::vector<double> build() {
    // Centres of the 128 triangles plus the two outer edges, equally spaced in mel.
    const std::vector<double> mels = linspace(hertz_to_mel(kMinFrequency), hertz_to_mel(kMaxFrequency), kMelBins + 2);
    std::vector<double> edge(mels.size());
    for (size_t i = 0; i < mels.size(); ++i) edge[i] = mel_to_hertz(mels[i]);
    // Bin k of the 512-point FFT lies at k * 31.25 Hz (linspace(0, sampling_rate // 2, 257)).
    const std::vector<double> bin_hz = linspace(0.0, double(int64_t(kSampleRate) / 2), kMelFrequencyBins);

    std::vector<double> fb(static_cast<size_t>(kMelFrequencyBins * kMelBins));
    for (int64_t k = 0; k < kMelFrequencyBins; ++k) {
        for (int64_t j = 0; j < kMelBins; ++j) {
            const size_t m = size_t(j);
            // Rising edge (bin - left) / (centre - left), falling edge (right - bin) / (right - centre);
            // the reference forms the rising numerator as -(left - bin), which is the same double.
            const double down = -(edge[m] - bin_hz[size_t(k)]) / (edge[m + 1] - edge[m]);
            const double up = (edge[m + 2] - bin_hz[size_t(k)]) / (edge[m + 2] - edge[m + 1]);
            fb[size_t(k * kMelBins + j)] = std::max(0.0, std::min(down, up));
        }
    }
    return fb;
}

}  // namespace

const std::vector<double>& mel_filter_bank() {
    static const std::vector<double> fb = build();
    return fb;
}

}  // namespace gd
