#pragma once
// A tensor as it lies in a mapped file: name, stored type, shape and the bytes. Shapes are in
// row-major order, outermost dimension first (PyTorch order); GGUF's ne[] is reversed on read.
// `data` points into the mapping: it is valid while the GgufFile / SafetensorsFile / ModelFiles it
// came from (or a copy of it, which shares the mapping) is alive, and it may be unaligned.
#include <cstdint>
#include <string>
#include <vector>

#include "format/dtype.h"

namespace gd {

struct TensorView {
    std::string name;
    DType type = DType::F32;
    std::vector<uint64_t> shape;  // outermost first; empty = scalar
    const uint8_t* data = nullptr;
    uint64_t nbytes = 0;

    uint64_t elements() const {
        uint64_t n = 1;
        for (uint64_t d : shape) n *= d;  // readers have checked this product for overflow
        return n;
    }
};

std::string shape_to_string(const std::vector<uint64_t>& shape);  // "[2048, 1536]"

}  // namespace gd
