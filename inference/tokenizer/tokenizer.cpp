#include "tokenizer/tokenizer.h"

#include <nlohmann/json.hpp>

#include "common/error.h"
#include "model/model_files.h"
#include "tokenizer/bpe_tokenizer.h"
#include "tokenizer/sentencepiece_tokenizer.h"

namespace gd {

namespace {

// tokenizer_config.json writes special tokens as "<bos>" or as {"content": "<bos>", ...}.
std::string config_token(const nlohmann::json& cfg, const char* key) {
    const auto it = cfg.find(key);
    if (it == cfg.end()) return {};
    if (it->is_string()) return it->get<std::string>();
    if (it->is_object()) {
        const auto c = it->find("content");
        if (c != it->end() && c->is_string()) return c->get<std::string>();
    }
    return {};
}

int32_t gguf_token(const GgufFile& g, const char* key, size_t vocab) {
    const auto v = g.get_int_opt(key);
    return v && *v >= 0 && static_cast<uint64_t>(*v) < vocab ? static_cast<int32_t>(*v) : -1;
}

}  // namespace

Tokenizer::Tokenizer(BpeTokenizer bpe, int32_t bos_id, int32_t eos_id)
    : bpe_(std::make_shared<const BpeTokenizer>(std::move(bpe))), kind_("tokenizer.json") {
    bos_id_ = bos_id >= 0 ? bos_id : bpe_->token_id("<bos>");
    eos_id_ = eos_id >= 0 ? eos_id : bpe_->token_id("<eos>");
}

Tokenizer::Tokenizer(SentencePieceTokenizer spm)
    : spm_(std::make_shared<const SentencePieceTokenizer>(std::move(spm))), kind_("tokenizer.model") {
    bos_id_ = spm_->bos_id() >= 0 ? spm_->bos_id() : spm_->token_id("<bos>");
    eos_id_ = spm_->eos_id() >= 0 ? spm_->eos_id() : spm_->token_id("<eos>");
}

std::vector<int32_t> Tokenizer::encode(std::string_view text, bool parse_special) const {
    return bpe_ ? bpe_->encode(text, parse_special) : spm_->encode(text, parse_special);
}

std::string Tokenizer::decode(const std::vector<int32_t>& ids) const {
    return bpe_ ? bpe_->decode(ids) : spm_->decode(ids);
}

const std::string& Tokenizer::piece(int32_t id) const { return bpe_ ? bpe_->piece(id) : spm_->piece(id); }

int32_t Tokenizer::token_id(std::string_view piece) const {
    return bpe_ ? bpe_->token_id(piece) : spm_->token_id(piece);
}

size_t Tokenizer::vocab_size() const { return bpe_ ? bpe_->vocab_size() : spm_->vocab_size(); }

Tokenizer load_tokenizer(const ModelFiles& files) {
    if (const GgufFile* g = files.gguf_text()) {
        if (!g->find("tokenizer.ggml.tokens"))
            throw ModelError(g->path() + ": the GGUF file has no tokenizer (no tokenizer.ggml.tokens)");
        BpeTokenizer bpe = BpeTokenizer::from_gguf(*g);
        const size_t n = bpe.vocab_size();
        Tokenizer t(std::move(bpe), gguf_token(*g, "tokenizer.ggml.bos_token_id", n),
                    gguf_token(*g, "tokenizer.ggml.eos_token_id", n));
        t.kind_ = "GGUF";
        return t;
    }
    const HfFolder* hf = files.hf_folder();
    if (!hf) throw ModelError("the model has no tokenizer");
    // tokenizer.json first: it is what transformers itself loads when both are there (so it is the
    // reference), and the pipeline exactly as published. From a tokenizer.model alone transformers
    // converts on the fly and can disagree with its own tokenizer.json (long runs of spaces on the
    // Gemma 3 vocabulary: tools/reference/compare_spm_routes.py).
    if (hf->tokenizer) {
        BpeTokenizer bpe = BpeTokenizer::from_tokenizer_json(hf->tokenizer->json);
        int32_t bos = -1, eos = -1;
        if (hf->tokenizer_config) {
            bos = bpe.token_id(config_token(hf->tokenizer_config->json, "bos_token"));
            eos = bpe.token_id(config_token(hf->tokenizer_config->json, "eos_token"));
        }
        return Tokenizer(std::move(bpe), bos, eos);
    }
    if (!hf->tokenizer_model_path.empty())
        return Tokenizer(SentencePieceTokenizer::from_file(hf->tokenizer_model_path));
    throw ModelError(hf->dir + ": no tokenizer.json or tokenizer.model (the model folder needs one to read text)");
}

}  // namespace gd
