// Which instruction set the kernels use: the best this CPU (and its OS) supports, capped by
// $GEMMADESK_ISA so tests and benchmarks can force the slower paths.
#include <cstdlib>
#include <string>
#include <string_view>

#include "backend/cpu/matmul_kernels.h"
#include "common/error.h"

#if defined(__x86_64__)
#include <cpuid.h>
#endif

namespace gd::cpu {
namespace {

#if defined(__x86_64__)
// clang 14's __builtin_cpu_supports does not know "f16c", so ask cpuid (leaf 1, ECX bit 29).
bool has_f16c() {
    unsigned a = 0, b = 0, c = 0, d = 0;
    return __get_cpuid(1, &a, &b, &c, &d) && (c & (1u << 29)) != 0;
}
#endif

}  // namespace

const char* isa_name(Isa isa) {
    switch (isa) {
        case Isa::Scalar: return "scalar";
        case Isa::Avx2: return "avx2";
        case Isa::Avx512: return "avx512";
    }
    return "?";
}

namespace {

bool probe(Isa isa) {
    switch (isa) {
        case Isa::Scalar: return true;
#if defined(__x86_64__)
        // __builtin_cpu_supports also checks that the OS saves the ymm / zmm state (xgetbv).
        case Isa::Avx2:
            return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") && has_f16c();
        case Isa::Avx512:
            return probe(Isa::Avx2) && __builtin_cpu_supports("avx512f") &&
                   __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512vl") &&
                   __builtin_cpu_supports("avx512dq");
#else
        case Isa::Avx2:
        case Isa::Avx512: return false;
#endif
    }
    return false;
}

}  // namespace

// Probed once: cpuid is slow (a VM exit under virtualisation) and dot_f32 asks on every call.
bool isa_supported(Isa isa) {
    static const bool supported[3] = {probe(Isa::Scalar), probe(Isa::Avx2), probe(Isa::Avx512)};
    const int i = static_cast<int>(isa);
    return i >= 0 && i < 3 && supported[i];
}

Isa detected_isa() {
    Isa best = Isa::Scalar;
    if (isa_supported(Isa::Avx512))
        best = Isa::Avx512;
    else if (isa_supported(Isa::Avx2))
        best = Isa::Avx2;
    const char* env = std::getenv("GEMMADESK_ISA");
    if (env == nullptr || *env == '\0') return best;
    const std::string_view cap(env);
    Isa limit;
    if (cap == "scalar")
        limit = Isa::Scalar;
    else if (cap == "avx2")
        limit = Isa::Avx2;
    else if (cap == "avx512")
        limit = Isa::Avx512;
    else
        throw Error("GEMMADESK_ISA=" + std::string(cap) + ": expected scalar, avx2 or avx512");
    // The enum is ordered from least to most capable, and each level includes the one below.
    return static_cast<int>(limit) < static_cast<int>(best) ? limit : best;
}

}  // namespace gd::cpu
