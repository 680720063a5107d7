#include "format/storage_type.h"

namespace gd {

DType gguf_storage_type(const std::string& name, const std::vector<uint64_t>& shape, DType wanted) {
    // llama.cpp keeps these in f32 whatever the file type: 1-D tensors, the vision position table,
    // the audio convolution kernels, the rope frequency table.
    if (shape.size() < 2 || name == "v.position_embd.weight" || name.rfind("a.conv1d.", 0) == 0 ||
        name.find("conv_dw") != std::string::npos)
        return DType::F32;
    const uint64_t row = shape.back();
    DType t = wanted;
    for (int step = 0; step < 4; ++step) {
        if (row % dtype_info(t).block_elems == 0) return t;
        switch (t) {
            case DType::Q4_K: t = DType::Q5_0; break;
            case DType::Q5_K: t = DType::Q5_1; break;
            case DType::Q6_K: t = DType::Q8_0; break;
            case DType::IQ4_XS: t = DType::IQ4_NL; break;
            case DType::Q2_K: case DType::Q3_K: t = DType::Q4_0; break;
            default: t = DType::F16; break;
        }
    }
    return DType::F16;
}

}  // namespace gd
