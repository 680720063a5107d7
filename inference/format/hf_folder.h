#pragma once
// A Hugging Face model folder (the layout of google/gemma-4-*): config.json plus the optional
// generation/processor/tokenizer files and the safetensors weights (GEMMA4.md §6.1).
//
// Every JSON file is size-bounded before it is parsed, must hold a JSON object, and a syntax error is
// a FormatError naming the file and the line, column and byte nlohmann reports. Only config.json is
// required; the weights are opened with SafetensorsCheckpoint (model.safetensors or
// model.safetensors.index.json).
#include <cstdint>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "format/safetensors.h"

namespace gd {

// Size limits applied before reading (a larger file is a FormatError, not an allocation).
inline constexpr uint64_t kMaxJsonFileBytes = 64ull << 20;           // config, index, processor, ...
inline constexpr uint64_t kMaxTokenizerJsonBytes = 256ull << 20;     // tokenizer.json
inline constexpr uint64_t kMaxTextFileBytes = 16ull << 20;           // chat_template.jinja

// Reads and parses a JSON file of at most `max_bytes` bytes. Throws gd::Error when the file cannot be
// read and FormatError when it is too large, empty, not JSON (message: "<path>: invalid JSON at line
// L, column C (byte B): ...") or, with `require_object`, not a JSON object.
nlohmann::json read_json_file(const std::string& path, uint64_t max_bytes, bool require_object = true);

// nlohmann's exception text without its "[json.exception.parse_error.101] " prefix.
std::string json_error_text(const std::string& what);

// Reads a whole text file of at most `max_bytes` bytes (FormatError when larger).
std::string read_text_file(const std::string& path, uint64_t max_bytes);

struct HfJsonFile {
    std::string path;     // absolute or as given: dir + "/" + file name
    nlohmann::json json;  // always a JSON object
};

struct HfTextFile {
    std::string path;
    std::string text;
};

struct HfFolder {
    std::string dir;
    HfJsonFile config;                               // config.json (required)
    std::optional<HfJsonFile> generation_config;     // generation_config.json
    std::optional<HfJsonFile> processor_config;      // processor_config.json
    std::optional<HfJsonFile> preprocessor_config;   // preprocessor_config.json
    std::optional<HfJsonFile> tokenizer;             // tokenizer.json (≤ 256 MiB)
    std::optional<HfJsonFile> tokenizer_config;      // tokenizer_config.json
    std::optional<HfTextFile> chat_template;         // chat_template.jinja
    std::string tokenizer_model_path;                // tokenizer.model (SentencePiece); empty when absent
    SafetensorsCheckpoint checkpoint;                // model.safetensors or the sharded index

    // Loads the folder. Throws gd::Error when `dir` is not a folder or config.json or the weights are
    // missing, FormatError when a present file is malformed or over its size limit.
    static HfFolder open(const std::string& dir);

    // Cheap check (no parsing, never throws): `dir` is a folder holding config.json and
    // model.safetensors or model.safetensors.index.json.
    static bool looks_like_hf_folder(const std::string& dir);

    // The chat template: chat_template.jinja when present, else tokenizer_config.json's
    // "chat_template" when it is a string (older repositories), else nullopt.
    std::optional<std::string> chat_template_text() const;
};

}  // namespace gd
