#include "testmodel/test_model.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <map>

#include <nlohmann/json.hpp>

#include "common/error.h"
#include "common/parallel_writer.h"
#include "format/gguf_writer.h"
#include "format/quant/quant.h"
#include "format/safetensors.h"
#include "model/gguf_config.h"
#include "model/hf_config.h"
#include "model/tensor_names.h"
#include "testmodel/random_weights.h"
#include "testmodel/test_vocab.h"

namespace gd {

namespace fs = std::filesystem;
using json = nlohmann::json;

namespace {

// A compact Gemma 4 chat template (spec §5.3): system turn, user/model turns, images and audio, and
// the generation prompt. Real checkpoints ship their own; this one is enough for test models.
const char* const kChatTemplate =
    "{{ bos_token }}"
    "{%- if messages[0]['role'] == 'system' -%}"
    "{{- '<|turn>system\\n' + messages[0]['content'] | trim + '<turn|>\\n' -}}"
    "{%- set loop_messages = messages[1:] -%}"
    "{%- else -%}{%- set loop_messages = messages -%}{%- endif -%}"
    "{%- for message in loop_messages -%}"
    "{%- set role = 'model' if message['role'] == 'assistant' else message['role'] -%}"
    "{{- '<|turn>' + role + '\\n' -}}"
    "{%- if message['content'] is string -%}{{- message['content'] | trim -}}"
    "{%- else -%}{%- for item in message['content'] -%}"
    "{%- if item['type'] == 'text' -%}{{- item['text'] | trim -}}"
    "{%- elif item['type'] == 'image' -%}{{- '\\n\\n<|image|>\\n\\n' -}}"
    "{%- elif item['type'] == 'audio' -%}{{- '<|audio|>' -}}{%- endif -%}"
    "{%- endfor -%}{%- endif -%}"
    "{{- '<turn|>\\n' -}}"
    "{%- endfor -%}"
    "{%- if add_generation_prompt -%}{{- '<|turn>model\\n' -}}{%- endif -%}";

float softplus(float x) { return x > 20.f ? x : std::log1p(std::exp(x)); }

// Where each stored element comes from in the canonical (HF) layout, and how it is transformed.
struct Layout {
    const ExpectedTensor* spec;
    std::vector<uint64_t> stored_shape;
    DType type;
    bool gguf;
    bool repeat_rows = false;  // TestModelOptions::repeat_rows

    uint64_t row_elems() const { return stored_shape.empty() ? 1 : stored_shape.back(); }

    float canonical_value(const WeightInit& init, uint64_t stored_index) const {
        if (gguf && spec->gguf_layout == GgufLayout::ConvPatch) {
            // Stored [Hv, 3, p, p]; canonical [Hv, p*p*3] with input index (py*p + px)*3 + c.
            const uint64_t p = stored_shape[3], per_out = 3 * p * p;
            const uint64_t o = stored_index / per_out, rem = stored_index % per_out;
            const uint64_t c = rem / (p * p), py = rem / p % p, px = rem % p;
            return init.value(o * per_out + (py * p + px) * 3 + c);
        }
        const float v = init.value(stored_index);
        if (gguf && spec->gguf_layout == GgufLayout::SoftplusApplied) return softplus(v);
        return v;
    }

    void fill(const WeightInit& init, uint8_t* dst, uint64_t row0, uint64_t nrows) const {
        const uint64_t n = row_elems();
        const uint64_t row_bytes = dtype_bytes(type, n);
        std::vector<float> row(n);
        const bool plain = !gguf || spec->gguf_layout == GgufLayout::Same;
        const uint64_t computed = repeat_rows ? std::min<uint64_t>(nrows, kRepeatPoolRows) : nrows;
        for (uint64_t r = 0; r < computed; ++r) {
            const uint64_t base = (row0 + r) * n;
            if (plain) init.fill(base, row.data(), n);
            else for (uint64_t k = 0; k < n; ++k) row[k] = canonical_value(init, base + k);
            quantize_row(type, row.data(), dst + r * row_bytes, n);
        }
        for (uint64_t r = computed; r < nrows; ++r)
            std::memcpy(dst + r * row_bytes, dst + repeated_row(row0 + r) * row_bytes, row_bytes);
    }

    // The pool row that row `r` of a piece repeats (a multiplicative hash: neighbours differ).
    static uint64_t repeated_row(uint64_t r) { return (r * 0x9E3779B97F4A7C15ull >> 32) % kRepeatPoolRows; }
};

std::vector<GgufValue> string_values(const std::vector<std::string>& v) {
    std::vector<GgufValue> out;
    out.reserve(v.size());
    for (const auto& s : v) out.push_back(GgufValue::make_string(s));
    return out;
}

int ggml_token_type(TokenKind k) {
    switch (k) {
        case TokenKind::Normal: return 1;
        case TokenKind::Unknown: return 2;
        case TokenKind::Control: return 3;
        case TokenKind::UserDefined: return 4;
        case TokenKind::Unused: return 5;
        case TokenKind::Byte: return 6;
    }
    return 1;
}

void write_gguf_tokenizer(GgufWriter& w, const TestVocab& v, const TokenIds& ids) {
    w.set_string("tokenizer.ggml.model", "gemma4");
    w.set("tokenizer.ggml.tokens", GgufValue::make_array(GgufType::STRING, string_values(v.pieces)));
    std::vector<GgufValue> scores, types;
    for (size_t i = 0; i < v.pieces.size(); ++i) {
        scores.push_back(GgufValue::make_f32(-static_cast<float>(i)));
        types.push_back(GgufValue::make_i32(ggml_token_type(v.kinds[i])));
    }
    w.set("tokenizer.ggml.scores", GgufValue::make_array(GgufType::FLOAT32, scores));
    w.set("tokenizer.ggml.token_type", GgufValue::make_array(GgufType::INT32, types));
    std::vector<std::string> merges;
    for (const auto& m : v.merges) merges.push_back(m.first + " " + m.second);
    w.set("tokenizer.ggml.merges", GgufValue::make_array(GgufType::STRING, string_values(merges)));
    w.set_u32("tokenizer.ggml.bos_token_id", static_cast<uint32_t>(ids.bos));
    w.set_u32("tokenizer.ggml.eos_token_id", static_cast<uint32_t>(ids.eos));
    w.set_u32("tokenizer.ggml.unknown_token_id", 3);
    w.set_u32("tokenizer.ggml.padding_token_id", static_cast<uint32_t>(ids.pad));
    w.set_bool("tokenizer.ggml.add_bos_token", true);
    w.set_bool("tokenizer.ggml.add_space_prefix", false);
    w.set_string("tokenizer.chat_template", kChatTemplate);
}

json hf_tokenizer_json(const TestVocab& v) {
    json added = json::array();
    json vocab = json::object();
    for (size_t i = 0; i < v.pieces.size(); ++i) {
        vocab[v.pieces[i]] = i;
        const TokenKind k = v.kinds[i];
        if (k == TokenKind::Control || k == TokenKind::UserDefined || k == TokenKind::Unknown)
            added.push_back({{"id", i}, {"content", v.pieces[i]}, {"single_word", false}, {"lstrip", false},
                             {"rstrip", false}, {"normalized", false}, {"special", k != TokenKind::UserDefined}});
    }
    json merges = json::array();
    for (const auto& m : v.merges) merges.push_back({m.first, m.second});
    return {
        {"version", "1.0"},
        {"truncation", nullptr},
        {"padding", nullptr},
        {"added_tokens", added},
        {"normalizer", {{"type", "Replace"}, {"pattern", {{"String", " "}}}, {"content", "\xE2\x96\x81"}}},
        {"pre_tokenizer", nullptr},
        {"post_processor", nullptr},
        {"decoder",
         {{"type", "Sequence"},
          {"decoders",
           {{{"type", "Replace"}, {"pattern", {{"String", "\xE2\x96\x81"}}}, {"content", " "}},
            {{"type", "ByteFallback"}},
            {{"type", "Fuse"}}}}}},
        {"model",
         {{"type", "BPE"}, {"dropout", nullptr}, {"unk_token", "<unk>"}, {"continuing_subword_prefix", nullptr},
          {"end_of_word_suffix", nullptr}, {"fuse_unk", true}, {"byte_fallback", true}, {"ignore_merges", false},
          {"vocab", vocab}, {"merges", merges}}},
    };
}

// Small files go through the same atomic piece writer as the weights (tmp file, fsync, rename).
void write_text(const fs::path& p, const std::string& text, TestModelResult& r) {
    auto data = std::make_shared<std::string>(text);
    write_file_in_pieces(p.string(), data->size(), {{0, data->size(), [data](uint8_t* dst) {
                                                         std::memcpy(dst, data->data(), data->size());
                                                     }}},
                         1);
    r.files.push_back(p.string());
    r.bytes += data->size();
}

void write_json(const fs::path& p, const json& j, TestModelResult& r) { write_text(p, j.dump(2) + "\n", r); }

// Weights of an earlier model in the same folder would be read instead of (or mixed with) ours.
void remove_stale_weights(const fs::path& dir) {
    std::error_code ec;
    for (const auto& e : fs::directory_iterator(dir, ec)) {
        const std::string name = e.path().filename().string();
        if (name == "model.safetensors" || name == "model.safetensors.index.json" ||
            (name.rfind("model-", 0) == 0 && name.ends_with(".safetensors")))
            fs::remove(e.path(), ec);
    }
}

std::string default_name(const TestModelOptions& o) {
    return std::string("gemma4-") + variant_name(o.variant) + (o.size == ModelSize::Tiny ? "-tiny-" : "-full-") +
           dtype_name(o.dtype);
}

void write_gguf_model(const TestModelOptions& o, const ModelConfig& c, const TestVocab& vocab,
                      const std::vector<ExpectedTensor>& tensors, unsigned threads, TestModelResult& r) {
    fs::path text_path = o.out.empty() ? fs::path(default_name(o) + ".gguf") : fs::path(o.out);
    if (text_path.extension() != ".gguf") throw Error("the GGUF output path must end in .gguf: " + text_path.string());
    if (text_path.has_parent_path()) {
        std::error_code ec;
        fs::create_directories(text_path.parent_path(), ec);
        if (ec) throw Error("cannot create the folder " + text_path.parent_path().string() + ": " + ec.message());
    }
    const fs::path mm_path = text_path.parent_path() / ("mmproj-" + text_path.filename().string());
    const std::string name = default_name(o);

    GgufWriter text, mm;
    write_gguf_text_metadata(text, c, name);
    text.set_u32("general.file_type", 0);
    write_gguf_tokenizer(text, vocab, c.tokens);
    write_gguf_mmproj_metadata(mm, c, name + "-mmproj");

    std::vector<std::unique_ptr<std::pair<Layout, WeightInit>>> keep;
    for (const ExpectedTensor& t : tensors) {
        if (t.optional && !t.gguf_only) continue;
        if (t.name.find("per_dim_k_scale") != std::string::npos) continue;  // llama.cpp extension, not in real files
        const std::vector<uint64_t>& shape = t.gguf_shape.empty() ? t.shape : t.gguf_shape;
        // GGUF stores scalars as 1-element 1-D tensors (spec §6.4).
        const std::vector<uint64_t> stored = shape.empty() ? std::vector<uint64_t>{1} : shape;
        auto item = std::make_unique<std::pair<Layout, WeightInit>>(
            Layout{&t, stored, gguf_storage_type(t.name, stored, o.dtype), true, o.repeat_rows}, WeightInit(t, o.seed, c));
        const auto* it = item.get();
        (t.in_mmproj ? mm : text).add_tensor(t.name, stored, it->first.type,
                                               [it](uint8_t* dst, uint64_t row0, uint64_t nrows) {
                                                   it->first.fill(it->second, dst, row0, nrows);
                                               });
        keep.push_back(std::move(item));
    }
    text.write(text_path.string(), threads);
    r.files.push_back(text_path.string());
    r.bytes += fs::file_size(text_path);
    if (o.progress) o.progress("wrote " + text_path.string());
    if (c.vision || c.audio) {
        mm.write(mm_path.string(), threads);
        r.files.push_back(mm_path.string());
        r.bytes += fs::file_size(mm_path);
        if (o.progress) o.progress("wrote " + mm_path.string());
    }
}

void write_safetensors_model(const TestModelOptions& o, const ModelConfig& c, const TestVocab& vocab,
                             const std::vector<ExpectedTensor>& tensors, unsigned threads, TestModelResult& r) {
    if (o.dtype != DType::F32 && o.dtype != DType::F16 && o.dtype != DType::BF16)
        throw Error(std::string("safetensors test models are f32, f16 or bf16, not ") + dtype_name(o.dtype));
    const fs::path dir = o.out.empty() ? fs::path(default_name(o)) : fs::path(o.out);
    std::error_code ec;
    fs::create_directories(dir, ec);
    if (ec) throw Error("cannot create the folder " + dir.string() + ": " + ec.message());
    remove_stale_weights(dir);

    std::vector<std::unique_ptr<std::pair<Layout, WeightInit>>> keep;
    std::vector<std::vector<SafetensorsWriteTensor>> shards(1);
    const uint64_t limit = o.shard_bytes ? o.shard_bytes : (o.size == ModelSize::Full ? (uint64_t(4) << 30) : UINT64_MAX);
    uint64_t in_shard = 0;
    for (const ExpectedTensor& t : tensors) {
        if (t.gguf_only) continue;
        auto item = std::make_unique<std::pair<Layout, WeightInit>>(Layout{&t, t.shape, o.dtype, false, o.repeat_rows},
                                                                   WeightInit(t, o.seed, c));
        const auto* it = item.get();
        uint64_t elems = 1;
        for (uint64_t d : t.shape) elems *= d;
        const uint64_t bytes = dtype_bytes(o.dtype, elems);
        if (in_shard > 0 && in_shard + bytes > limit) {
            shards.emplace_back();
            in_shard = 0;
        }
        in_shard += bytes;
        shards.back().push_back({t.hf_name, o.dtype, t.shape, nullptr, [it](uint8_t* dst, uint64_t row0, uint64_t nrows) {
                                     it->first.fill(it->second, dst, row0, nrows);
                                 }});
        keep.push_back(std::move(item));
    }
    json weight_map = json::object();
    uint64_t total = 0;
    for (size_t k = 0; k < shards.size(); ++k) {
        const std::string file = shards.size() == 1 ? "model.safetensors"
                                                    : "model-" + std::string(5 - std::to_string(k + 1).size(), '0') +
                                                          std::to_string(k + 1) + "-of-" +
                                                          std::string(5 - std::to_string(shards.size()).size(), '0') +
                                                          std::to_string(shards.size()) + ".safetensors";
        write_safetensors((dir / file).string(), shards[k], {{"format", "pt"}}, threads);
        r.files.push_back((dir / file).string());
        r.bytes += fs::file_size(dir / file);
        total += fs::file_size(dir / file);
        for (const auto& t : shards[k]) weight_map[t.name] = file;
        if (o.progress) o.progress("wrote " + (dir / file).string());
    }
    if (shards.size() > 1)
        write_json(dir / "model.safetensors.index.json", {{"metadata", {{"total_size", total}}}, {"weight_map", weight_map}}, r);

    write_json(dir / "config.json", config_to_hf_json(c), r);
    write_json(dir / "generation_config.json",
               {{"bos_token_id", c.tokens.bos}, {"eos_token_id", c.tokens.stop}, {"pad_token_id", c.tokens.pad},
                {"do_sample", true}, {"temperature", 1.0}, {"top_k", 64}, {"top_p", 0.95}},
               r);
    write_json(dir / "tokenizer.json", hf_tokenizer_json(vocab), r);
    json added = json::object();
    for (size_t i = 0; i < vocab.pieces.size(); ++i) {
        const TokenKind k = vocab.kinds[i];
        if (k == TokenKind::Control || k == TokenKind::UserDefined || k == TokenKind::Unknown)
            added[std::to_string(i)] = {{"content", vocab.pieces[i]}, {"lstrip", false}, {"normalized", false},
                                        {"rstrip", false}, {"single_word", false}, {"special", k != TokenKind::UserDefined}};
    }
    write_json(dir / "tokenizer_config.json",
               {{"add_bos_token", false}, {"add_eos_token", false}, {"added_tokens_decoder", added},
                {"bos_token", "<bos>"}, {"eos_token", "<eos>"}, {"pad_token", "<pad>"}, {"unk_token", "<unk>"},
                {"model_max_length", c.text.max_position_embeddings}, {"tokenizer_class", "GemmaTokenizer"}},
               r);
    if (c.vision || c.audio) {
        json proc = {{"processor_class", "Gemma4Processor"}, {"image_seq_length", 280}};
        if (c.vision)
            proc["image_processor"] = {{"image_processor_type", "Gemma4ImageProcessor"}, {"max_soft_tokens", 280},
                                       {"patch_size", c.vision->patch_size}, {"pooling_kernel_size", c.vision->pooling_kernel_size},
                                       {"do_normalize", false}, {"do_rescale", true}, {"rescale_factor", 1.0 / 255}};
        if (c.audio) {
            proc["audio_seq_length"] = 750;
            proc["audio_ms_per_token"] = 40;
            proc["feature_extractor"] = {{"feature_extractor_type", "Gemma4AudioFeatureExtractor"},
                                         {"sampling_rate", 16000}, {"feature_size", c.audio->n_mels}};
        }
        write_json(dir / "processor_config.json", proc, r);
    }
    write_text(dir / "chat_template.jinja", kChatTemplate, r);
}

}  // namespace

TestModelResult write_test_model(const TestModelOptions& o) {
    if (!can_quantize(o.dtype) || dtype_info(o.dtype).ggml_id < 0)
        throw Error(std::string("make-test-model cannot write ") + dtype_name(o.dtype) + " weights");
    const ModelConfig c = preset_config(o.variant, o.size);
    const TestVocab vocab = make_test_vocab(c.text.vocab_size);
    const std::vector<ExpectedTensor> tensors = expected_tensors(c);
    const unsigned threads = o.threads ? o.threads : default_thread_count();
    TestModelResult r;
    if (o.format == TestModelFormat::Gguf) write_gguf_model(o, c, vocab, tensors, threads, r);
    else write_safetensors_model(o, c, vocab, tensors, threads, r);
    return r;
}

}  // namespace gd
