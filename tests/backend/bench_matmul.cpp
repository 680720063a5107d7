// Micro-benchmark of the CPU matrix-product kernels, one thread: for each weight type, ISA and shape,
// T = 1 as GB/s of weight bytes read (the decode step is bound by memory bandwidth) and T = 64 / 512
// as GFLOP/s (prefill is bound by arithmetic). Build it in a Release configuration.
//
//   bench_matmul [TYPE...]      e.g. bench_matmul q4_k q8_0; default: the types models use
//
// Times are this thread's CPU time (CLOCK_THREAD_CPUTIME_ID), not wall time, so that other processes
// on a shared machine do not count against the kernels (their cache traffic still does).
//
// At T = 1 the kernel cycles through enough copies of the matrix to exceed the last-level cache, so
// the figure is the DRAM-bound one a real model (gigabytes of weights) sees.
#include <algorithm>
#include <ctime>
#include <cstdio>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "backend/cpu/matmul_kernels.h"
#include "common/half.h"
#include "format/quant/quant.h"

namespace {

using namespace gd;

double thread_seconds() {
    timespec ts{};
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return static_cast<double>(ts.tv_sec) + 1e-9 * static_cast<double>(ts.tv_nsec);
}

std::vector<uint8_t> make_matrix(DType t, int64_t N, int64_t K) {
    const size_t row_bytes = dtype_bytes(t, static_cast<uint64_t>(K));
    std::vector<uint8_t> w(row_bytes * static_cast<size_t>(N));
    std::mt19937 rng(42);
    std::normal_distribution<float> normal(0.0f, 0.02f);
    std::vector<float> row(static_cast<size_t>(K));
    for (int64_t n = 0; n < N; ++n) {
        for (auto& v : row) v = normal(rng);
        uint8_t* dst = w.data() + row_bytes * static_cast<size_t>(n);
        if (t == DType::F32) {
            std::memcpy(dst, row.data(), row.size() * 4);
        } else if (t == DType::F16 || t == DType::BF16) {
            for (int64_t k = 0; k < K; ++k) {
                const uint16_t h = t == DType::F16 ? f32_to_f16(row[k]) : f32_to_bf16(row[k]);
                std::memcpy(dst + 2 * k, &h, 2);
            }
        } else {
            quantize_row(t, row.data(), dst, static_cast<uint64_t>(K));
        }
    }
    return w;
}

// Seconds per call of fn, repeated until at least min_s have passed.
template <class Fn>
double time_per_call(Fn fn, double min_s) {
    fn();  // warm up
    int reps = 0;
    const double start = thread_seconds();
    double elapsed = 0.0;
    do {
        fn();
        ++reps;
        elapsed = thread_seconds() - start;
    } while (elapsed < min_s);
    return elapsed / reps;
}

void bench(DType t, int64_t N, int64_t K) {
    const size_t row_bytes = dtype_bytes(t, static_cast<uint64_t>(K));
    const std::vector<uint8_t> w = make_matrix(t, N, K);
    // Copies for the T = 1 runs: at least 128 MiB in all, well past the last-level cache.
    const size_t copies = std::max<size_t>(2, (size_t{128} << 20) / w.size() + 1);
    std::vector<uint8_t> many(w.size() * copies);
    for (size_t c = 0; c < copies; ++c) std::memcpy(many.data() + c * w.size(), w.data(), w.size());

    const int64_t max_t = 512;
    std::vector<float> x(static_cast<size_t>(max_t * K)), y(static_cast<size_t>(max_t * N));
    std::mt19937 rng(7);
    std::uniform_real_distribution<float> uniform(-1.0f, 1.0f);
    for (auto& v : x) v = uniform(rng);

    for (cpu::Isa isa : {cpu::Isa::Scalar, cpu::Isa::Avx2, cpu::Isa::Avx512}) {
        if (!cpu::isa_supported(isa)) continue;
        size_t next = 0;
        const double s1 = time_per_call(
            [&] {
                cpu::matmul_rows(isa, t, many.data() + next * w.size(), row_bytes, K, x.data(), K, 1, y.data(), N, 0, N);
                next = (next + 1) % copies;
            },
            0.3);
        std::printf("%-7s %5lldx%-5lld %-7s T=1   %8.2f GB/s  (%7.1f us)", dtype_name(t), static_cast<long long>(N),
                    static_cast<long long>(K), cpu::isa_name(isa), static_cast<double>(w.size()) / s1 * 1e-9, s1 * 1e6);
        for (int64_t T : {64, 512}) {
            // The scalar reference is slow: time it on fewer rows.
            const int64_t rows = isa == cpu::Isa::Scalar ? std::max<int64_t>(8, N * 64 / T / 16) : N;
            const double s = time_per_call(
                [&] { cpu::matmul_rows(isa, t, w.data(), row_bytes, K, x.data(), K, T, y.data(), N, 0, rows); }, 0.3);
            std::printf("   T=%-3lld %7.1f GFLOP/s", static_cast<long long>(T),
                        2.0 * static_cast<double>(rows * K * T) / s * 1e-9);
        }
        std::printf("\n");
        std::fflush(stdout);
    }
}

}  // namespace

int main(int argc, char** argv) {
    std::vector<DType> types;
    for (int i = 1; i < argc; ++i) {
        const auto t = dtype_from_name(argv[i]);
        if (!t || !dtype_info(*t).dequantizable) {
            std::fprintf(stderr, "bench_matmul: unknown or undecodable type '%s'\n", argv[i]);
            return 2;
        }
        types.push_back(*t);
    }
    if (types.empty())
        types = {DType::F32, DType::BF16, DType::F16, DType::Q8_0, DType::Q4_K, DType::Q6_K, DType::Q5_K, DType::Q4_0};
    std::printf("one thread, thread CPU time; detected ISA: %s\n", cpu::isa_name(cpu::detected_isa()));
    for (DType t : types) {
        bench(t, 2048, 2048);
        bench(t, 1536, 6144);
    }
    return 0;
}
