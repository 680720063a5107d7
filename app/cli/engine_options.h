#pragma once
// What the engine-driving subcommands (score, generate, chat, bench) share: the model options, the
// sampling options and loading with progress on stderr.
#include <memory>
#include <set>
#include <string>
#include <vector>
#include <nlohmann/json.hpp>

#include "args.h"
#include "engine/engine.h"

namespace gd::cli {

// --model PATH [--mmproj PATH] [--threads N] [--context N] [--batch N]
extern const std::set<std::string> kModelOptions;
// --temperature --top-k --top-p --min-p --seed --repetition-penalty --presence-penalty --max-tokens
extern const std::set<std::string> kSamplingOptions;
extern const char* kModelOptionsHelp;
extern const char* kSamplingOptionsHelp;

std::set<std::string> options_union(std::initializer_list<std::set<std::string>> sets);
// Loads the model; a progress line on stderr when it is a terminal. Without --context, a context of
// at least `context_needed` tokens (when larger than the default): long audio prompts still fit.
std::shared_ptr<Model> load_model(const ParsedArgs& a, bool quiet = false, int64_t context_needed = 0);
GenerateOptions generate_options(const ParsedArgs& a);
// "2,105,7" -> ids. Throws UsageError.
std::vector<int32_t> parse_ids(const std::string& list);
double parse_double(const std::string& s, const std::string& what);
// {"prompt_tokens", "prefilled_tokens", "generated_tokens", ..., "kv_cache_bytes"} for --json reports.
nlohmann::json stats_json(const GenerationStats& s);

// --image FILE (repeatable) --image-tokens N
extern const std::set<std::string> kImageOptions;
extern const char* kImageOptionsHelp;
// --image-tokens: 1..1120 (default 280). Throws UsageError.
int64_t image_tokens(const ParsedArgs& a);
// Each --image decoded, in order, with the budget: done before the model loads, so a wrong path or a
// damaged file fails at once.
struct ImageArgs {
    std::vector<std::string> files;
    std::vector<RgbImage> images;
    int64_t budget = 0;
};
ImageArgs decode_images(const ParsedArgs& a);
// Runs each image through the vision tower; a line per image on stderr unless quiet.
std::vector<std::shared_ptr<const MediaEmbedding>> encode_images(Model& model, const ImageArgs& images, bool quiet);
// {"file", "width", "height", "grid": [w, h], "tokens", "encode_seconds"} for --json reports.
nlohmann::json image_report(const std::string& file, const MediaEmbedding& m);

}  // namespace gd::cli
