#include "vision/encoder/vision_weights.h"

#include <cmath>
#include <string>

#include "common/error.h"
#include "format/quant/quant.h"

namespace gd {

namespace {

// The patch embedding as a [Hv, p*p*3] matrix in the HF order (py, px, c). A GGUF mmproj stores it as
// the conv kernel [Hv, 3, p, p] (spec §6.4): decoded to f32 and permuted back once at load.
Weight patch_embedding(TowerBinder& b, const ModelFiles& files, int64_t Hv, int64_t p, VisionWeights& out) {
    const std::string name = "v.patch_embd.weight";
    const ModelTensor& t = b.tensor(name);
    if (!(files.format() == ModelFormat::Gguf && t.spec.gguf_layout == GgufLayout::ConvPatch)) return b.get(name);
    const uint64_t per_out = static_cast<uint64_t>(3 * p * p), n = static_cast<uint64_t>(Hv) * per_out;
    if (t.view.elements() != n) throw ModelError("tensor " + name + " does not have the shape of the patch size");
    std::vector<float> conv(n);
    dequantize_row(t.view.type, t.view.data, conv.data(), n);
    auto hf = std::make_shared<std::vector<float>>(n);
    const uint64_t P = static_cast<uint64_t>(p);
    for (uint64_t o = 0; o < static_cast<uint64_t>(Hv); ++o)
        for (uint64_t c = 0; c < 3; ++c)
            for (uint64_t py = 0; py < P; ++py)
                for (uint64_t px = 0; px < P; ++px)
                    (*hf)[o * per_out + (py * P + px) * 3 + c] = conv[o * per_out + (c * P + py) * P + px];
    TensorView v;
    v.name = name;
    v.type = DType::F32;
    v.shape = {static_cast<uint64_t>(Hv), per_out};
    v.data = reinterpret_cast<const uint8_t*>(hf->data());
    v.nbytes = n * sizeof(float);
    out.owned.push_back(hf);
    return b.place(v, name);
}

}  // namespace

VisionWeights load_vision_weights(const ModelFiles& files, Backend& backend) {
    if (!files.config().vision)
        throw ModelError(files.format() == ModelFormat::Gguf
                             ? "the model has no vision tower (image input needs the model's mmproj file)"
                             : "the model has no vision tower");
    const VisionConfig& c = *files.config().vision;
    const int64_t Hv = c.hidden_size, dh = c.head_dim;
    TowerBinder b(files, backend, "vision tower");
    VisionWeights w;

    w.patch_embd = patch_embedding(b, files, Hv, c.patch_size, w);

    // [2, positions, Hv]: the x table, then the y table (GGUF: ne {Hv, positions, 2}, the same bytes).
    {
        const std::string name = "v.position_embd.weight";
        const TensorView& all = b.tensor(name).view;
        const uint64_t rows = static_cast<uint64_t>(c.position_embedding_size);
        const uint64_t half = rows * dtype_bytes(all.type, static_cast<uint64_t>(Hv));
        if (all.elements() != 2 * rows * static_cast<uint64_t>(Hv) || all.nbytes != 2 * half)
            throw ModelError("tensor " + name + " is not a [2, " + std::to_string(rows) + ", " + std::to_string(Hv) +
                             "] table");
        TensorView x = all, y = all;
        x.shape = y.shape = {rows, static_cast<uint64_t>(Hv)};
        x.nbytes = y.nbytes = half;
        y.data = all.data + half;
        w.pos_x = b.place(x, name + "[x]");
        w.pos_y = b.place(y, name + "[y]");
    }

    w.layers.resize(static_cast<size_t>(c.num_layers));
    for (int64_t i = 0; i < c.num_layers; ++i) {
        VisionLayerWeights& l = w.layers[static_cast<size_t>(i)];
        const std::string g = "v.blk." + std::to_string(i) + ".";
        const bool clip = c.use_clipped_linears;
        l.ln1 = b.vector(g + "ln1.weight", Hv);
        l.q = b.linear(g + "attn_q", clip);
        l.k = b.linear(g + "attn_k", clip);
        l.v = b.linear(g + "attn_v", clip);
        l.o = b.linear(g + "attn_out", clip);
        l.q_norm = b.vector(g + "attn_q_norm.weight", dh);
        l.k_norm = b.vector(g + "attn_k_norm.weight", dh);
        l.attn_post_norm = b.vector(g + "attn_post_norm.weight", Hv);
        l.ln2 = b.vector(g + "ln2.weight", Hv);
        l.gate = b.linear(g + "ffn_gate", clip);
        l.up = b.linear(g + "ffn_up", clip);
        l.down = b.linear(g + "ffn_down", clip);
        l.ffn_post_norm = b.vector(g + "ffn_post_norm.weight", Hv);
    }
    if (c.standardize) {
        w.std_bias = b.vector("v.std_bias", Hv).f32;
        w.std_scale = b.vector("v.std_scale", Hv).f32;
    }
    w.embedding = b.get("mm.input_projection.weight");
    if (w.embedding.cols != Hv || w.embedding.rows != files.config().text.hidden_size)
        throw ModelError("tensor mm.input_projection.weight does not map the tower's width to the text model's");
    return w;
}

}  // namespace gd
