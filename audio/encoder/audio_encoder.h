#pragma once
// The Gemma 4 audio tower (spec §4.3–4.6), written once against the Backend op interface: the
// sub-sampling convolutions (two 3x3 stride-2 convs, each with a channel LayerNorm and ReLU), the
// input projection, the conformer layers (macaron half-step FFNs, local attention with the relative
// position term and the logit cap, the light convolution module, clipped linears, norms), the output
// projection (with bias) and the embedder into the text model's width.
//
// One piece (at most 30 s) at a time; every frame of it is real audio, so the reference's validity
// mask is all true and nothing is masked or dropped (audio/features/log_mel.h).
//
// Intermediate tensors carry these names for comparison with the reference
// (tools/reference/dump_audio_reference.py):
//   sscp_conv0  [T1*F1, C0]  after block 0 (rows (t, f), channels last)
//   sscp_conv1  [T2*F2, C1]  after block 1
//   sscp_out    [T2, Ha]     after the input projection
//   a_ffw1-N, a_attn-N, a_lconv-N, a_ffw2-N  [T2, Ha]  after each residual part of layer N
//   a_out-N     [T2, Ha]     output of layer N (after norm_out)
//   output_proj [T2, P]      after the output projection and its bias
//   soft_tokens [T2, H]      after the embedder: what the prompt receives
#include <atomic>
#include <cstdint>
#include <memory>
#include <vector>

#include "audio/features/log_mel.h"
#include "backend/backend.h"
#include "model/model_files.h"

namespace gd {

class AudioEncoder {
public:
    // Places the tower's weights (from the HF checkpoint or the GGUF mmproj) on `backend`. Throws
    // ModelError when the model has no audio tower or a tensor is missing.
    AudioEncoder(const ModelFiles& files, Backend& backend);
    ~AudioEncoder();

    // Soft tokens [tokens, text hidden] on the host, row-major, for one piece's log-mel features
    // (tokens = ceil(ceil(frames / 2) / 2)). `cancel` is checked between layers (gd::Cancelled).
    std::vector<float> encode(const LogMel& features, const TensorObserver& observe = {},
                              const std::atomic<bool>* cancel = nullptr);

    // Soft tokens the tower makes of `frames` feature frames.
    static int64_t tokens_for_frames(int64_t frames);
    int64_t output_width() const;
    uint64_t weight_bytes() const;

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

}  // namespace gd
