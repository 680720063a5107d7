#pragma once
// The sampling settings a model ships with: generation_config.json in a Hugging Face folder, the
// general.sampling.* keys llama.cpp's converter writes into a GGUF file, else Google's recommended
// Gemma 4 values (spec §5.5). Files are untrusted: a value of the wrong type or out of range is
// ignored (the recommended value stays) and named in `notes`, never an error.
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "format/gguf.h"
#include "model/model_files.h"

namespace gd {

struct GenerationDefaults {
    float temperature = 1.0f;  // 0 = greedy
    int top_k = 64;            // 0 = off
    float top_p = 0.95f;       // 1 = off
    float min_p = 0.0f;        // 0 = off
    std::string source = "Gemma 4 recommended";  // or "generation_config.json", "gguf"
    std::vector<std::string> notes;              // values found but ignored, in plain words
};

GenerationDefaults read_generation_defaults(const ModelFiles& m);

// The two readers on their own (tests, and callers holding only the file). `where` names the file in notes.
GenerationDefaults generation_defaults_from_json(const nlohmann::json& generation_config, const std::string& where);
GenerationDefaults generation_defaults_from_gguf(const GgufFile& f);

}  // namespace gd
