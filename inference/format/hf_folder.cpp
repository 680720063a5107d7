#include "format/hf_folder.h"

#include <cstring>
#include <filesystem>

#include "common/error.h"
#include "common/mapped_file.h"

namespace gd {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

std::string mib(uint64_t bytes) { return std::to_string(bytes >> 20) + " MiB"; }

std::shared_ptr<const MappedFile> map_bounded(const std::string& path, uint64_t max_bytes) {
    auto f = MappedFile::open(path);
    if (f->size() > max_bytes)
        throw FormatError(path + ": the file is " + std::to_string(f->size()) + " bytes, more than the " + mib(max_bytes) +
                          " this kind of file may have");
    return f;
}

bool is_file(const fs::path& p) {
    std::error_code ec;
    return fs::exists(p, ec);
}

std::optional<HfJsonFile> optional_json(const fs::path& dir, const char* name, uint64_t max_bytes) {
    const fs::path p = dir / name;
    if (!is_file(p)) return std::nullopt;
    HfJsonFile f;
    f.path = p.string();
    f.json = read_json_file(f.path, max_bytes);
    return f;
}

}  // namespace

std::string json_error_text(const std::string& what) {
    // "[json.exception.parse_error.101] parse error at line 1, ..." -> "parse error at line 1, ..."
    if (!what.empty() && what[0] == '[') {
        const auto p = what.find("] ");
        if (p != std::string::npos) return what.substr(p + 2);
    }
    return what;
}

nlohmann::json read_json_file(const std::string& path, uint64_t max_bytes, bool require_object) {
    const auto f = map_bounded(path, max_bytes);
    if (f->size() == 0) throw FormatError(path + ": the file is empty, expected JSON");
    // nlohmann takes a NUL byte for the end of the input and would ignore whatever follows it.
    if (const void* nul = std::memchr(f->data(), 0, static_cast<size_t>(f->size())))
        throw FormatError(path + ": invalid JSON: a NUL byte at byte " +
                          std::to_string(static_cast<const uint8_t*>(nul) - f->data()) + " (corrupt file?)");
    json j;
    try {
        j = json::parse(f->data(), f->data() + f->size());
    } catch (const json::parse_error& e) {
        // nlohmann's message says "parse error at line L, column C: ..."; add the byte for tools.
        throw FormatError(path + ": invalid JSON: " + json_error_text(e.what()) + " (byte " + std::to_string(e.byte) + ")");
    } catch (const json::exception& e) {
        throw FormatError(path + ": invalid JSON: " + json_error_text(e.what()));
    }
    if (require_object && !j.is_object())
        throw FormatError(path + ": the file holds a JSON " + std::string(j.type_name()) + ", expected an object");
    return j;
}

std::string read_text_file(const std::string& path, uint64_t max_bytes) {
    const auto f = map_bounded(path, max_bytes);
    return std::string(reinterpret_cast<const char*>(f->data()), static_cast<size_t>(f->size()));
}

HfFolder HfFolder::open(const std::string& dir) {
    std::error_code ec;
    if (!fs::is_directory(dir, ec)) throw Error(dir + " is not a folder");
    const fs::path d(dir);
    HfFolder h;
    h.dir = dir;

    const fs::path config = d / "config.json";
    if (!is_file(config))
        throw Error(dir + ": no config.json (a Hugging Face model folder needs one)");
    h.config.path = config.string();
    h.config.json = read_json_file(h.config.path, kMaxJsonFileBytes);

    h.generation_config = optional_json(d, "generation_config.json", kMaxJsonFileBytes);
    h.processor_config = optional_json(d, "processor_config.json", kMaxJsonFileBytes);
    h.preprocessor_config = optional_json(d, "preprocessor_config.json", kMaxJsonFileBytes);
    h.tokenizer = optional_json(d, "tokenizer.json", kMaxTokenizerJsonBytes);
    h.tokenizer_config = optional_json(d, "tokenizer_config.json", kMaxJsonFileBytes);

    const fs::path tmpl = d / "chat_template.jinja";
    if (is_file(tmpl)) h.chat_template = HfTextFile{tmpl.string(), read_text_file(tmpl.string(), kMaxTextFileBytes)};

    const fs::path spm = d / "tokenizer.model";
    if (is_file(spm)) h.tokenizer_model_path = spm.string();

    h.checkpoint = SafetensorsCheckpoint::open(dir);
    return h;
}

bool HfFolder::looks_like_hf_folder(const std::string& dir) {
    std::error_code ec;
    if (!fs::is_directory(dir, ec)) return false;
    const fs::path d(dir);
    if (!fs::is_regular_file(d / "config.json", ec)) return false;
    return fs::is_regular_file(d / "model.safetensors", ec) || fs::is_regular_file(d / "model.safetensors.index.json", ec);
}

std::optional<std::string> HfFolder::chat_template_text() const {
    if (chat_template) return chat_template->text;
    if (tokenizer_config) {
        const auto it = tokenizer_config->json.find("chat_template");
        if (it != tokenizer_config->json.end() && it->is_string()) return it->get<std::string>();
    }
    return std::nullopt;
}

}  // namespace gd
