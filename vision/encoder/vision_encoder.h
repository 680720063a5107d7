#pragma once
// The Gemma 4 vision tower (spec §3.3–3.6), written once against the Backend op interface: patch
// embedding (+ learned 2-D position table), encoder layers with 2-D RoPE and bidirectional attention
// (clipped linears on the E2B/E4B tower, standardisation on the 26B/31B tower), 3x3 average pooling,
// x sqrt(Hv), and the embedder into the text model's width.
//
// Intermediate tensors carry these names for comparison with the reference:
//   patch_embd [patches, Hv]   input_proj(2x-1) + position table
//   v_out-N    [patches, Hv]   output of encoder layer N
//   pooled     [tokens, Hv]    after 3x3 averaging, x sqrt(Hv) (and standardisation on 26B/31B)
//   soft_tokens [tokens, H]    after the embedder: what the prompt receives
#include <atomic>
#include <cstdint>
#include <memory>
#include <vector>

#include "backend/backend.h"
#include "model/model_files.h"
#include "vision/image/image_preprocess.h"

namespace gd {

class VisionEncoder {
public:
    // Places the tower's weights (from the HF checkpoint or the GGUF mmproj) on `backend`. Throws
    // ModelError when the model has no vision tower or a tensor is missing.
    VisionEncoder(const ModelFiles& files, Backend& backend);
    ~VisionEncoder();

    // Soft tokens [image.size.soft_tokens(), text hidden] on the host, row-major. `cancel` is checked
    // between layers (gd::Cancelled).
    std::vector<float> encode(const PatchedImage& image, const TensorObserver& observe = {},
                              const std::atomic<bool>* cancel = nullptr);

    int64_t output_width() const;
    uint64_t weight_bytes() const;

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

}  // namespace gd
