// libFuzzer target: config.json of a Hugging Face folder -> ModelConfig -> the tensor list it implies.
// The config is untrusted input that sizes everything downstream: any exception other than gd::Error
// (or nlohmann's parse error for text that is not JSON), any crash, sanitizer report or runaway
// allocation is a finding.
#include <cstddef>
#include <cstdint>

#include <nlohmann/json.hpp>

#include "common/error.h"
#include "model/hf_config.h"
#include "model/tensor_names.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    nlohmann::json j;
    try {
        j = nlohmann::json::parse(data, data + size);
    } catch (const nlohmann::json::exception&) {
        return 0;  // not JSON: HfFolder rejects it before the config parser sees it
    }
    try {
        const gd::ModelConfig c = gd::config_from_hf_json(j, "config.json");
        (void)gd::count_params(c);
        (void)gd::config_to_hf_json(c);
    } catch (const gd::Error&) {
    }
    return 0;
}
