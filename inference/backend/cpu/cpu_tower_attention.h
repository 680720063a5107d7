#pragma once
// Internal to the CPU backend: the kernel behind attention_dense (the encoders' bidirectional
// attention over up to ~10k keys). The op (cpu_tower_ops.cpp) splits the work into tasks of one
// head x one block of query rows; each task runs this kernel on one thread.
//
// The kernel never forms the full [queries, keys] score matrix: it walks the keys in chunks of
// kKeyChunk and keeps a running maximum and sum per query row (the "online" softmax), so the scores
// of one chunk, the block's queries, the chunk's keys and values and the output accumulator all
// stay in L1/L2. Both products are register-tiled "broadcast one A element x a vector of B" loops,
// which is why the keys are passed transposed ([head_dim][keys]): a vector of 16 (8) scores is then
// one FMA per head dimension, with no horizontal sums.
#include <cstddef>
#include <cstdint>

#include "backend/cpu/matmul_kernels.h"

namespace gd::cpu::detail {

inline constexpr int64_t kKeyChunk = 256;  // keys per online-softmax step
// Query rows per task, a multiple of the 6- and 4-row tiles. Each task streams all of its head's keys
// and values (~2.8 MB at 10k keys) from L3 or memory, so larger blocks read them less often: 192
// measured ~7% faster than 96 at 9801 keys, and its scratch (~260 KB) still sits in L2.
inline constexpr int64_t kQueryBlock = 192;

struct DenseAttentionTask {
    const float* q = nullptr;   // query row r of the block, this head: q + r * ldq
    int64_t ldq = 0;
    const float* kt = nullptr;  // this head's keys transposed: dimension c of key j at kt[c * ldkt + j]
    int64_t ldkt = 0;
    const float* v = nullptr;   // this head's value of key j: v + j * ldv
    int64_t ldv = 0;
    float* out = nullptr;       // output row r of the block, this head: out + r * ldo
    int64_t ldo = 0;
    int64_t rows = 0, keys = 0, head_dim = 0;
    float scale = 1.0f;         // > 0
    float* scratch = nullptr;   // dense_attention_scratch(rows, head_dim) floats, 64-byte aligned
};

size_t dense_attention_scratch(int64_t rows, int64_t head_dim);

// out = softmax(scale * q kᵀ) v for the task's rows, on one thread with the ISA's kernel.
void dense_attention_block(Isa isa, const DenseAttentionTask& t);

}  // namespace gd::cpu::detail
