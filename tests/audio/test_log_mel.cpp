// The log-mel front end against transformers' Gemma4AudioFeatureExtractor (tests/data/audio/features,
// made by tools/reference/dump_audio_features.py; each case stores the exact float32 samples fed to
// the extractor).
//
// Tolerance, from the arithmetic. Every stored case has two outputs:
//  * "features": the reference proper. numpy >= 2 computes rfft of the float32 frames in float32
//    (complex64) and rounds |X| to float32; everything after (mel product, +0.001, ln) is double.
//  * "features_f64fft": the same extractor with rfft computed in double: the pipeline we implement.
// Both results and ours are one double value rounded to float at the end, so two of them differ by at
// most one float ulp of the larger magnitude plus whatever their double values differ by. With
// m = sum_k |X_k| w_kj (the mel value, y = ln(m + 0.001)), a perturbation dm gives dy <= dm / (m + 0.001).
// The perturbations of m come from:
//  * the FFT: an FFT of length N = 512 in unit roundoff u errs per bin by at most about
//    u * log2(N) * ||x||_2 (one rounding per butterfly stage, each on values whose size is set by the
//    frame's energy ||x||_2; linear accumulation over the 9 stages, a worst case of the usual
//    sqrt(log2 N) random-walk estimate), and filter j sums |X_k| with weights adding up to S_j, so
//    dm <= u * log2(N) * ||x||_2 * S_j;
//  * rounding |X_k| to the FFT's precision: dm <= u * m.
// So |ours - theirs| <= ulp + u * (m + log2(N) ||x||_2 S_j) / (m + 0.001), with u = 2^-24 against the
// reference and u = 2^-53 against the double-FFT twin (where the bound is 1 float ulp to within ~1e-10).
// Summation order of the mel product (sparse here, dense BLAS there) is a double-level effect covered
// by the same term. On this data (transformers 5.23, numpy 2.4) ours equals the double-FFT twin bit
// for bit; against the reference every difference is at most 4.8e-7 (1 ulp of values in [4, 8)), and
// where it exceeds 1 ulp of the value itself, the excess is at most ~0.22 of the FFT term. Digital
// silence is exactly ln(0.001) in float everywhere.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <limits>
#include <numbers>
#include <string>
#include <thread>
#include <vector>

#include "audio/features/log_mel.h"
#include "audio/features/real_fft.h"
#include "support/test_support.h"

namespace gd {
namespace {

const char* kCases = "audio/features/log_mel_cases.json";

std::map<std::string, std::vector<float>> case_tensors(const std::string& file) {
    return test::data_tensors("audio/features/" + file);
}

double float_ulp(double v) {
    const float a = float(std::fabs(v));
    return double(std::nextafter(a, std::numeric_limits<float>::infinity())) - double(a);
}

// The windowed frame's L2 norm, as the FFT sees it (float32 product of sample and window).
std::vector<double> frame_norms(const std::vector<float>& x, int64_t frames) {
    std::vector<double> norms(static_cast<size_t>(frames));
    for (int64_t i = 0; i < frames; ++i) {
        double s = 0;
        for (int64_t t = 0; t < kMelFrameLength; ++t) {
            const int64_t at = i * kMelHopLength - kMelFrameLength / 2 + t;
            const double n = double(2 * t - kMelFrameLength);
            const float w = float(0.5 + 0.5 * std::cos(std::numbers::pi * n / double(kMelFrameLength)));
            const double v = at < 0 ? 0.0 : double(x[size_t(at)] * w);
            s += v * v;
        }
        norms[size_t(i)] = std::sqrt(s);
    }
    return norms;
}

std::vector<double> filter_sums() {
    std::vector<double> s(size_t(kMelBins), 0.0);
    const std::vector<double>& fb = mel_filter_bank();
    for (int64_t k = 0; k < kMelFrequencyBins; ++k)
        for (int64_t j = 0; j < kMelBins; ++j) s[size_t(j)] += fb[size_t(k * kMelBins + j)];
    return s;
}

struct Diff {
    double max_abs = 0, max_rel = 0, worst_share = 0;  // worst_share: largest |diff| / tolerance
    int64_t differing = 0, failures = 0;
};

// Compares rows of ours against theirs with the bound above; `rows` maps compared row r to its frame.
Diff compare(const float* ours, const float* theirs, const std::vector<int64_t>& rows, const std::vector<double>& norms,
             double u) {
    static const std::vector<double> S = filter_sums();
    const double log2n = std::log2(double(kMelFftLength));
    Diff d;
    for (size_t r = 0; r < rows.size(); ++r) {
        for (int64_t j = 0; j < kMelBins; ++j) {
            const double a = ours[r * kMelBins + size_t(j)], b = theirs[r * kMelBins + size_t(j)];
            const double m = std::max(std::exp(a) - 1e-3, 0.0);
            const double tol = float_ulp(std::max(std::fabs(a), std::fabs(b))) +
                               u * (m + log2n * norms[size_t(rows[r])] * S[size_t(j)]) / (m + 1e-3);
            const double diff = std::fabs(a - b);
            d.max_abs = std::max(d.max_abs, diff);
            if (b != 0) d.max_rel = std::max(d.max_rel, diff / std::fabs(b));
            d.worst_share = std::max(d.worst_share, diff / tol);
            d.differing += diff != 0;
            if (diff > tol && d.failures++ < 5)
                ADD_FAILURE() << "frame " << rows[r] << " bin " << j << ": ours " << a << ", theirs " << b
                              << ", tolerance " << tol;
        }
    }
    return d;
}

constexpr double kFloatFftRoundoff = 0x1p-24;   // the reference's rfft of float32 input
constexpr double kDoubleFftRoundoff = 0x1p-53;  // ours, and the double-FFT twin

void report(const std::string& name, const char* against, const Diff& d, size_t elements) {
    std::printf("  %-13s vs %-9s max abs %.3g, max rel %.3g, %lld/%zu differ, worst %.2f of tolerance\n",
                name.c_str(), against, d.max_abs, d.max_rel, (long long)d.differing, elements, d.worst_share);
}

TEST(LogMel, FrameCounts) {
    EXPECT_EQ(audio_frame_count(-1), 0);
    EXPECT_EQ(audio_frame_count(0), 0);
    EXPECT_EQ(audio_frame_count(160), 0);
    EXPECT_EQ(audio_frame_count(161), 1);
    EXPECT_EQ(audio_frame_count(320), 1);
    EXPECT_EQ(audio_frame_count(321), 2);
    EXPECT_EQ(audio_frame_count(480000), 2999);
    // Gemma4Processor._compute_audio_num_tokens (capped at 750, so only lengths up to 30 s are listed).
    for (const auto& row : test::data_json(kCases).at("token_counts")) {
        const int64_t n = row.at(0).get<int64_t>();
        EXPECT_EQ(audio_piece_token_count(n), row.at(1).get<int64_t>()) << n;
    }
}

TEST(LogMel, FilterBankMatchesReference) {
    // A weight is (bin - left) / (centre - left) or (right - bin) / (right - centre), with edges made by
    // log10 and pow, where libm and numpy may differ by an ulp or so. Edge errors of d Hz move a weight
    // (<= 1) by at most 3 d / width; take d = 4 ulps of 8000 Hz and the narrowest slope, the first one.
    const double mel_step = 2595.0 * std::log10(1.0 + 8000.0 / 700.0) / double(kMelBins + 1);
    const double min_width = 700.0 * (std::pow(10.0, mel_step / 2595.0) - 1.0);  // ~13.8 Hz
    const double tol = 3 * 4 * (std::nextafter(8000.0, 1e9) - 8000.0) / min_width;
    const std::vector<double>& fb = mel_filter_bank();
    ASSERT_EQ(fb.size(), size_t(kMelFrequencyBins * kMelBins));
    const auto& ref = test::data_json(kCases).at("mel_filter_bank");
    ASSERT_EQ(ref.size(), size_t(kMelBins));
    int64_t exact = 0;
    double worst = 0;
    for (int64_t j = 0; j < kMelBins; ++j) {
        const int64_t first = ref[size_t(j)].at("first").get<int64_t>();
        const auto& w = ref[size_t(j)].at("weights");
        for (int64_t k = 0; k < kMelFrequencyBins; ++k) {
            const bool inside = k >= first && k < first + int64_t(w.size());
            const double want = inside ? w[size_t(k - first)].get<double>() : 0.0;
            const double got = fb[size_t(k * kMelBins + j)];
            if (!inside) {
                EXPECT_EQ(got, 0.0) << "bin " << k << " filter " << j;
                continue;
            }
            EXPECT_NEAR(got, want, tol) << "bin " << k << " filter " << j;
            worst = std::max(worst, std::fabs(got - want));
            exact += got == want;
        }
    }
    std::printf("  filter bank: max abs diff %.3g (tolerance %.3g); %lld non-zero weights bit-exact\n", worst, tol,
                (long long)exact);
    // The lowest filter (0 to ~28 Hz) falls between bins 0 and 1 (31.25 Hz apart): all zero, as in the
    // reference, so feature 0 is always ln(0.001).
    EXPECT_EQ(ref[0].at("weights").size(), 0u);
    for (int64_t k = 0; k < kMelFrequencyBins; ++k) EXPECT_EQ(fb[size_t(k * kMelBins)], 0.0) << k;
}

TEST(LogMel, RealFftMatchesDirectSum) {
    // libavutil's layout and scale: n/2 + 1 (re, im) pairs, unscaled, e^{-i...} (numpy's rfft). A
    // direct sum in long double is the exact value to ~1e-19; the FFT errs by ~2^-53 log2(n) ||x||_2.
    audio_detail::RealFft fft(static_cast<int>(kMelFftLength));
    std::vector<double> x(static_cast<size_t>(kMelFftLength));
    uint32_t s = 1;
    double norm2 = 0;
    for (double& v : x) {
        s = s * 1664525u + 1013904223u;
        v = double(int32_t(s >> 8) - (1 << 23)) / double(1 << 23);
        norm2 += v * v;
    }
    std::copy(x.begin(), x.end(), fft.input());
    const double* X = fft.forward();
    const double tol = 4 * 0x1p-53 * std::log2(double(kMelFftLength)) * std::sqrt(norm2);
    for (int64_t k = 0; k <= kMelFftLength / 2; ++k) {
        long double re = 0, im = 0;
        for (int64_t t = 0; t < kMelFftLength; ++t) {
            const long double a = -2.0L * 3.14159265358979323846264338327950288L * (long double)((k * t) % kMelFftLength) /
                                  (long double)kMelFftLength;
            re += x[size_t(t)] * std::cos(a);
            im += x[size_t(t)] * std::sin(a);
        }
        EXPECT_NEAR(X[2 * k], double(re), tol) << k;
        EXPECT_NEAR(X[2 * k + 1], double(im), tol) << k;
    }
}

TEST(LogMel, MatchesReference) {
    const auto& doc = test::data_json(kCases);
    for (const auto& c : doc.at("cases")) {
        const std::string name = c.at("name").get<std::string>();
        SCOPED_TRACE(name);
        auto t = case_tensors(c.at("file").get<std::string>());
        const std::vector<float>& x = t.at("samples");
        ASSERT_EQ(int64_t(x.size()), c.at("samples").get<int64_t>());
        // The reference pads to a multiple of 128 samples; its mask (checked by the dump script to be
        // a prefix) keeps exactly audio_frame_count(n) frames, all we return.
        const int64_t frames = c.at("valid_frames").get<int64_t>();
        EXPECT_EQ(audio_frame_count(int64_t(x.size())), frames);
        EXPECT_GE(c.at("reference_frames").get<int64_t>(), frames);

        const LogMel ours = log_mel_spectrogram(x.data(), x.size());
        ASSERT_EQ(ours.frames, frames);
        ASSERT_EQ(ours.data.size(), size_t(frames * kMelBins));
        ASSERT_EQ(t.at("features").size(), ours.data.size());
        if (frames == 0) continue;

        std::vector<int64_t> rows(static_cast<size_t>(frames));
        for (int64_t i = 0; i < frames; ++i) rows[size_t(i)] = i;
        const std::vector<double> norms = frame_norms(x, frames);
        const Diff twin = compare(ours.data.data(), t.at("features_f64fft").data(), rows, norms, kDoubleFftRoundoff);
        const Diff ref = compare(ours.data.data(), t.at("features").data(), rows, norms, kFloatFftRoundoff);
        report(name, "f64 twin", twin, ours.data.size());
        report(name, "reference", ref, ours.data.size());
    }
}

TEST(LogMel, SilenceIsExactlyLogOffset) {
    // mel = 0 exactly, so every feature is ln(0.001) rounded to float, here and in the reference.
    const float want = float(std::log(1e-3));
    auto t = case_tensors("log_mel_silence.safetensors");
    const LogMel ours = log_mel_spectrogram(t.at("samples").data(), t.at("samples").size());
    ASSERT_GT(ours.frames, 0);
    for (size_t i = 0; i < ours.data.size(); ++i) {
        ASSERT_EQ(ours.data[i], want) << i;
        ASSERT_EQ(t.at("features")[i], want) << i;
    }
}

// tools/reference/dump_audio_features.py long_clip(): LCG noise plus a sawtooth under an envelope that
// is silent one second in five, all integers, divided by 32768 (exact in float).
std::vector<float> long_clip(int64_t n) {
    std::vector<float> out(static_cast<size_t>(n));
    uint32_t state = 12345;
    for (int64_t i = 0; i < n; ++i) {
        state = state * 1664525u + 1013904223u;
        const int32_t top = int16_t(uint16_t(state >> 16));
        const int64_t v = (int64_t(top >> 4) + ((7 * i) % 200 - 100) * 40) * ((i / 16000) % 5);
        out[size_t(i)] = float(double(v) / 32768.0);
    }
    return out;
}

TEST(LogMel, ThirtySecondClip) {
    const auto& c = test::data_json(kCases).at("long");
    const std::vector<float> x = long_clip(c.at("samples").get<int64_t>());
    const LogMel ours = log_mel_spectrogram(x.data(), x.size());
    ASSERT_EQ(ours.frames, c.at("valid_frames").get<int64_t>());
    ASSERT_EQ(ours.frames, 2999);

    const std::vector<int64_t> rows = c.at("rows").get<std::vector<int64_t>>();
    std::vector<float> picked;
    for (int64_t r : rows) picked.insert(picked.end(), ours.data.begin() + r * kMelBins, ours.data.begin() + (r + 1) * kMelBins);
    auto t = case_tensors(c.at("file").get<std::string>());
    const std::vector<double> norms = frame_norms(x, ours.frames);
    const Diff twin = compare(picked.data(), t.at("features_f64fft").data(), rows, norms, kDoubleFftRoundoff);
    const Diff ref = compare(picked.data(), t.at("features").data(), rows, norms, kFloatFftRoundoff);
    report("long (rows)", "f64 twin", twin, picked.size());
    report("long (rows)", "reference", ref, picked.size());

    // The sum of all 2999 x 128 features: each differs from the twin's by at most one float ulp (the
    // double-level term is ~1e-10 of it), so the sums differ by at most the sum of those ulps.
    double sum = 0, ulps = 0;
    for (float v : ours.data) {
        sum += v;
        ulps += float_ulp(v);
    }
    EXPECT_NEAR(sum, c.at("sum_features_f64fft").get<double>(), ulps);
    std::printf("  long sum: ours %.9g, f64 twin %.9g, reference %.9g (bound %.3g)\n", sum,
                c.at("sum_features_f64fft").get<double>(), c.at("sum_features").get<double>(), ulps);
}

TEST(LogMel, ShortInputsGiveNoFrames) {
    EXPECT_EQ(log_mel_spectrogram(nullptr, 0).frames, 0);
    const std::vector<float> x(160, 0.25f);
    const LogMel m = log_mel_spectrogram(x.data(), x.size());
    EXPECT_EQ(m.frames, 0);
    EXPECT_TRUE(m.data.empty());
}

TEST(LogMel, SameResultOnWorkerThreads) {
    // One transform context per thread: concurrent calls must not disturb each other.
    auto t = case_tensors("log_mel_speech.safetensors");
    const std::vector<float>& x = t.at("samples");
    const LogMel want = log_mel_spectrogram(x.data(), x.size());
    std::vector<LogMel> got(4);
    std::vector<std::thread> threads;
    for (LogMel& g : got) threads.emplace_back([&x, &g] {
        for (int r = 0; r < 3; ++r) g = log_mel_spectrogram(x.data(), x.size());
    });
    for (std::thread& th : threads) th.join();
    for (const LogMel& g : got) {
        ASSERT_EQ(g.frames, want.frames);
        EXPECT_TRUE(g.data == want.data);
    }
}

}  // namespace
}  // namespace gd
