// The encoder ops of the CPU backend (vision now, audio later): clamps for the clipped linears, the
// vision tower's 2-D RoPE, dense bidirectional attention and the 3x3 average pool.
//
// attention_dense is the only heavy one (at 10080 patches it is about half of the large tower's
// arithmetic): the keys are transposed once per call, then tasks of one head x kQueryBlock query rows
// run the online-softmax kernel of cpu_tower_attention.cpp, split over the pool.
#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "backend/cpu/cpu_backend.h"
#include "backend/cpu/cpu_tower_attention.h"
#include "common/error.h"

namespace gd::cpu {

void CpuBackend::clamp(const Tensor& x, float lo, float hi, const Tensor& out) {
    if (x.rows != out.rows || x.cols != out.cols) throw Error("clamp: tensor shapes differ");
    for_rows(x.rows, 16, [&](int64_t b, int64_t e) {
        for (int64_t t = b; t < e; ++t) {
            const float* in = x.row(t);
            float* o = out.row(t);
            // std::min(std::max(...)) keeps a NaN as torch.clamp does.
            for (int64_t c = 0; c < x.cols; ++c) o[c] = std::min(std::max(in[c], lo), hi);
        }
    });
}

void CpuBackend::add_rows(const Tensor& x, const std::vector<float>& v) {
    if (static_cast<int64_t>(v.size()) != x.cols) throw Error("add_rows: vector length differs from the row");
    for (int64_t t = 0; t < x.rows; ++t) {
        float* r = x.row(t);
        for (int64_t c = 0; c < x.cols; ++c) r[c] += v[static_cast<size_t>(c)];
    }
}

namespace {
constexpr int32_t kMaxPosition = 1 << 20;  // bounds the cos/sin table (image grids are ~100 patches a side)
}  // namespace

void CpuBackend::rope_2d(const Tensor& x, int64_t head_dim, const std::vector<float>& inv_freq,
                         const std::vector<int32_t>& pos_x, const std::vector<int32_t>& pos_y) {
    const int64_t quarter = head_dim / 4;
    if (head_dim <= 0 || head_dim % 4 || x.cols % head_dim || static_cast<int64_t>(inv_freq.size()) != quarter)
        throw Error("rope_2d: head size does not fit the row or the frequency table");
    if (static_cast<int64_t>(pos_x.size()) != x.rows || static_cast<int64_t>(pos_y.size()) != x.rows)
        throw Error("rope_2d: one (x, y) position per row is needed");
    const int64_t heads = x.cols / head_dim;
    // An image has few distinct columns and rows (at most ~100 each), so cos/sin are tabulated once
    // per position value rather than per row: [position][j].
    int32_t top = 0;
    for (size_t t = 0; t < pos_x.size(); ++t) {
        if (pos_x[t] < 0 || pos_y[t] < 0 || pos_x[t] >= kMaxPosition || pos_y[t] >= kMaxPosition)
            throw Error("rope_2d: position outside 0.." + std::to_string(kMaxPosition - 1));
        top = std::max({top, pos_x[t], pos_y[t]});
    }
    const size_t table = static_cast<size_t>(top + 1) * static_cast<size_t>(quarter);
    std::vector<float> cs(table), sn(table);
    for (int32_t p = 0; p <= top; ++p)
        for (int64_t j = 0; j < quarter; ++j) {
            // The angle in f32 as the reference forms it, then its exact cosine and sine.
            const float a = static_cast<float>(p) * inv_freq[static_cast<size_t>(j)];
            const size_t i = static_cast<size_t>(p) * static_cast<size_t>(quarter) + static_cast<size_t>(j);
            cs[i] = static_cast<float>(std::cos(static_cast<double>(a)));
            sn[i] = static_cast<float>(std::sin(static_cast<double>(a)));
        }
    for_rows(x.rows, 4, [&](int64_t b, int64_t e) {
        for (int64_t t = b; t < e; ++t) {
            const size_t at[2] = {static_cast<size_t>(pos_x[static_cast<size_t>(t)]) * static_cast<size_t>(quarter),
                                  static_cast<size_t>(pos_y[static_cast<size_t>(t)]) * static_cast<size_t>(quarter)};
            for (int64_t h = 0; h < heads; ++h) {
                for (int axis = 0; axis < 2; ++axis) {
                    float* v = x.row(t) + h * head_dim + axis * 2 * quarter;
                    const float* c = cs.data() + at[axis];
                    const float* s = sn.data() + at[axis];
                    for (int64_t j = 0; j < quarter; ++j) {
                        const float lo = v[j], hi = v[j + quarter];
                        v[j] = lo * c[j] - hi * s[j];
                        v[j + quarter] = hi * c[j] + lo * s[j];
                    }
                }
            }
        }
    });
}

void CpuBackend::attention_dense(const Tensor& q, const Tensor& k, const Tensor& v, int64_t heads, int64_t head_dim,
                                 float scale, const Tensor& out) {
    const int64_t width = heads * head_dim;
    if (heads <= 0 || head_dim <= 0 || q.cols != width || k.cols != width || v.cols != width || k.rows != v.rows ||
        out.rows != q.rows || out.cols != width)
        throw Error("attention_dense: shapes do not fit");
    if (!(scale > 0.0f)) throw Error("attention_dense: the scale must be positive");
    if (q.rows == 0) return;
    if (k.rows == 0) throw Error("attention_dense: no keys");
    const int64_t N = q.rows, M = k.rows;

    // Keys transposed, [heads * head_dim][M]: the score tiles then read 16 consecutive keys per load.
    const int64_t ldkt = (M + 15) / 16 * 16;
    Tensor kt = alloc(width, ldkt);
    constexpr int64_t kBlock = 64;
    for_rows((M + kBlock - 1) / kBlock, 1, [&](int64_t b, int64_t e) {
        for (int64_t j0 = b * kBlock; j0 < std::min(M, e * kBlock); j0 += kBlock) {
            const int64_t j1 = std::min(M, j0 + kBlock);
            for (int64_t c = 0; c < width; ++c) {
                float* dst = kt.row(c);
                for (int64_t j = j0; j < j1; ++j) dst[j] = k.row(j)[c];
            }
        }
    });

    const int64_t blocks = (N + detail::kQueryBlock - 1) / detail::kQueryBlock;
    const Isa isa = isa_;
    pool_.parallel_for(heads * blocks, 1, [&](int64_t b, int64_t e, int) {
        std::vector<float> scratch(detail::dense_attention_scratch(detail::kQueryBlock, head_dim));
        for (int64_t task = b; task < e; ++task) {
            const int64_t h = task / blocks, i0 = (task % blocks) * detail::kQueryBlock;
            detail::DenseAttentionTask t;
            t.q = q.row(i0) + h * head_dim;
            t.ldq = q.ld;
            t.kt = kt.row(h * head_dim);
            t.ldkt = kt.ld;
            t.v = v.data + h * head_dim;
            t.ldv = v.ld;
            t.out = out.row(i0) + h * head_dim;
            t.ldo = out.ld;
            t.rows = std::min(detail::kQueryBlock, N - i0);
            t.keys = M;
            t.head_dim = head_dim;
            t.scale = scale;
            t.scratch = scratch.data();
            detail::dense_attention_block(isa, t);
        }
    });
}

void CpuBackend::average_pool(const Tensor& x, int64_t grid_w, int64_t grid_h, int64_t k, const Tensor& out) {
    if (k <= 0 || grid_w <= 0 || grid_h <= 0 || grid_w % k || grid_h % k)
        throw Error("average_pool: the grid (" + std::to_string(grid_w) + " x " + std::to_string(grid_h) +
                    ") is not a whole number of " + std::to_string(k) + " x " + std::to_string(k) + " blocks");
    const int64_t ow = grid_w / k, oh = grid_h / k;
    if (x.rows != grid_w * grid_h || out.rows != ow * oh || out.cols != x.cols)
        throw Error("average_pool: shapes do not fit the grid");
    // Each patch weighted by 1/k² in f32, summed in raster order, as the reference's one-hot matrix
    // product does.
    const float w = 1.0f / static_cast<float>(k * k);
    for_rows(out.rows, 1, [&](int64_t b, int64_t e) {
        for (int64_t o = b; o < e; ++o) {
            const int64_t oy = o / ow, ox = o % ow;
            float* dst = out.row(o);
            std::fill(dst, dst + out.cols, 0.0f);
            for (int64_t dy = 0; dy < k; ++dy)
                for (int64_t dx = 0; dx < k; ++dx) {
                    const float* src = x.row((oy * k + dy) * grid_w + ox * k + dx);
                    for (int64_t c = 0; c < x.cols; ++c) dst[c] += src[c] * w;
                }
        }
    });
}

}  // namespace gd::cpu
