#pragma once
// The audio tower's sub-sampling convolution projection (SSCP, spec §4.3): the log-mel features
// [T, 128] seen as a one-channel image (height = time, width = mel), two 3x3 stride-2 convolutions
// with padding 1 and no bias, each followed by a LayerNorm over channels and a ReLU, then the
// (freq, channel) flatten and the input projection: [T2, Ha] with T2 = ceil(ceil(T/2)/2).
#include <cstdint>

#include "audio/encoder/audio_weights.h"
#include "audio/features/log_mel.h"
#include "backend/backend.h"
#include "model/model_config.h"

namespace gd {

// Output length of one 3x3 stride-2 convolution with padding 1: floor((n - 1) / 2) + 1.
constexpr int64_t conv_output_length(int64_t n) { return n <= 0 ? 0 : (n - 1) / 2 + 1; }

// The SSCP output [T2, Ha]; emits sscp_conv0, sscp_conv1 and sscp_out to `observe`.
Tensor audio_subsample(Backend& backend, const AudioWeights& w, const AudioConfig& c, const LogMel& features,
                       const TensorObserver& observe);

}  // namespace gd
