#pragma once
// A forward real DFT in double precision on libavutil's tx (AV_TX_DOUBLE_RDFT, FFmpeg >= 5.1), the
// FFT under the log-mel front end. Kept out of log_mel.h so that FFmpeg's headers stay private to
// this layer. One object is one transform context: it is not safe to share between threads, so
// callers keep one per thread (log_mel.cpp uses a thread_local one).
#include <cstddef>

struct AVTXContext;

namespace gd::audio_detail {

class RealFft {
public:
    // n: the transform length (even). Throws gd::Error when libavutil refuses it.
    explicit RealFft(int n);
    ~RealFft();
    RealFft(const RealFft&) = delete;
    RealFft& operator=(const RealFft&) = delete;

    int size() const { return n_; }
    // The n input samples; fill them, then call forward(). The buffer is aligned as tx requires.
    double* input() { return in_; }
    // X[k] = sum_t x[t] exp(-2 pi i k t / n), unscaled (numpy.fft.rfft's convention), for k = 0..n/2,
    // as n/2 + 1 interleaved (re, im) pairs. The pointer stays valid until the next forward().
    const double* forward();

private:
    int n_ = 0;
    AVTXContext* ctx_ = nullptr;
    void (*fn_)(AVTXContext*, void*, void*, ptrdiff_t) = nullptr;
    double* in_ = nullptr;
    double* out_ = nullptr;
};

}  // namespace gd::audio_detail
