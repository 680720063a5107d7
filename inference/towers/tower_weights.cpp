#include "towers/tower_weights.h"

#include <cmath>

#include "common/error.h"

namespace gd {

void apply_linear(Backend& backend, const ClippedLinear& l, const Tensor& x, const Tensor& y, const Tensor& scratch) {
    if (!l.clipped) return backend.matmul(l.w, x, y);
    backend.clamp(x, l.in_min, l.in_max, scratch);
    backend.matmul(l.w, scratch, y);
    backend.clamp(y, l.out_min, l.out_max, y);
}

const ModelTensor& TowerBinder::tensor(const std::string& name) const {
    const ModelTensor* t = files_.find(name);
    if (!t) throw ModelError("the " + tower_ + " has no tensor " + name);
    return *t;
}

Weight TowerBinder::matrix(const std::string& name, int64_t rows, int64_t cols) {
    TensorView v = tensor(name).view;
    if (rows <= 0 || cols <= 0 || v.elements() != static_cast<uint64_t>(rows) * static_cast<uint64_t>(cols))
        throw ModelError("tensor " + name + " has " + std::to_string(v.elements()) + " elements, expected " +
                         std::to_string(rows) + " x " + std::to_string(cols));
    v.shape = {static_cast<uint64_t>(rows), static_cast<uint64_t>(cols)};
    return place(v, name);
}

Weight TowerBinder::vector(const std::string& name, int64_t n) {
    Weight w = get(name);
    if (w.experts != 1 || w.rows != 1 || w.cols != n)
        throw ModelError("tensor " + name + " has " + std::to_string(w.rows * w.cols) + " elements, expected " +
                         std::to_string(n));
    for (float v : w.f32)
        if (!std::isfinite(v)) throw ModelError("tensor " + name + " holds NaN or infinite values");
    return w;
}

float TowerBinder::scalar(const std::string& name) {
    const Weight w = get(name);
    if (w.f32.size() != 1) throw ModelError("tensor " + name + " should hold one value");
    if (std::isnan(w.f32[0])) throw ModelError("tensor " + name + " is NaN");
    return w.f32[0];
}

ClippedLinear TowerBinder::linear(const std::string& name, bool clipped) {
    ClippedLinear l;
    l.w = get(name + ".weight");
    l.clipped = clipped;
    if (clipped) {
        l.in_min = scalar(name + ".input_min");
        l.in_max = scalar(name + ".input_max");
        l.out_min = scalar(name + ".output_min");
        l.out_max = scalar(name + ".output_max");
    }
    return l;
}

Weight TowerBinder::place(const TensorView& view, const std::string& name) {
    Weight w = backend_.upload_weight(view);
    w.name = name;
    return w;
}

}  // namespace gd
