// The libavutil side of RealFft: context and aligned buffers (av_malloc aligns them for the widest
// SIMD the build of libavutil may use, so no AV_TX_UNALIGNED slow path is needed).
#include "audio/features/real_fft.h"

#include <string>

extern "C" {
#include <libavutil/mem.h>
#include <libavutil/tx.h>
}

#include "common/error.h"

namespace gd::audio_detail {

RealFft::RealFft(int n) : n_(n) {
    if (n < 2 || n % 2 != 0) throw Error("real FFT: the length must be even, got " + std::to_string(n));
    // The scale argument of the double transforms is a double (tx.h); 1.0 keeps the output unscaled.
    const double scale = 1.0;
    av_tx_fn fn = nullptr;
    const int rc = av_tx_init(&ctx_, &fn, AV_TX_DOUBLE_RDFT, /*inv=*/0, n, &scale, 0);
    if (rc < 0 || !ctx_ || !fn)
        throw Error("real FFT: libavutil cannot make a double RDFT of length " + std::to_string(n) +
                    " (error " + std::to_string(rc) + ")");
    fn_ = fn;
    in_ = static_cast<double*>(av_malloc(sizeof(double) * size_t(n)));
    out_ = static_cast<double*>(av_malloc(sizeof(double) * size_t(n + 2)));  // n/2 + 1 complex values
    if (!in_ || !out_) {
        av_free(in_);
        av_free(out_);
        av_tx_uninit(&ctx_);
        throw Error("real FFT: out of memory");
    }
}

RealFft::~RealFft() {
    av_free(in_);
    av_free(out_);
    av_tx_uninit(&ctx_);
}

const double* RealFft::forward() {
    // For the RDFTs the stride is the size of one sample in bytes (tx.h).
    fn_(ctx_, out_, in_, ptrdiff_t(sizeof(double)));
    // The imaginary parts of the DC and Nyquist bins of a real input are exactly zero; FFmpeg 5.1's
    // RDFT does not write the Nyquist one (it keeps whatever the buffer held, which once read as
    // 5e180 in a test), so both are set here.
    out_[1] = 0.0;
    out_[n_ + 1] = 0.0;
    return out_;
}

}  // namespace gd::audio_detail
