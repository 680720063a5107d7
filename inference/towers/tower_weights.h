#pragma once
// What the vision and audio towers share when they bind their weights (spec §6.2, §6.4): tensors
// looked up by internal name in the model files and placed on a backend, checked vectors and clip
// bounds, and the clipped linear layer of the E2B/E4B towers.
#include <string>

#include "backend/backend.h"
#include "model/model_files.h"

namespace gd {

// A linear layer without bias; "clipped" on the E2B/E4B towers (spec §3.4, §4.5, §9 item 23): its
// input is clamped to [in_min, in_max] before the product and its output to [out_min, out_max] after,
// with this layer's own four stored scalars.
struct ClippedLinear {
    Weight w;
    bool clipped = false;
    float in_min = 0, in_max = 0, out_min = 0, out_max = 0;
};

// y = clamp(clamp(x) · Wᵀ) with the linear's own bounds (a plain product when not clipped).
// `scratch` (x's shape) takes the clamped input so that x, shared by several linears, keeps its
// values; scratch may be x itself when x is not needed afterwards.
void apply_linear(Backend& backend, const ClippedLinear& l, const Tensor& x, const Tensor& y, const Tensor& scratch);

class TowerBinder {
public:
    // `tower` names the tower in messages ("vision tower", "audio tower").
    TowerBinder(const ModelFiles& files, Backend& backend, std::string tower)
        : files_(files), backend_(backend), tower_(std::move(tower)) {}

    // The tensor's file entry; throws ModelError naming it when missing.
    const ModelTensor& tensor(const std::string& name) const;
    const ModelTensor* find(const std::string& name) const { return files_.find(name); }
    // The tensor placed on the backend as stored.
    Weight get(const std::string& name) { return place(tensor(name).view, name); }
    // The same with its elements seen as a [rows, cols] matrix (a conv kernel as a matrix).
    Weight matrix(const std::string& name, int64_t rows, int64_t cols);
    // A norm weight (or other vector) of exactly n finite values (kept as f32 too).
    Weight vector(const std::string& name, int64_t n);
    // A clip bound: one value (0-d in HF, 1-element in GGUF). May be infinite, never NaN.
    float scalar(const std::string& name);
    // `name`.weight, and when clipped its four bounds `name`.input_min/.input_max/.output_min/.output_max.
    ClippedLinear linear(const std::string& name, bool clipped);
    Weight place(const TensorView& view, const std::string& name);

private:
    const ModelFiles& files_;
    Backend& backend_;
    std::string tower_;
};

}  // namespace gd
