// The convolutions run as matrix products: the 3x3 input patches of each output position are gathered
// on the host ("im2col", column index (ci, ky, kx) as the kernel stores it) and multiplied by the
// kernel seen as a [C_out, C_in*9] matrix on the backend. Output rows are (t, f) with channels last,
// which is the layout the channel LayerNorm, and then the (freq, channel) flatten, want.
#include "audio/encoder/audio_subsampling.h"

#include <algorithm>
#include <string>
#include <vector>

#include "common/error.h"

namespace gd {

namespace {

// Output rows of the second convolution gathered per backend call: bounds the host patch buffer
// (64 x 32 rows of 1152 floats, 9.4 MB at full size) whatever the clip length.
constexpr int64_t kSlabTimeRows = 64;

// The 3x3 patch of output (t, f) of a stride-2, padding-1 convolution over `in` [H, W, C] (channels
// last) into `dst` [C * 9], index (c, ky, kx); positions outside the input are zero.
void gather_patch(const float* in, int64_t H, int64_t W, int64_t C, int64_t t, int64_t f, float* dst) {
    for (int64_t ky = 0; ky < 3; ++ky) {
        const int64_t y = 2 * t - 1 + ky;
        for (int64_t kx = 0; kx < 3; ++kx) {
            const int64_t x = 2 * f - 1 + kx;
            const bool inside = y >= 0 && y < H && x >= 0 && x < W;
            const float* src = inside ? in + (y * W + x) * C : nullptr;
            for (int64_t c = 0; c < C; ++c) dst[c * 9 + ky * 3 + kx] = inside ? src[c] : 0.0f;
        }
    }
}

}  // namespace

Tensor audio_subsample(Backend& backend, const AudioWeights& w, const AudioConfig& c, const LogMel& features,
                       const TensorObserver& observe) {
    const int64_t T = features.frames, M = c.n_mels, C0 = c.subsampling_channels0, C1 = c.subsampling_channels1;
    if (T <= 0) throw Error("the audio clip is too short to encode (under 10 ms)");
    if (static_cast<int64_t>(features.data.size()) != T * M)
        throw Error("the audio features have " + std::to_string(features.data.size()) + " values for " +
                    std::to_string(T) + " frames of " + std::to_string(M) + " mel bins");
    const float eps = static_cast<float>(c.rms_norm_eps);
    const int64_t T1 = conv_output_length(T), F1 = conv_output_length(M);
    const int64_t T2 = conv_output_length(T1), F2 = conv_output_length(F1);
    if (F2 * C1 != c.sscp_flat_width()) throw Error("the audio features do not have the tower's mel bin count");

    // Block 0: one input channel, so the patches are [T1*F1, 9].
    Tensor x0 = backend.alloc(T1 * F1, C0);
    {
        std::vector<float> patches(static_cast<size_t>(T1 * F1 * 9));
        for (int64_t t = 0; t < T1; ++t)
            for (int64_t f = 0; f < F1; ++f)
                gather_patch(features.data.data(), T, M, 1, t, f, patches.data() + (t * F1 + f) * 9);
        Tensor p = backend.alloc(T1 * F1, 9);
        backend.upload(patches.data(), p);
        backend.matmul(w.conv0, p, x0);
    }
    backend.layer_norm(x0, &w.conv0_norm, C0, eps, x0);
    backend.relu(x0);
    if (observe) observe("sscp_conv0", x0);

    // Block 1: C0 input channels, gathered from a host copy of block 0's output in slabs of time rows.
    Tensor x1 = backend.alloc(T2 * F2, C1);
    {
        std::vector<float> in(static_cast<size_t>(x0.elements()));
        backend.download(x0, in.data());
        x0 = Tensor{};  // block 0's activations are no longer needed
        const int64_t width = C0 * 9;
        std::vector<float> patches(static_cast<size_t>(std::min(kSlabTimeRows, T2) * F2 * width));
        for (int64_t t0 = 0; t0 < T2; t0 += kSlabTimeRows) {
            const int64_t rows = std::min(kSlabTimeRows, T2 - t0) * F2;
            for (int64_t t = t0; t < t0 + rows / F2; ++t)
                for (int64_t f = 0; f < F2; ++f)
                    gather_patch(in.data(), T1, F1, C0, t, f, patches.data() + ((t - t0) * F2 + f) * width);
            Tensor p = backend.alloc(rows, width);
            backend.upload(patches.data(), p);
            backend.matmul(w.conv1, p, x1.view_rows(t0 * F2, rows));
        }
    }
    backend.layer_norm(x1, &w.conv1_norm, C1, eps, x1);
    backend.relu(x1);
    if (observe) observe("sscp_conv1", x1);

    // [T2*F2, C1] rows are contiguous, so the same storage is [T2, F2*C1] with index f*C1 + c.
    Tensor flat = x1;
    if (flat.ld != flat.cols) throw Error("audio_subsample: the backend returned a padded tensor");
    flat.rows = T2;
    flat.cols = flat.ld = F2 * C1;
    Tensor out = backend.alloc(T2, c.hidden_size);
    backend.matmul(w.input_proj, flat, out);
    if (observe) observe("sscp_out", out);
    return out;
}

}  // namespace gd
