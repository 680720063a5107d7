// The vision tower's forward pass (spec §3.3–3.6), one image at a time, as a short list of backend ops.
// Only the image's real patches go through the tower: the reference pads every image to the budget's
// patch count, but padded rows are masked out of attention and dropped after pooling, so leaving them
// out gives the same soft tokens (the reference tool checks that).
#include "vision/encoder/vision_encoder.h"

#include <cmath>
#include <string>

#include "common/error.h"
#include "vision/encoder/vision_weights.h"

namespace gd {

struct VisionEncoder::Impl {
    ModelFiles files;  // a copy shares the file mappings the weights point into
    Backend& backend;
    VisionConfig cfg;
    int64_t text_hidden = 0;
    VisionWeights w;
    std::vector<float> inv_freq;  // head_dim/4 entries, the same ladder for both axes
    uint64_t weight_bytes = 0;
    float eps = 1e-6f;

    Impl(const ModelFiles& f, Backend& b) : files(f), backend(b) {
        w = load_vision_weights(files, backend);
        cfg = *files.config().vision;
        text_hidden = files.config().text.hidden_size;
        eps = static_cast<float>(cfg.rms_norm_eps);
        // transformers: 1 / (theta ** (arange(0, d/2, 2).float() / (d/2))) in f32, d/2 = the size of one axis' half.
        const int64_t half = cfg.head_dim / 2;
        for (int64_t j = 0; j < half / 2; ++j) {
            const float exponent = static_cast<float>(2 * j) / static_cast<float>(half);
            inv_freq.push_back(1.0f / static_cast<float>(std::pow(cfg.rope_theta, static_cast<double>(exponent))));
        }
        auto count = [&](const Weight& x) { weight_bytes += x.stored_bytes(); };
        count(w.patch_embd);
        count(w.pos_x);
        count(w.pos_y);
        count(w.embedding);
        for (const VisionLayerWeights& l : w.layers)
            for (const Weight* x : {&l.ln1, &l.attn_post_norm, &l.ln2, &l.ffn_post_norm, &l.q.w, &l.k.w, &l.v.w,
                                    &l.o.w, &l.gate.w, &l.up.w, &l.down.w, &l.q_norm, &l.k_norm})
                count(*x);
    }

    void check(const PatchedImage& im) const;
    Tensor embed_patches(const PatchedImage& im);
    void layer(const VisionLayerWeights& l, const Tensor& x, const PatchedImage& im);
    void linear(const ClippedLinear& l, const Tensor& x, const Tensor& y, const Tensor& scratch) {
        apply_linear(backend, l, x, y, scratch);
    }
};

// The contract of PatchedImage, enforced: a grid of whole pooling blocks, one 16x16x3 vector and one
// position per patch, positions in raster order (the pooling relies on it) and inside the tables.
void VisionEncoder::Impl::check(const PatchedImage& im) const {
    const ImageTargetSize& s = im.size;
    const int64_t gw = s.grid_width(), gh = s.grid_height(), n = s.patches(), k = cfg.pooling_kernel_size;
    const int64_t dim = cfg.patch_size * cfg.patch_size * 3;
    auto fail = [](const std::string& why) { throw Error("the image does not fit the vision tower: " + why); };
    if (s.patch != cfg.patch_size || s.pool != k)
        fail("it was cut into " + std::to_string(s.patch) + "-pixel patches pooled " + std::to_string(s.pool) +
             "x" + std::to_string(s.pool) + ", the tower expects " + std::to_string(cfg.patch_size) + " and " +
             std::to_string(k));
    if (n <= 0 || gw % k || gh % k || s.height != gh * s.patch || s.width != gw * s.patch)
        fail("a grid of " + std::to_string(gw) + " x " + std::to_string(gh) + " patches is not whole " +
             std::to_string(k) + "x" + std::to_string(k) + " blocks");
    if (gw > cfg.position_embedding_size || gh > cfg.position_embedding_size)
        fail("a grid of " + std::to_string(gw) + " x " + std::to_string(gh) + " patches exceeds the position table (" +
             std::to_string(cfg.position_embedding_size) + ")");
    if (static_cast<int64_t>(im.patches.size()) != n * dim)
        fail(std::to_string(im.patches.size()) + " patch values for " + std::to_string(n) + " patches of " +
             std::to_string(dim));
    if (static_cast<int64_t>(im.pos_x.size()) != n || static_cast<int64_t>(im.pos_y.size()) != n)
        fail("the patch positions do not match the patch count");
    for (int64_t i = 0; i < n; ++i)
        if (im.pos_x[static_cast<size_t>(i)] != i % gw || im.pos_y[static_cast<size_t>(i)] != i / gw)
            fail("patch " + std::to_string(i) + " is not in raster order");
}

// pix = 2 (x - 0.5); e = pix · input_projᵀ + (pos_table[0][x] + pos_table[1][y]), in the reference's order.
Tensor VisionEncoder::Impl::embed_patches(const PatchedImage& im) {
    const int64_t n = im.size.patches(), dim = cfg.patch_size * cfg.patch_size * 3, Hv = cfg.hidden_size;
    std::vector<float> pix(im.patches.size());
    for (size_t i = 0; i < pix.size(); ++i) pix[i] = 2.0f * (im.patches[i] - 0.5f);
    Tensor p = backend.alloc(n, dim);
    backend.upload(pix.data(), p);
    Tensor e = backend.alloc(n, Hv);
    backend.matmul(w.patch_embd, p, e);
    Tensor px = backend.alloc(n, Hv), py = backend.alloc(n, Hv);
    backend.get_rows(w.pos_x, im.pos_x, 1.0f, px);
    backend.get_rows(w.pos_y, im.pos_y, 1.0f, py);
    backend.add(px, py, px);
    backend.add(e, px, e);
    return e;
}

// One encoder layer (spec §3.4), x updated in place.
void VisionEncoder::Impl::layer(const VisionLayerWeights& l, const Tensor& x, const PatchedImage& im) {
    const int64_t n = x.rows, Hv = cfg.hidden_size, F = cfg.intermediate_size;
    const int64_t nh = cfg.num_heads, dh = cfg.head_dim;
    {
        Tensor h = backend.alloc(n, Hv), hc = backend.alloc(n, Hv);
        backend.rms_norm(x, &l.ln1, Hv, eps, h);
        Tensor q = backend.alloc(n, nh * dh), k = backend.alloc(n, nh * dh), v = backend.alloc(n, nh * dh);
        linear(l.q, h, q, hc);
        backend.rms_norm(q, &l.q_norm, dh, eps, q);
        backend.rope_2d(q, dh, inv_freq, im.pos_x, im.pos_y);
        linear(l.k, h, k, hc);
        backend.rms_norm(k, &l.k_norm, dh, eps, k);
        backend.rope_2d(k, dh, inv_freq, im.pos_x, im.pos_y);
        linear(l.v, h, v, hc);
        backend.rms_norm(v, nullptr, dh, eps, v);
        Tensor a = backend.alloc(n, nh * dh);
        backend.attention_dense(q, k, v, nh, dh, 1.0f, a);  // scale 1: q/k norms stand in for 1/sqrt(d)
        linear(l.o, a, h, a);
        backend.rms_norm(h, &l.attn_post_norm, Hv, eps, h);
        backend.add(x, h, x);
    }
    {
        Tensor h = backend.alloc(n, Hv), hc = backend.alloc(n, Hv);
        backend.rms_norm(x, &l.ln2, Hv, eps, h);
        Tensor g = backend.alloc(n, F), u = backend.alloc(n, F);
        linear(l.gate, h, g, hc);
        linear(l.up, h, u, hc);
        backend.gelu_mul(g, u, g);
        linear(l.down, g, h, g);
        backend.rms_norm(h, &l.ffn_post_norm, Hv, eps, h);
        backend.add(x, h, x);
    }
}

VisionEncoder::VisionEncoder(const ModelFiles& files, Backend& backend)
    : impl_(std::make_unique<Impl>(files, backend)) {}

VisionEncoder::~VisionEncoder() = default;

std::vector<float> VisionEncoder::encode(const PatchedImage& image, const TensorObserver& observe,
                                         const std::atomic<bool>* cancel) {
    Impl& m = *impl_;
    Backend& b = m.backend;
    m.check(image);
    const VisionConfig& c = m.cfg;
    const int64_t Hv = c.hidden_size, k = c.pooling_kernel_size;
    auto cancelled = [&] { return cancel && cancel->load(std::memory_order_relaxed); };

    Tensor x = m.embed_patches(image);
    if (observe) observe("patch_embd", x);
    for (size_t i = 0; i < m.w.layers.size(); ++i) {
        if (cancelled()) throw Cancelled("image encoding cancelled");
        m.layer(m.w.layers[i], x, image);
        if (observe) observe("v_out-" + std::to_string(i), x);
    }
    if (cancelled()) throw Cancelled("image encoding cancelled");

    const int64_t tokens = image.size.soft_tokens();
    Tensor pooled = b.alloc(tokens, Hv);
    b.average_pool(x, image.size.grid_width(), image.size.grid_height(), k, pooled);
    // The reference multiplies by the Python float sqrt(Hv), which torch applies as an f32.
    b.scale(pooled, static_cast<float>(std::sqrt(static_cast<double>(Hv))));
    if (c.standardize) {
        std::vector<float> neg(m.w.std_bias.size());
        for (size_t i = 0; i < neg.size(); ++i) neg[i] = -m.w.std_bias[i];
        b.add_rows(pooled, neg);
        b.mul_rows(pooled, m.w.std_scale);
    }
    if (observe) observe("pooled", pooled);

    Tensor normed = b.alloc(tokens, Hv);
    b.rms_norm(pooled, nullptr, Hv, m.eps, normed);
    Tensor soft = b.alloc(tokens, m.text_hidden);
    b.matmul(m.w.embedding, normed, soft);
    if (observe) observe("soft_tokens", soft);
    std::vector<float> out(static_cast<size_t>(soft.elements()));
    b.download(soft, out.data());
    return out;
}

int64_t VisionEncoder::output_width() const { return impl_->text_hidden; }

uint64_t VisionEncoder::weight_bytes() const { return impl_->weight_bytes; }

}  // namespace gd
