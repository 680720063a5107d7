#pragma once
// What a model is, from its files: variant, parameter counts per part (counted from the tensors the
// files hold), tensor types, file sizes and the memory each part needs as stored. Used by
// `gemmadesk-cli inspect` and by the app's model picker.
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "model/model_files.h"

namespace gd {

struct TypeUse {
    uint64_t tensors = 0;
    uint64_t elements = 0;
    uint64_t bytes = 0;
};

struct ModelReport {
    std::string format;         // "GGUF" or "safetensors"
    std::string variant;        // "e2b", "31b", "custom"
    bool tiny_test_model = false;
    std::string family;         // for custom models: the variant its structure resembles
    std::string description;    // one line from describe()
    bool has_vision = false, has_audio = false;
    ParamCounts params;         // from the tensors in the files
    std::map<std::string, TypeUse> types;  // by dtype name
    uint64_t part_bytes[static_cast<int>(Part::Count)] = {};
    uint64_t buffer_bytes = 0;
    std::string weight_type;    // the type most matrix bytes are stored in, e.g. "q4_k"
    std::vector<ModelFileInfo> files;
    uint64_t file_bytes = 0;
    std::vector<std::string> notes;
    std::vector<std::pair<std::string, std::string>> unused;

    uint64_t text_bytes_excluding_ple_table() const;
    uint64_t ple_table_bytes() const { return part_bytes[static_cast<int>(Part::PleTable)]; }
    uint64_t vision_bytes() const;
    uint64_t audio_bytes() const;
    uint64_t total_bytes() const;
};

ModelReport make_report(const ModelFiles& m);
nlohmann::json report_to_json(const ModelReport& r);

}  // namespace gd
