#pragma once
// Bytes of weights one generated token reads (batch-1 decode), the denominator of the decode
// roofline: tokens/s can be at most memory bandwidth / these bytes.
//   counted: every text-decoder weight once (the token embedding in full: it is also the tied
//            output head), norms and per-layer-embedding projections;
//   MoE:     of each expert tensor only the routed share (top_k of num_experts experts);
//   left out: the per-layer-embedding table (one row per token, kept in host memory) and the vision
//            and audio towers (they run on images and audio, not per token).
#include <cstdint>

namespace gd {

class ModelFiles;

struct DecodeTraffic {
    uint64_t weight_bytes = 0;  // read per token, as above
    uint64_t dense_bytes = 0;   // of which every token reads in full (all but the experts)
    uint64_t expert_bytes = 0;  // of which the routed experts' share
};

DecodeTraffic decode_traffic(const ModelFiles& files);

}  // namespace gd
