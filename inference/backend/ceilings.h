#pragma once
// The two physical ceilings a backend's speed is judged against, measured through the backend's own
// ops (so a figure is what the engine can get, not a vendor's number):
//   copy: bytes read + written per second by Backend::copy on large buffers — the memory bandwidth
//         that bounds batch-1 decoding (every weight read once per token);
//   bf16: multiply-adds x 2 per second of Backend::matmul with a bf16 weight on many rows — what
//         bounds prefill and the towers.
// The product is checked against a double-precision reference on sampled entries, so a fast but
// wrong kernel cannot report a ceiling.
#include <cstdint>

#include "backend/backend.h"

namespace gd {

struct CeilingOptions {
    uint64_t copy_bytes = uint64_t{1} << 30;  // each of the two buffers
    int copy_repetitions = 10;
    int64_t gemm_rows = 4096;                 // activation rows (tokens)
    int64_t gemm_out = 8192, gemm_in = 8192;  // weight [out, in], bf16
    int gemm_repetitions = 5;
};

struct Ceilings {
    double copy_bytes_per_second = 0;   // read + written
    double bf16_flops_per_second = 0;   // 2 x rows x out x in per second
    double gemm_max_error = 0;          // sampled |y - ref| / sum |w x| (the product's own scale)
};

// Throws gd::Error when the product's sampled entries are wrong beyond bf16 rounding (2^-8 of the
// entry's scale sum |w x|: activations may be rounded to bf16 before the product) or the buffers do
// not fit.
Ceilings measure_ceilings(Backend& backend, const CeilingOptions& options = {});

}  // namespace gd
