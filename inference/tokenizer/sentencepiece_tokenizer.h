#pragma once
// A SentencePiece tokenizer.model (an HF folder without tokenizer.json), encoded by libsentencepiece
// and wrapped so that it gives the ids transformers gives for the same file:
//  * control and unknown pieces ("<bos>", "<|turn>", "<unk>", ...) written in the text are found
//    first, leftmost-longest, and become their ids, as transformers' added tokens do (libsentencepiece
//    would spell them out character by character); the stretches between them go to libsentencepiece,
//    which itself keeps user-defined pieces whole (transformers' non-special added tokens);
//  * with parse_special = false control pieces are plain text (user-defined ones still match);
//  * bytes that are not valid UTF-8 become their <0xNN> byte tokens one by one, as in BpeTokenizer
//    (libsentencepiece would turn each into U+FFFD first); no BOS is added;
//  * decode as BpeTokenizer does (piece_decoding.h): special pieces appear as their text.
// Only Gemma's normalization is accepted (identity, spaces escaped as U+2581, no dummy prefix, no
// whitespace folding): transformers' GemmaTokenizer applies exactly that whatever the file says, so a
// file asking for more could not give transformers' ids; it is a ModelError instead.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "tokenizer/added_tokens.h"

namespace sentencepiece {
class SentencePieceProcessor;
}

namespace gd {

class SentencePieceTokenizer {
public:
    // Throws gd::Error when the file cannot be read, FormatError when it is not a SentencePiece model,
    // ModelError when it is one we cannot reproduce transformers' ids for (not BPE, other normalizer).
    static SentencePieceTokenizer from_file(const std::string& path);
    static SentencePieceTokenizer from_serialized(std::string_view model_proto, const std::string& name);

    std::vector<int32_t> encode(std::string_view text, bool parse_special = true) const;
    std::string decode(const std::vector<int32_t>& ids) const;

    int32_t token_id(std::string_view piece) const;  // -1 if absent
    const std::string& piece(int32_t id) const;      // throws gd::Error when out of range
    size_t vocab_size() const { return pieces_.size(); }
    int32_t bos_id() const { return bos_id_; }  // -1 when the model has none
    int32_t eos_id() const { return eos_id_; }

private:
    void encode_plain(std::string_view text, std::vector<int32_t>& out) const;

    std::shared_ptr<const sentencepiece::SentencePieceProcessor> sp_;
    std::vector<std::string> pieces_;  // by id (libsentencepiece's IdToPiece does not check ranges)
    AddedTokenMatcher specials_;       // control and unknown pieces
    int32_t byte_ids_[256];
    int32_t unk_id_ = -1;
    int32_t bos_id_ = -1;
    int32_t eos_id_ = -1;
    std::string name_;
};

}  // namespace gd
