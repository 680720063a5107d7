#pragma once
// The tokenizer of a model, whatever files it came in: one front door over the BPE tokenizer
// (tokenizer.json, or the vocabulary inside a GGUF file) and the SentencePiece one (tokenizer.model).
// Both give the ids Hugging Face transformers gives: special-token strings in the text become their
// ids, no BOS is added by encode(), decode() shows special tokens as their text.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace gd {

class BpeTokenizer;
class ModelFiles;
class SentencePieceTokenizer;

class Tokenizer {
public:
    explicit Tokenizer(BpeTokenizer bpe, int32_t bos_id = -1, int32_t eos_id = -1);
    explicit Tokenizer(SentencePieceTokenizer spm);

    // Text to ids, without BOS. parse_special = false treats special-token strings as plain text.
    std::vector<int32_t> encode(std::string_view text, bool parse_special = true) const;
    // Ids to text; throws gd::Error for an id out of range.
    std::string decode(const std::vector<int32_t>& ids) const;

    const std::string& piece(int32_t id) const;      // throws gd::Error when out of range
    int32_t token_id(std::string_view piece) const;  // -1 if absent
    size_t vocab_size() const;
    int32_t bos_id() const { return bos_id_; }  // -1 when unknown
    int32_t eos_id() const { return eos_id_; }  // -1 when unknown
    // "tokenizer.json", "tokenizer.model" or "GGUF": where the vocabulary came from.
    const std::string& kind() const { return kind_; }

private:
    // One of the two is set; shared so a Tokenizer is cheap to copy.
    std::shared_ptr<const BpeTokenizer> bpe_;
    std::shared_ptr<const SentencePieceTokenizer> spm_;
    int32_t bos_id_ = -1;
    int32_t eos_id_ = -1;
    std::string kind_;

    friend Tokenizer load_tokenizer(const ModelFiles& files);
};

// The tokenizer of opened model files:
//  * a Hugging Face folder: tokenizer.json when present, else tokenizer.model (SentencePiece);
//  * a GGUF file: the tokenizer.ggml.* vocabulary.
// BOS/EOS: tokenizer_config.json's bos_token / eos_token (HF), tokenizer.ggml.bos_token_id /
// eos_token_id (GGUF), the SentencePiece model's own; else the pieces "<bos>" / "<eos>" when present.
// Throws ModelError when the model has no tokenizer, FormatError when its tokenizer file is malformed.
Tokenizer load_tokenizer(const ModelFiles& files);

}  // namespace gd
