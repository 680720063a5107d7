#pragma once
// Where the model stores of other tools live on this machine, from the home folder and the same
// environment variables those tools read.
#include <string>
#include <vector>

#include "catalog/model_discovery.h"

namespace gd {

// An environment variable as DiscoveryOptions sees it ("" when unset or empty).
std::string discovery_env(const DiscoveryOptions& o, const std::string& key);
// options.home, else $HOME ("" when neither is known).
std::string discovery_home(const DiscoveryOptions& o);

// The Hugging Face hub cache: $HF_HUB_CACHE, else $HF_HOME/hub, else
// ${XDG_CACHE_HOME:-~/.cache}/huggingface/hub (huggingface_hub's own rule).
std::string hf_hub_cache_dir(const DiscoveryOptions& o);
// Ollama's model stores: $OLLAMA_MODELS or ~/.ollama/models, then the system service's.
std::vector<std::string> ollama_store_dirs(const DiscoveryOptions& o);
// LM Studio's model folders: ~/.lmstudio/models, the downloadsFolder of ~/.lmstudio/settings.json
// when set, and the legacy ~/.cache/lm-studio/models.
std::vector<std::string> lmstudio_model_dirs(const DiscoveryOptions& o);

}  // namespace gd
