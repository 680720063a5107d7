#include "catalog/decode_traffic.h"

#include <string>

#include "model/model_files.h"

namespace gd {

namespace {
bool is_expert_matrix(const ModelTensor& t) {
    return t.spec.part == Part::Moe && t.spec.name.find("_exps.weight") != std::string::npos;
}
}  // namespace

DecodeTraffic decode_traffic(const ModelFiles& files) {
    const TextConfig& c = files.config().text;
    DecodeTraffic d;
    for (const ModelTensor& t : files.tensors()) {
        switch (t.spec.part) {
            case Part::PleTable:
            case Part::VisionTower:
            case Part::VisionEmbedder:
            case Part::AudioTower:
            case Part::AudioEmbedder:
            case Part::Count:
                continue;
            default:
                break;
        }
        if (is_expert_matrix(t) && c.num_experts > 0) {
            // Experts are stored one after another: each routed one is nbytes / num_experts.
            d.expert_bytes += t.view.nbytes / static_cast<uint64_t>(c.num_experts) *
                              static_cast<uint64_t>(c.top_k_experts);
        } else {
            d.dense_bytes += t.view.nbytes;
        }
    }
    d.weight_bytes = d.dense_bytes + d.expert_bytes;
    return d;
}

}  // namespace gd
