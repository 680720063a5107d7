#pragma once
// The kernel launchers of the CUDA backend, one family per .cu file (named beside each group).
// Every launcher queues work on `s` and returns at once; it checks the launch (GD_CUDA_LAUNCHED) and
// throws gd::Error for shapes it cannot handle. Pointers are device pointers unless a comment says
// otherwise. Semantics are those of the Backend op of the same name (backend/backend.h): each family
// has a test against the CPU backend on fresh random inputs (tests/cuda/).
#include <cstdint>
#include <vector>

#include "backend/cuda/cuda_context.h"
#include "sampling/sampler.h"

namespace gd::cuda {

// ---- cuda_elementwise.cu ----
void add(const Mat& a, const Mat& b, const Mat& out, cudaStream_t s);          // out may alias a or b
void scale(const Mat& x, float factor, cudaStream_t s);                         // in place
void mul_cols(const Mat& x, const float* v, cudaStream_t s);                    // x[t, c] *= v[c]
void add_cols(const Mat& x, const float* v, cudaStream_t s);                    // x[t, c] += v[c]
void softcap(const Mat& x, float cap, cudaStream_t s);                          // cap * tanh(x / cap)
void clamp(const Mat& x, float lo, float hi, const Mat& out, cudaStream_t s);   // out may alias x
void gelu_mul(const Mat& gate, const Mat& up, const Mat& out, cudaStream_t s);  // gelu_tanh(gate) * up
void relu(const Mat& x, cudaStream_t s);
void silu(const Mat& x, cudaStream_t s);
void glu(const Mat& x, const Mat& out, cudaStream_t s);  // out[t, c] = x[t, c] * sigmoid(x[t, C + c])

// ---- cuda_norm.cu ----
// Over every `group` consecutive elements of each row; weight (length group) may be null.
void rms_norm(const Mat& x, const float* weight, int64_t group, float eps, const Mat& y, cudaStream_t s);
void layer_norm(const Mat& x, const float* weight, int64_t group, float eps, const Mat& y, cudaStream_t s);

// ---- cuda_rope.cu ----
// inv_freq: head_dim/2 entries (rope) or head_dim/4 (rope_2d); pos_x/pos_y: one entry per row.
// pos_offset (device memory), when given, is added to first_position by the kernel: a decode step
// recorded once as a CUDA graph is replayed at later positions (cuda_graph_step.h).
void rope(const Mat& x, int64_t head_dim, const float* inv_freq, int64_t first_position, cudaStream_t s,
          const int64_t* pos_offset = nullptr);
void rope_2d(const Mat& x, int64_t head_dim, const float* inv_freq, const int32_t* pos_x, const int32_t* pos_y,
             cudaStream_t s);

// ---- cuda_tower_ops.cu ----
void average_pool(const Mat& x, int64_t grid_w, int64_t grid_h, int64_t k, const Mat& out, cudaStream_t s);
// taps: out.cols * K values, taps[c*K + j].
void causal_depthwise_conv(const Mat& x, const float* taps, int64_t K, const Mat& out, cudaStream_t s);

// ---- cuda_tower_attention.cu ----
void attention_dense(const Mat& q, const Mat& k, const Mat& v, int64_t heads, int64_t head_dim, float scale,
                     const Mat& out, cudaStream_t s);
void attention_local(const Mat& q, const Mat& k, const Mat& v, const Mat& rel, int64_t heads, int64_t head_dim,
                     int64_t window, float cap, const Mat& out, cudaStream_t s);

// ---- cuda_attention.cu (the text decoder's attention over its KV cache) ----
struct AttentionShape {
    int64_t q_heads = 0, kv_heads = 0, head_dim = 0;
    int64_t window = 0;          // 0 = full causal
    int64_t first_position = 0;  // position of q row 0
    float scale = 1.0f;
    const int64_t* pos_offset = nullptr;  // device memory; added to first_position (as for rope)
};
// Writes rows of k and v (positions first_position ..) into their slots.
void kv_store(const KvView& cache, const Mat& k, const Mat& v, int64_t first_position, cudaStream_t s,
              const int64_t* pos_offset = nullptr);
// q [T, q_heads*head_dim] over the cache; out likewise. blocks: n_blocks (first, end) pairs of
// absolute positions (bidirectional image spans, AttentionParams::blocks), in device memory.
// Picks the decode kernel (few query rows, split over the KV length) or the prefill kernel (tiled,
// online softmax) itself.
void attention(const Mat& q, const KvView& cache, const AttentionShape& p, const int64_t* blocks, int64_t n_blocks,
               const Mat& out, cudaStream_t s);

// ---- cuda_quant_matmul.cu (weights in any stored type: f32, f16, bf16, q4_0, q4_1, q5_0, q5_1, q8_0,
// q2_k..q6_k, iq4_nl, iq4_xs; dequantization fused) ----
bool weight_type_supported(DType t);
// Most rows of x the matrix-vector kernel takes; more go through dequantize_bf16 + cuBLAS.
inline constexpr int64_t kMatvecMaxRows = 8;
// y[T, w.rows] = x[T, w.cols] · W_expertᵀ for T <= kMatvecMaxRows.
void matvec(const WeightView& w, int64_t expert, const Mat& x, const Mat& y, cudaStream_t s);
// The whole matrix of `expert` as bf16 (row-major rows × cols, contiguous) for cuBLAS.
void dequantize_bf16(const WeightView& w, int64_t expert, uint16_t* out, cudaStream_t s);
// x (f32, with ld) -> contiguous bf16 / f16 rows × cols, for cuBLAS.
void to_bf16(const Mat& x, uint16_t* out, cudaStream_t s);
void to_f16(const Mat& x, uint16_t* out, cudaStream_t s);
// out[t] = row ids[t] of `table` (expert 0) decoded to f32, times scale. ids are checked by the caller.
void get_rows(const WeightView& table, const int32_t* ids, int64_t n, float scale, const Mat& out, cudaStream_t s);

// ---- cuda_matmul.cpp (host-side dispatch onto the kernels above and cuBLAS) ----
// y = x · W_expertᵀ: f32 weights through cublasSgemm (no TF32), f16/bf16 through cublasGemmEx with
// f32 accumulation (x converted), block types through matvec or dequantize_bf16 + cublasGemmEx.
void matmul(const CudaContext& ctx, const WeightView& w, int64_t expert, const Mat& x, const Mat& y);

// ---- cuda_moe.cu ----
// routing [T, 2k]: columns 0..k-1 expert ids (as floats), k..2k-1 weights; see Backend::moe_route.
void moe_route(const Mat& logits, int64_t k, const float* expert_scale, const Mat& routing, cudaStream_t s);
// For few tokens (T <= kMatvecMaxRows): every (token, slot) pair's expert FFN with fused
// dequantization, only the selected experts' rows read; out[t] = Σ_j w_tj · down_e(gelu(g) ⊙ u).
void moe_experts_few(const Mat& x, const Mat& routing, int64_t k, const WeightView& gate_up, const WeightView& down,
                     const Mat& out, cudaStream_t s);

// ---- cuda_sampling.cu ----
// Index of the largest finite value of a row (ties: the lowest index); -1 if none is finite.
// The result is written to *out_id (device memory).
void argmax(const Mat& logits_row, int32_t* out_id, cudaStream_t s);
// The sampler's rules (sampling/sampler.h: penalties over `recent` (already cut to the window),
// temperature, top-k, top-p, min-p) with `uniform` in [0, 1) as the draw; writes the id to *out_id
// (device memory). Greedy (temperature 0) gives the argmax after penalties.
void sample(const CudaContext& ctx, const Mat& logits_row, const SamplingParams& p, const int32_t* recent,
            int64_t n_recent, double uniform, int32_t* out_id);

}  // namespace gd::cuda
