#include "model/model_report.h"

#include <nlohmann/json.hpp>

namespace gd {

uint64_t ModelReport::text_bytes_excluding_ple_table() const {
    uint64_t n = 0;
    for (int p = 0; p < static_cast<int>(Part::Count); ++p)
        if (part_is_text(static_cast<Part>(p)) && static_cast<Part>(p) != Part::PleTable) n += part_bytes[p];
    return n;
}

uint64_t ModelReport::vision_bytes() const {
    return part_bytes[static_cast<int>(Part::VisionTower)] + part_bytes[static_cast<int>(Part::VisionEmbedder)];
}

uint64_t ModelReport::audio_bytes() const {
    return part_bytes[static_cast<int>(Part::AudioTower)] + part_bytes[static_cast<int>(Part::AudioEmbedder)];
}

uint64_t ModelReport::total_bytes() const {
    uint64_t n = 0;
    for (uint64_t b : part_bytes) n += b;
    return n;
}

ModelReport make_report(const ModelFiles& m) {
    ModelReport r;
    const ModelConfig& c = m.config();
    r.format = m.format() == ModelFormat::Gguf ? "GGUF" : "safetensors";
    r.variant = variant_name(c.variant);
    r.tiny_test_model = m.is_tiny_test_model();
    r.family = c.variant == Variant::Custom ? variant_name(family_of(c)) : r.variant;
    r.description = describe(c);
    r.has_vision = c.vision.has_value();
    r.has_audio = c.audio.has_value();
    std::map<std::string, uint64_t> matrix_bytes;
    for (const ModelTensor& t : m.tensors()) {
        const uint64_t n = t.view.elements();
        const int part = static_cast<int>(t.spec.part);
        if (t.spec.buffer) r.params.buffers += n;
        else if (!t.spec.gguf_only) r.params.by_part[part] += n;
        r.part_bytes[part] += t.view.nbytes;
        TypeUse& u = r.types[dtype_name(t.view.type)];
        ++u.tensors;
        u.elements += n;
        u.bytes += t.view.nbytes;
        if (t.view.shape.size() >= 2) matrix_bytes[dtype_name(t.view.type)] += t.view.nbytes;
    }
    uint64_t best = 0;
    for (const auto& [type, bytes] : matrix_bytes)
        if (bytes > best) {
            best = bytes;
            r.weight_type = type;
        }
    r.files = m.files();
    for (const auto& f : r.files) r.file_bytes += f.bytes;
    r.notes = m.notes();
    r.unused = m.unused_tensors();
    return r;
}

nlohmann::json report_to_json(const ModelReport& r) {
    using json = nlohmann::json;
    json params = json::object();
    for (int p = 0; p < static_cast<int>(Part::Count); ++p) params[part_name(static_cast<Part>(p))] = r.params.by_part[p];
    json memory = json::object();
    for (int p = 0; p < static_cast<int>(Part::Count); ++p) memory[part_name(static_cast<Part>(p))] = r.part_bytes[p];
    json types = json::object();
    for (const auto& [name, u] : r.types) types[name] = {{"tensors", u.tensors}, {"elements", u.elements}, {"bytes", u.bytes}};
    json files = json::array();
    for (const auto& f : r.files) files.push_back({{"path", f.path}, {"bytes", f.bytes}, {"role", f.role}});
    json unused = json::array();
    for (const auto& [name, why] : r.unused) unused.push_back({{"tensor", name}, {"reason", why}});
    return {
        {"format", r.format},
        {"variant", r.variant},
        {"tiny_test_model", r.tiny_test_model},
        {"family", r.family},
        {"description", r.description},
        {"modalities", {{"text", true}, {"image", r.has_vision}, {"audio", r.has_audio}}},
        {"weight_type", r.weight_type},
        {"parameters",
         {{"text", r.params.text()},
          {"vision", r.params.vision()},
          {"audio", r.params.audio()},
          {"total", r.params.total()},
          {"per_layer_embedding_table", r.params[Part::PleTable]},
          {"buffers", r.params.buffers},
          {"by_part", params}}},
        {"memory_bytes",
         {{"text_excluding_per_layer_embedding_table", r.text_bytes_excluding_ple_table()},
          {"per_layer_embedding_table", r.ple_table_bytes()},
          {"vision", r.vision_bytes()},
          {"audio", r.audio_bytes()},
          {"total", r.total_bytes()},
          {"by_part", memory}}},
        {"tensor_types", types},
        {"files", files},
        {"file_bytes", r.file_bytes},
        {"notes", r.notes},
        {"unused_tensors", unused},
    };
}

}  // namespace gd
