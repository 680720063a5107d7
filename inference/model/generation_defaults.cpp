#include "model/generation_defaults.h"

#include <cmath>
#include <cstdio>
#include <optional>

#include <nlohmann/json.hpp>

#include "common/error.h"

namespace gd {
namespace {

// The ranges the sampler accepts (sampling/sampler.cpp), with a sane upper bound on temperature and
// top_k so a garbled file cannot ask for nonsense.
constexpr double kMaxTemperature = 100.0;
constexpr double kMaxTopK = 1 << 24;

std::string number_text(double v) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%g", v);
    return buf;
}

// Applies one value read from a file, or notes why it was ignored. Returns whether it was used.
struct Applier {
    GenerationDefaults& d;
    const std::string& where;

    bool ignore(const std::string& key, const std::string& why) {
        d.notes.push_back(where + ": " + key + " " + why + ", ignored");
        return false;
    }
    bool temperature(const std::string& key, double v) {
        if (!std::isfinite(v) || v < 0 || v > kMaxTemperature)
            return ignore(key, number_text(v) + " is outside [0, " + number_text(kMaxTemperature) + "]");
        d.temperature = static_cast<float>(v);
        return true;
    }
    bool top_k(const std::string& key, double v) {
        if (!std::isfinite(v) || v != std::floor(v) || v > kMaxTopK) return ignore(key, number_text(v) + " is not a usable token count");
        d.top_k = v <= 0 ? 0 : static_cast<int>(v);  // llama.cpp and transformers both read <= 0 as "off"
        return true;
    }
    bool top_p(const std::string& key, double v) {
        if (!std::isfinite(v) || !(v > 0 && v <= 1)) return ignore(key, number_text(v) + " is outside (0, 1]");
        d.top_p = static_cast<float>(v);
        return true;
    }
    bool min_p(const std::string& key, double v) {
        if (!std::isfinite(v) || !(v >= 0 && v <= 1)) return ignore(key, number_text(v) + " is outside [0, 1]");
        d.min_p = static_cast<float>(v);
        return true;
    }
};

}  // namespace

GenerationDefaults generation_defaults_from_json(const nlohmann::json& j, const std::string& where) {
    GenerationDefaults d;
    if (!j.is_object()) return d;
    Applier a{d, where};
    bool used = false;
    auto number = [&](const char* key) -> std::optional<double> {
        const auto it = j.find(key);
        if (it == j.end() || it->is_null()) return std::nullopt;
        if (!it->is_number()) {
            a.ignore(key, "is not a number");
            return std::nullopt;
        }
        return it->get<double>();
    };
    if (auto v = number("temperature")) used |= a.temperature("temperature", *v);
    if (auto v = number("top_k")) used |= a.top_k("top_k", *v);
    if (auto v = number("top_p")) used |= a.top_p("top_p", *v);
    if (auto v = number("min_p")) used |= a.min_p("min_p", *v);
    // transformers samples only with do_sample true; an explicit false is greedy decoding.
    const auto sample = j.find("do_sample");
    if (sample != j.end() && sample->is_boolean() && !sample->get<bool>()) {
        d.temperature = 0.0f;
        used = true;
    }
    if (used) d.source = "generation_config.json";
    return d;
}

GenerationDefaults generation_defaults_from_gguf(const GgufFile& f) {
    GenerationDefaults d;
    Applier a{d, f.path()};
    bool used = false;
    // Key names as in llama.cpp's gguf-py (Keys.General.SAMPLING_*).
    auto number = [&](const char* key) -> std::optional<double> {
        const GgufValue* v = f.find(key);
        if (!v) return std::nullopt;
        if (!v->is_number()) {
            a.ignore(key, std::string("is a ") + gguf_type_name(v->type) + ", not a number");
            return std::nullopt;
        }
        try {
            return v->as_double();
        } catch (const Error&) {
            a.ignore(key, "cannot be read as a number");
            return std::nullopt;
        }
    };
    if (auto v = number("general.sampling.temp")) used |= a.temperature("general.sampling.temp", *v);
    if (auto v = number("general.sampling.top_k")) used |= a.top_k("general.sampling.top_k", *v);
    if (auto v = number("general.sampling.top_p")) used |= a.top_p("general.sampling.top_p", *v);
    if (auto v = number("general.sampling.min_p")) used |= a.min_p("general.sampling.min_p", *v);
    if (used) d.source = "gguf";
    return d;
}

GenerationDefaults read_generation_defaults(const ModelFiles& m) {
    if (const HfFolder* hf = m.hf_folder(); hf && hf->generation_config)
        return generation_defaults_from_json(hf->generation_config->json, hf->generation_config->path);
    if (const GgufFile* g = m.gguf_text()) return generation_defaults_from_gguf(*g);
    return {};
}

}  // namespace gd
