#pragma once
// config.json of a Hugging Face Gemma 4 checkpoint -> ModelConfig. Missing fields take the defaults
// of transformers' Gemma4*Config classes, so a config parses the way transformers reads it.
#include <string>

#include <nlohmann/json_fwd.hpp>

#include "model/model_config.h"

namespace gd {

// `source` names the file in errors. Accepts the multimodal config (text_config / vision_config /
// audio_config) and a text-only config (model_type "gemma4_text" at the top level). Throws
// ModelError for a config that is not Gemma 4 or has fields of the wrong type.
ModelConfig config_from_hf_json(const nlohmann::json& config, const std::string& source);

// The config.json transformers would write for this config (used by make-test-model).
nlohmann::json config_to_hf_json(const ModelConfig& c);

}  // namespace gd
