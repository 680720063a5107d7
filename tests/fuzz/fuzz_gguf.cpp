// libFuzzer target: the GGUF reader on arbitrary bytes. Any exception other than gd::Error, any
// crash and any sanitizer report is a finding.
#include <cstddef>
#include <cstdint>

#include "common/error.h"
#include "format/gguf.h"
#include "format/quant/quant.h"
#include "model/gguf_config.h"
#include "model/tensor_names.h"

#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    try {
        const gd::GgufFile f = gd::GgufFile::parse({data, size}, "fuzz.gguf");
        // Touch what a loader touches: every value accessor and every tensor's bytes.
        for (const auto& [k, v] : f.metadata()) {
            try { (void)v.as_double(); } catch (const gd::Error&) {}
            try { (void)v.as_string(); } catch (const gd::Error&) {}
        }
        std::vector<float> row;
        for (const auto& t : f.tensor_infos()) {
            const gd::TensorView v = f.view(t);
            uint8_t acc = 0;
            for (uint64_t k = 0; k < v.nbytes; ++k) acc ^= v.data[k];
            (void)acc;
            const auto& info = gd::dtype_info(v.type);
            if (info.dequantizable && !v.shape.empty() && v.elements() <= 4096) {
                row.resize(v.elements());
                gd::dequantize_row(v.type, v.data, row.data(), row.size());
            }
        }
        // The model layer on top: metadata -> config -> expected tensors.
        const gd::ModelConfig c = gd::config_from_gguf(f, nullptr);
        (void)gd::count_params(c);
    } catch (const gd::Error&) {
    }
    return 0;
}
