#include "engine_options.h"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <unistd.h>


namespace gd::cli {

const std::set<std::string> kModelOptions = {"model", "mmproj", "threads", "context", "batch", "device", "gpu-layers",
                                             "quantize"};
const std::set<std::string> kSamplingOptions = {"temperature", "top-k", "top-p", "min-p", "seed",
                                                "repetition-penalty", "presence-penalty", "max-tokens"};
const char* kModelOptionsHelp =
    "  --model PATH       a GGUF file or a Hugging Face model folder\n"
    "  --mmproj PATH      (GGUF) the vision/audio projector file (default: found next to the model)\n"
    "  --threads N        CPU threads (default: one per core)\n"
    "  --context N        context length in tokens (default 8192, at most the model's maximum)\n"
    "  --batch N          most tokens per prefill chunk (default 512)\n"
    "  --device D         auto (default: the GPU, with as many layers as fit it), cpu, cuda or cuda:N\n"
    "  --gpu-layers N     decoder layers on the GPU, from the first; the rest run on the CPU (default: all\n"
    "                     for cuda, as many as fit for auto; see gemmadesk-cli plan)\n"
    "  --quantize TYPE    re-encode bf16/f16/f32 text weights as TYPE (q8_0, q4_k, ...) while loading\n";
const char* kSamplingOptionsHelp =
    "  --max-tokens N     most tokens to generate (default 512)\n"
    "  --temperature T    0 = greedy (default 1.0)\n"
    "  --top-k K          (default 64; 0 = off)   --top-p P (default 0.95)   --min-p P (default 0)\n"
    "  --repetition-penalty R (default 1 = off)   --presence-penalty P (default 0)\n"
    "  --seed S           sampling seed (default 0): the same seed gives the same output\n";

std::set<std::string> options_union(std::initializer_list<std::set<std::string>> sets) {
    std::set<std::string> out;
    for (const auto& s : sets) out.insert(s.begin(), s.end());
    return out;
}

double parse_double(const std::string& s, const std::string& what) {
    char* end = nullptr;
    const double v = std::strtod(s.c_str(), &end);
    if (s.empty() || *end != '\0') throw UsageError(what + ": not a number: " + s);
    return v;
}

std::vector<int32_t> parse_ids(const std::string& list) {
    std::vector<int32_t> ids;
    size_t i = 0;
    while (i <= list.size()) {
        const size_t j = std::min(list.find(',', i), list.size());
        const std::string item = list.substr(i, j - i);
        const uint64_t v = parse_uint(item, "--ids");
        if (v > 0x7fffffff) throw UsageError("--ids: " + item + " is too large");
        ids.push_back(static_cast<int32_t>(v));
        i = j + 1;
    }
    if (ids.empty()) throw UsageError("--ids: no ids given");
    return ids;
}

std::shared_ptr<Model> load_model(const ParsedArgs& a, bool quiet, int64_t context_needed) {
    LoadOptions o;
    const auto model = a.value("model");
    if (!model) throw UsageError("--model PATH is required");
    o.paths.push_back(*model);
    if (auto m = a.value("mmproj")) o.paths.push_back(*m);
    if (auto t = a.value("threads")) o.threads = static_cast<int>(parse_uint(*t, "--threads"));
    if (auto c = a.value("context")) o.context = static_cast<int64_t>(parse_uint(*c, "--context"));
    else o.context = std::max(o.context, context_needed);  // the engine caps it at the model's maximum
    if (auto b = a.value("batch")) o.batch = static_cast<int64_t>(parse_uint(*b, "--batch"));
    if (auto d = a.value("device")) {
        if (*d == "auto") o.device = LoadOptions::Device::Auto;
        else if (*d == "cpu") o.device = LoadOptions::Device::Cpu;
        else if (*d == "cuda") o.device = LoadOptions::Device::Cuda;
        else if (d->rfind("cuda:", 0) == 0) {
            o.device = LoadOptions::Device::Cuda;
            o.gpu = static_cast<int>(parse_uint(d->substr(5), "--device cuda:N"));
        } else {
            throw UsageError("--device: '" + *d + "' is not one of auto, cpu, cuda, cuda:N");
        }
    }
    if (auto g = a.value("gpu-layers")) o.gpu_layers = static_cast<int64_t>(parse_uint(*g, "--gpu-layers"));
    if (auto q = a.value("quantize")) {
        const auto t = dtype_from_name(*q);
        if (!t) throw UsageError("--quantize: '" + *q + "' is not a type name (q8_0, q4_k, ...)");
        o.quantize = *t;
    }
    const bool show = !quiet && isatty(STDERR_FILENO);
    auto m = Model::load(o, [&](double f, const std::string& stage) {
        if (show) std::fprintf(stderr, "\rloading: %3.0f%% %-20s", f * 100, stage.c_str());
        return true;
    });
    if (show) std::fprintf(stderr, "\r%60s\r", "");
    if (m->quantized_tensors() > 0 && !quiet) {
        // Offer to keep the result: the same bytes come out of `quantize` for a GGUF model.
        std::fprintf(stderr, "quantized %llu tensors to %s while loading (%.2f GB -> %.2f GB)",
                     static_cast<unsigned long long>(m->quantized_tensors()), dtype_name(*o.quantize),
                     m->quantized_bytes_in() / 1e9, m->quantized_bytes_out() / 1e9);
        if (m->files().format() == ModelFormat::Gguf)
            std::fprintf(stderr, "; to keep it as a file: gemmadesk-cli quantize %s OUT.gguf --type %s\n",
                         model->c_str(), dtype_name(*o.quantize));
        else
            std::fprintf(stderr, " (a Hugging Face folder: convert it to GGUF to keep a quantized file)\n");
    }
    return m;
}

nlohmann::json stats_json(const GenerationStats& s) {
    return {{"prompt_tokens", s.prompt_tokens},
            {"prefilled_tokens", s.prefilled_tokens},
            {"generated_tokens", s.generated_tokens},
            {"prefill_seconds", s.prefill_seconds},
            {"generation_seconds", s.generation_seconds},
            {"time_to_first_token_seconds", s.time_to_first_token},
            {"prompt_tokens_per_second", s.prompt_tokens_per_second()},
            {"generated_tokens_per_second", s.generated_tokens_per_second()},
            {"peak_rss_bytes", s.peak_rss_bytes},
            {"kv_cache_bytes", s.kv_cache_bytes}};
}

GenerateOptions generate_options(const ParsedArgs& a) {
    GenerateOptions g;
    if (auto v = a.value("max-tokens")) g.max_tokens = static_cast<int64_t>(parse_uint(*v, "--max-tokens"));
    if (auto v = a.value("temperature")) g.sampling.temperature = static_cast<float>(parse_double(*v, "--temperature"));
    if (auto v = a.value("top-k")) g.sampling.top_k = static_cast<int32_t>(parse_uint(*v, "--top-k"));
    if (auto v = a.value("top-p")) g.sampling.top_p = static_cast<float>(parse_double(*v, "--top-p"));
    if (auto v = a.value("min-p")) g.sampling.min_p = static_cast<float>(parse_double(*v, "--min-p"));
    if (auto v = a.value("seed")) g.sampling.seed = parse_uint(*v, "--seed");
    if (auto v = a.value("repetition-penalty")) g.sampling.repetition_penalty = static_cast<float>(parse_double(*v, "--repetition-penalty"));
    if (auto v = a.value("presence-penalty")) g.sampling.presence_penalty = static_cast<float>(parse_double(*v, "--presence-penalty"));
    Sampler check(g.sampling);  // rejects invalid values with a clear message
    (void)check;
    return g;
}

}  // namespace gd::cli
