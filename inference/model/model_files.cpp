#include "model/model_files.h"

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <regex>

#include "common/error.h"
#include "model/gguf_config.h"
#include "model/hf_config.h"

namespace gd {

namespace fs = std::filesystem;

bool same_shape_ignoring_ones(const std::vector<uint64_t>& a, const std::vector<uint64_t>& b) {
    std::vector<uint64_t> x, y;
    for (uint64_t d : a) if (d != 1) x.push_back(d);
    for (uint64_t d : b) if (d != 1) y.push_back(d);
    return x == y;
}

namespace {

uint64_t file_size_or_zero(const std::string& p) {
    std::error_code ec;
    const auto n = fs::file_size(p, ec);
    return ec ? 0 : n;
}

std::string lower(std::string s) {
    std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    return s;
}

}  // namespace

bool looks_like_gguf(const std::string& path) {
    std::ifstream f(path, std::ios::binary);
    char magic[4] = {};
    return f.read(magic, 4) && std::memcmp(magic, "GGUF", 4) == 0;
}

std::vector<std::shared_ptr<const GgufFile>> open_gguf_split_parts(const std::string& path,
                                                                    std::shared_ptr<const GgufFile> given) {
    const auto count = given->get_int_opt("split.count");
    if (!count || *count <= 1) return {given};
    if (*count > 9999) throw ModelError(path + ": split.count " + std::to_string(*count) + " is not a plausible number of parts");
    // gguf-split names the parts PREFIX-00001-of-00003.gguf.
    static const std::regex part_name(R"((.*)-(\d{5})-of-(\d{5})\.gguf)", std::regex::icase);
    std::smatch mt;
    const std::string name = fs::path(path).filename().string();
    if (!std::regex_match(name, mt, part_name) || std::stol(mt[3].str()) != *count)
        throw ModelError(path + " is part of a model split into " + std::to_string(*count) +
                         " files, but its name does not follow the PREFIX-0000N-of-0000M.gguf pattern of gguf-split");
    const fs::path dir = fs::path(path).parent_path();
    std::vector<std::shared_ptr<const GgufFile>> parts;
    for (int64_t k = 1; k <= *count; ++k) {
        char suffix[64];
        std::snprintf(suffix, sizeof suffix, "-%05lld-of-%05lld.gguf", static_cast<long long>(k), static_cast<long long>(*count));
        const fs::path p = dir / (mt[1].str() + suffix);
        std::error_code ec;
        if (!fs::exists(p, ec))
            throw ModelError(path + ": part " + std::to_string(k) + " of " + std::to_string(*count) + " is missing (" +
                             p.string() + ")");
        auto part = fs::equivalent(p, path, ec) ? given : std::make_shared<const GgufFile>(GgufFile::open(p.string()));
        const auto no = part->get_int_opt("split.no");
        if (!no || *no != k - 1 || part->get_int_opt("split.count") != count)
            throw ModelError(p.string() + ": its split.no / split.count metadata say it is not part " + std::to_string(k) +
                             " of " + std::to_string(*count));
        parts.push_back(part);
    }
    if (const auto total = parts[0]->get_int_opt("split.tensors.count")) {
        int64_t n = 0;
        for (const auto& p : parts) n += static_cast<int64_t>(p->tensor_infos().size());
        if (n != *total)
            throw ModelError(parts[0]->path() + ": the parts hold " + std::to_string(n) + " tensors, split.tensors.count says " +
                             std::to_string(*total));
    }
    return parts;
}

std::string find_mmproj_next_to(const std::string& text_model_path, int64_t text_hidden) {
    std::error_code ec;
    const fs::path parent = fs::path(text_model_path).parent_path();
    const fs::path dir = parent.empty() ? fs::path(".") : parent;
    std::vector<std::string> candidates;
    for (const auto& e : fs::directory_iterator(dir, ec)) {
        const std::string name = lower(e.path().filename().string());
        if (e.is_regular_file(ec) && name.ends_with(".gguf") && name.find("mmproj") != std::string::npos &&
            !fs::equivalent(e.path(), text_model_path, ec))
            candidates.push_back(e.path().lexically_normal().string());
    }
    std::sort(candidates.begin(), candidates.end());
    for (const auto& c : candidates) {
        try {
            const GgufFile m = GgufFile::open(c);
            if (m.architecture() != "clip") continue;
            const auto v = m.get_int_opt("clip.vision.projection_dim");
            const auto a = m.get_int_opt("clip.audio.projection_dim");
            if ((v && *v == text_hidden) || (a && *a == text_hidden)) return c;
        } catch (const Error&) {
            // A broken neighbour is not this model's mmproj; keep looking.
        }
    }
    return "";
}

bool ModelFiles::computable() const {
    for (const ModelTensor& t : tensors_)
        if (!dtype_info(t.view.type).dequantizable) return false;
    return true;
}

void ModelFiles::replace_view(const std::string& internal_name, DType type, const uint8_t* data, uint64_t nbytes) {
    auto it = index_.find(internal_name);
    if (it == index_.end()) throw ModelError("the model has no tensor " + internal_name);
    TensorView& v = tensors_[it->second].view;
    if (dtype_bytes(type, v.elements()) != nbytes) throw ModelError("tensor " + internal_name + ": replacement size does not match");
    v.type = type;
    v.data = data;
    v.nbytes = nbytes;
}

const ModelTensor* ModelFiles::find(const std::string& name) const {
    auto it = index_.find(name);
    return it == index_.end() ? nullptr : &tensors_[it->second];
}

const ModelTensor& ModelFiles::get(const std::string& name) const {
    const ModelTensor* t = find(name);
    if (!t) throw ModelError("the model has no tensor '" + name + "'");
    return *t;
}

void ModelFiles::bind_tensors(const std::vector<TensorView>& text_views, const std::string& text_file,
                              const std::vector<TensorView>& mmproj_views, const std::string& mmproj_file,
                              const std::map<std::string, std::string>& file_of) {
    const bool gguf = format_ == ModelFormat::Gguf;
    std::map<std::string, const TensorView*> text_by_name, mm_by_name;
    for (const auto& v : text_views) text_by_name[v.name] = &v;
    for (const auto& v : mmproj_views) mm_by_name[v.name] = &v;
    std::map<std::string, bool> used;
    std::map<std::string, int> unsupported;  // type -> tensors

    for (const ExpectedTensor& e : expected_tensors(config_)) {
        if (!gguf && e.gguf_only) continue;
        std::string stored_name = gguf ? e.name : e.hf_name;
        // Text-only checkpoints (Gemma4ForCausalLM) name the decoder model.* instead of model.language_model.*.
        static const std::string kMultimodalText = "model.language_model.";
        if (!gguf && stored_name.rfind(kMultimodalText, 0) == 0 && hf_text_prefix_ != kMultimodalText)
            stored_name = hf_text_prefix_ + stored_name.substr(kMultimodalText.size());
        const auto& pool = gguf && e.in_mmproj ? mm_by_name : text_by_name;
        const std::string& file = gguf && e.in_mmproj ? mmproj_file
                                  : file_of.count(stored_name) ? file_of.at(stored_name)
                                                               : text_file;
        auto it = pool.find(stored_name);
        if (it == pool.end()) {
            if (e.optional) continue;
            throw ModelError(file + ": tensor '" + stored_name + "' is missing; the model (" + variant_name(config_.variant) +
                             ") needs it with shape " + shape_to_string(e.shape) +
                             (gguf || e.hf_name.empty() ? "" : " (internal name " + e.name + ")"));
        }
        const TensorView& v = *it->second;
        used[stored_name] = true;
        const std::vector<uint64_t>& want = gguf && !e.gguf_shape.empty() ? e.gguf_shape : e.shape;
        if (!same_shape_ignoring_ones(v.shape, want))
            throw ModelError(file + ": tensor '" + stored_name + "' has shape " + shape_to_string(v.shape) + ", expected " +
                             shape_to_string(want) + " for this model");
        if (!dtype_info(v.type).dequantizable) ++unsupported[dtype_name(v.type)];
        index_[e.name] = tensors_.size();
        tensors_.push_back({e, v, file});
    }
    for (const auto& [type, n] : unsupported)
        notes_.push_back(std::to_string(n) + " tensors are stored as " + type +
                         ", a type Gemma Desk can describe but not compute with yet");
    for (const auto* pool : {&text_by_name, &mm_by_name})
        for (const auto& [name, v] : *pool) {
            if (used.count(name)) continue;
            const bool ignorable = is_ignorable_tensor(name, config_);
            unused_.emplace_back(name, ignorable ? "not used by this architecture (ignored as transformers does)"
                                                 : "not part of the Gemma 4 architecture");
        }
}

ModelFiles ModelFiles::open(const std::vector<std::string>& paths, bool find_mmproj) {
    if (paths.empty()) throw Error("no model path given");
    ModelFiles m;
    const std::string& first = paths[0];
    std::error_code ec;
    if (!fs::exists(first, ec)) throw Error(first + " does not exist");

    if (fs::is_regular_file(first, ec) && looks_like_gguf(first)) {
        m.format_ = ModelFormat::Gguf;
        if (paths.size() > 2) throw Error("a GGUF model is one text file, optionally followed by its mmproj file");
        auto text = std::make_shared<GgufFile>(GgufFile::open(first));
        // Files split by llama.cpp's gguf-split: the first holds the metadata, all hold tensors.
        std::vector<std::shared_ptr<const GgufFile>> parts = open_gguf_split_parts(first, text);
        std::shared_ptr<GgufFile> mm;
        std::string mm_path = paths.size() == 2 ? paths[1] : "";
        if (mm_path.empty() && find_mmproj && parts[0]->architecture() == "gemma4") {
            const auto hidden = parts[0]->get_int_opt("gemma4.embedding_length");
            if (hidden) mm_path = find_mmproj_next_to(first, *hidden);
        }
        if (!mm_path.empty()) mm = std::make_shared<GgufFile>(GgufFile::open(mm_path));
        m.config_ = config_from_gguf(*parts[0], mm.get(), parts);
        std::vector<TensorView> views;
        std::map<std::string, std::string> file_of;
        for (size_t k = 0; k < parts.size(); ++k) {
            m.files_.push_back({parts[k]->path(), parts[k]->file_size(),
                                parts.size() == 1 ? "text model"
                                                  : "text model (part " + std::to_string(k + 1) + " of " +
                                                        std::to_string(parts.size()) + ")"});
            for (TensorView& v : parts[k]->views()) {
                if (file_of.count(v.name))
                    throw ModelError(parts[k]->path() + ": tensor '" + v.name + "' is also in " + file_of[v.name]);
                file_of[v.name] = parts[k]->path();
                views.push_back(std::move(v));
            }
        }
        if (mm) m.files_.push_back({mm_path, mm->file_size(), "mmproj (vision/audio)"});
        else m.notes_.push_back("no mmproj file found next to the model: image and audio input are unavailable");
        m.bind_tensors(views, first, mm ? mm->views() : std::vector<TensorView>{}, mm_path, file_of);
        m.gguf_parts_ = parts;
        m.gguf_mmproj_ = mm;
        return m;
    }

    // Hugging Face: a folder, or a file inside one.
    if (paths.size() != 1) throw Error("a Hugging Face model is one folder");
    fs::path dir = fs::is_directory(first, ec) ? fs::path(first) : fs::path(first).parent_path();
    if (dir.empty()) dir = ".";
    if (!fs::exists(dir / "config.json", ec))
        throw Error(first + " is neither a .gguf file nor a Hugging Face model folder (no config.json in " + dir.string() + ")");
    m.format_ = ModelFormat::Safetensors;
    auto hf = std::make_shared<HfFolder>(HfFolder::open(dir.string()));
    m.config_ = config_from_hf_json(hf->config.json, hf->config.path);
    if (!hf->checkpoint.find("model.language_model.embed_tokens.weight") && hf->checkpoint.find("model.embed_tokens.weight"))
        m.hf_text_prefix_ = "model.";
    std::vector<TensorView> views;
    std::map<std::string, std::string> file_of;
    for (const TensorView* v : hf->checkpoint.tensors()) {
        views.push_back(*v);
        file_of[v->name] = hf->checkpoint.file_of(v->name);
    }
    const bool sharded = hf->checkpoint.files().size() > 1;
    m.files_.push_back({hf->config.path, file_size_or_zero(hf->config.path), "config"});
    for (const auto& f : hf->checkpoint.files())
        m.files_.push_back({f.path(), f.file_size(), sharded ? "weights shard" : "weights"});
    auto add = [&](const auto& opt, const char* role) {
        if (opt) m.files_.push_back({opt->path, file_size_or_zero(opt->path), role});
    };
    add(hf->generation_config, "generation config");
    add(hf->processor_config, "processor config");
    add(hf->preprocessor_config, "preprocessor config");
    add(hf->tokenizer, "tokenizer");
    add(hf->tokenizer_config, "tokenizer config");
    add(hf->chat_template, "chat template");
    if (!hf->tokenizer_model_path.empty())
        m.files_.push_back({hf->tokenizer_model_path, file_size_or_zero(hf->tokenizer_model_path), "tokenizer (sentencepiece)"});
    if (!hf->tokenizer && hf->tokenizer_model_path.empty())
        m.notes_.push_back("no tokenizer.json or tokenizer.model in the folder: text cannot be tokenized");
    m.bind_tensors(views, dir.string(), {}, "", file_of);
    m.hf_ = hf;
    return m;
}

}  // namespace gd
