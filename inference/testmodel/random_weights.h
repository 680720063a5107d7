#pragma once
// Deterministic random weights for test models. Every value is a pure function of (seed, tensor
// name, element index), so any row can be produced on any thread, a model is byte-identical however
// it is written, and the GGUF and safetensors files of one seed hold the same model.
#include <cstdint>
#include <string>

#include "model/tensor_names.h"

namespace gd {

class WeightInit {
public:
    // Chooses the distribution from the tensor's role: norms around 1, layer scalars in [0.3, 0.9],
    // clip bounds of a few units, matrices scaled by 1/sqrt(fan-in), llama.cpp's rope_freqs exactly.
    WeightInit(const ExpectedTensor& t, uint64_t seed, const ModelConfig& c);

    // Value of element `index` in the canonical (HF, PyTorch-order) layout.
    float value(uint64_t index) const;
    // Values of elements [index0, index0 + n): the same as value() element by element, in a loop the
    // compiler vectorises (full-size models have billions of elements).
    void fill(uint64_t index0, float* out, uint64_t n) const;

private:
    enum class Kind { Uniform, RopeFreqs };
    Kind kind_ = Kind::Uniform;
    uint64_t key_ = 0;
    float lo_ = 0, hi_ = 0;
    uint64_t rotated_pairs_ = 0;
};

}  // namespace gd
