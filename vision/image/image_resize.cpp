// Antialiased bicubic resampling, exactly as the reference computes it: the default Gemma 4
// processor calls torchvision's resize(BICUBIC, antialias=True) on the uint8 image, which on the
// CPU runs PyTorch's uint8 kernel (a port of Pillow-SIMD's resampler; the AVX2 and the generic
// fallback kernels do the same integer arithmetic):
//   * separable: a horizontal pass over every input row into a uint8 buffer, then a vertical
//     pass; a pass whose size does not change is skipped;
//   * per output index i, in double: scale = in/out, support = 2 * max(scale, 1), centre =
//     scale * (i + 0.5), taps xmin = max(int(centre - support + 0.5), 0) up to
//     min(int(centre + support + 0.5), in), weight_j = keys((xmin + j - centre + 0.5) * (1 / max(scale, 1)))
//     with Keys' cubic a = -0.5, normalised to sum 1;
//   * the weights of a whole axis become int16 with one shared precision p: the first p in 0..21
//     at which round(max weight * 2^(p+1)) no longer fits in 15 bits (else 22), each weight
//     round-half-away-from-zero(w * 2^p);
//   * each output sample is (2^(p-1) + sum_j w_j * pixel_j) >> p, clamped to 0..255.
// The weight computation below mirrors the reference operation for operation in IEEE double, so
// the int16 weights, and therefore the pixels, are bit-identical.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <string>
#include <vector>

#include "common/error.h"
#include "vision/image/image_preprocess.h"

namespace gd {

namespace {

// Keys' cubic convolution kernel, a = -0.5, written as the reference evaluates it.
double keys_cubic(double x) {
    constexpr double a = -0.5;
    x = std::abs(x);
    if (x < 1.0) return ((a + 2) * x - (a + 3)) * x * x + 1;
    if (x < 2.0) return ((a * x - 5 * a) * x + 8 * a) * x - 4 * a;
    return 0.0;
}

struct AxisTaps {
    int taps = 0;                 // weights stored per output index (the widest footprint)
    int precision = 0;            // fixed-point bits of the weights
    std::vector<int> first;       // first input index per output index
    std::vector<int> count;       // inputs used per output index
    std::vector<int16_t> weight;  // [out][taps]
};

AxisTaps axis_taps(int64_t in, int64_t out) {
    AxisTaps t;
    const double scale = double(in) / double(out);
    const double support = scale >= 1.0 ? 2.0 * scale : 2.0;
    const double invscale = scale >= 1.0 ? 1.0 / scale : 1.0;
    t.taps = int(std::ceil(support)) * 2 + 1;
    t.first.resize(size_t(out));
    t.count.resize(size_t(out));
    std::vector<double> w(size_t(out) * size_t(t.taps), 0.0);
    double w_max = 0.0;
    for (int64_t i = 0; i < out; ++i) {
        const double center = scale * (double(i) + 0.5);
        // Truncation toward zero, as the reference's int64 casts do.
        const int64_t xmin = std::max(static_cast<int64_t>(center - support + 0.5), int64_t{0});
        const int64_t xsize = std::clamp(std::min(static_cast<int64_t>(center + support + 0.5), in) - xmin, int64_t{0},
                                         int64_t{t.taps});
        double* wi = &w[size_t(i) * size_t(t.taps)];
        double total = 0.0;
        for (int64_t j = 0; j < xsize; ++j) {
            wi[j] = keys_cubic((double(j + xmin) - center + 0.5) * invscale);
            total += wi[j];
        }
        if (total != 0.0) {
            for (int64_t j = 0; j < xsize; ++j) {
                wi[j] /= total;
                w_max = std::max(w_max, wi[j]);
            }
        }
        t.first[size_t(i)] = int(xmin);
        t.count[size_t(i)] = int(xsize);
    }
    for (t.precision = 0; t.precision < 22; ++t.precision) {
        if (int(0.5 + w_max * double(1 << (t.precision + 1))) >= (1 << 15)) break;
    }
    t.weight.resize(w.size());
    for (size_t k = 0; k < w.size(); ++k) {
        const double v = w[k] * double(1 << t.precision);
        t.weight[k] = int16_t(v < 0 ? int(-0.5 + v) : int(0.5 + v));
    }
    return t;
}

inline uint8_t to_u8(int32_t acc, int precision) { return uint8_t(std::clamp(acc >> precision, 0, 255)); }

// Rows stay rows; each output pixel mixes `count` neighbouring input pixels of its row. To let
// the compiler vectorise, rows are taken kRows at a time and regrouped column by column (the
// kRows * 3 values of one input column side by side): one output column of the block is then a
// weighted sum of whole regrouped columns, one weight each, like the vertical pass.
// The accumulator cannot overflow int32: |weights| sum to at most ~1.3 * 2^22 and pixels are < 256.
void horizontal(const uint8_t* src, int64_t in_w, int64_t rows, const AxisTaps& t, uint8_t* dst, int64_t out_w) {
    constexpr int64_t kRows = 16, kLanes = kRows * 3;
    const int32_t half = 1 << (t.precision - 1);
    std::vector<uint8_t> cols(static_cast<size_t>(in_w * kLanes));
    for (int64_t y0 = 0; y0 < rows; y0 += kRows) {
        const int64_t n_rows = std::min(kRows, rows - y0);
        for (int64_t r = 0; r < kRows; ++r) {
            uint8_t* c = cols.data() + r * 3;
            if (r >= n_rows) {  // past the last row: zeros, computed and thrown away
                for (int64_t x = 0; x < in_w; ++x) c[x * kLanes] = c[x * kLanes + 1] = c[x * kLanes + 2] = 0;
                continue;
            }
            const uint8_t* s = src + (y0 + r) * in_w * 3;
            for (int64_t x = 0; x < in_w; ++x) {
                c[x * kLanes + 0] = s[x * 3 + 0];
                c[x * kLanes + 1] = s[x * 3 + 1];
                c[x * kLanes + 2] = s[x * 3 + 2];
            }
        }
        for (int64_t x = 0; x < out_w; ++x) {
            const int16_t* w = &t.weight[size_t(x) * size_t(t.taps)];
            const uint8_t* p = cols.data() + int64_t(t.first[size_t(x)]) * kLanes;
            int32_t acc[kLanes];
            for (int64_t k = 0; k < kLanes; ++k) acc[k] = half;
            for (int j = 0, n = t.count[size_t(x)]; j < n; ++j, p += kLanes) {
                const int32_t wj = w[j];
                for (int64_t k = 0; k < kLanes; ++k) acc[k] += wj * p[k];
            }
            for (int64_t r = 0; r < n_rows; ++r) {
                uint8_t* d = dst + ((y0 + r) * out_w + x) * 3;
                d[0] = to_u8(acc[r * 3 + 0], t.precision);
                d[1] = to_u8(acc[r * 3 + 1], t.precision);
                d[2] = to_u8(acc[r * 3 + 2], t.precision);
            }
        }
    }
}

// Each output row is a weighted sum of whole input rows, one weight per row. The row is done in
// chunks of kChunk values with a local accumulator: a loop of known length over memory the
// compiler can see is not aliased vectorises even under -O2's cheap vectoriser.
void vertical(const uint8_t* src, int64_t row_values, const AxisTaps& t, uint8_t* dst, int64_t out_h) {
    constexpr int64_t kChunk = 32;
    const int32_t half = 1 << (t.precision - 1);
    for (int64_t y = 0; y < out_h; ++y) {
        const int16_t* w = &t.weight[size_t(y) * size_t(t.taps)];
        const uint8_t* first_row = src + int64_t(t.first[size_t(y)]) * row_values;
        const int n = t.count[size_t(y)];
        uint8_t* d = dst + y * row_values;
        for (int64_t k0 = 0; k0 < row_values; k0 += kChunk) {
            const int64_t len = std::min(kChunk, row_values - k0);
            int32_t acc[kChunk];
            for (int64_t l = 0; l < kChunk; ++l) acc[l] = half;
            for (int j = 0; j < n; ++j) {
                const uint8_t* s = first_row + j * row_values + k0;
                const int32_t wj = w[j];
                if (len == kChunk) {
                    for (int64_t l = 0; l < kChunk; ++l) acc[l] += wj * s[l];
                } else {
                    for (int64_t l = 0; l < len; ++l) acc[l] += wj * s[l];
                }
            }
            for (int64_t l = 0; l < len; ++l) d[k0 + l] = to_u8(acc[l], t.precision);
        }
    }
}

}  // namespace

RgbImage resize_bicubic_antialias(const RgbImage& image, int64_t height, int64_t width) {
    if (image.empty() || height <= 0 || width <= 0) {
        throw Error("cannot resize a " + std::to_string(image.width) + "x" + std::to_string(image.height) + " image to " +
                    std::to_string(width) + "x" + std::to_string(height));
    }
    if (height == image.height && width == image.width) return image;
    RgbImage out;
    out.width = width;
    out.height = height;
    out.pixels.resize(size_t(width) * size_t(height) * 3);
    // Horizontal first, over all input rows, into a uint8 buffer; then vertical.
    const bool need_h = width != image.width, need_v = height != image.height;
    std::vector<uint8_t> buffer;
    const uint8_t* rows = image.pixels.data();
    if (need_h) {
        uint8_t* dst = out.pixels.data();
        if (need_v) {
            buffer.resize(size_t(image.height) * size_t(width) * 3);
            dst = buffer.data();
        }
        horizontal(image.pixels.data(), image.width, image.height, axis_taps(image.width, width), dst, width);
        rows = dst;
    }
    if (need_v) vertical(rows, width * 3, axis_taps(image.height, height), out.pixels.data(), height);
    return out;
}

}  // namespace gd
