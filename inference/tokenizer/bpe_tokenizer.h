#pragma once
// Gemma's BPE tokenizer (Gemma 3 / Gemma 4 tokenizer.json, or the same vocabulary from a GGUF file),
// giving the same ids as Hugging Face `tokenizers`:
//  * added tokens (special and user-defined) are matched in the raw text first, leftmost-longest,
//    and never split; with parse_special = false only the special ones are treated as plain text
//    (like tokenizers' `encode_special_tokens = True`; user-defined ones still match);
//  * the rest is normalized (" " -> "\u2581") and, with no effective pre-split, each piece of text
//    between added tokens is one BPE word: characters, merged by rank (lowest first, leftmost on
//    ties); characters absent from the vocabulary become <0xNN> byte tokens (or <unk>, fused);
//    bytes that are not valid UTF-8 become byte tokens one by one;
//  * decode: "\u2581" -> " " in every piece, runs of byte tokens re-assembled into UTF-8 (a run that
//    is not valid UTF-8 as a whole gives one U+FFFD per byte, as tokenizers' ByteFallback does).
// Tokenizer files are untrusted: malformed ones throw gd::FormatError.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "tokenizer/added_tokens.h"
#include "tokenizer/flat_map.h"

namespace gd {

class GgufFile;

class BpeTokenizer {
public:
    // A Hugging Face tokenizer.json (model type BPE).
    static BpeTokenizer from_tokenizer_json(const nlohmann::json& tokenizer_json);
    // tokenizer.ggml.tokens / merges ("a b") / token_type (2 unknown and 3 control: special added
    // tokens; 4 user-defined: added tokens that are not special; 6 byte).
    static BpeTokenizer from_gguf(const GgufFile& f);

    // Text to ids; no BOS is added.
    std::vector<int32_t> encode(std::string_view text, bool parse_special = true) const;
    // Ids to text; nothing is skipped, special tokens appear as their text. Throws gd::Error for an
    // id out of range.
    std::string decode(const std::vector<int32_t>& ids) const;

    int32_t token_id(std::string_view piece) const;  // -1 if absent
    const std::string& piece(int32_t id) const;      // throws gd::Error when out of range
    size_t vocab_size() const { return pieces_.size(); }

private:
    struct StrHash {
        using is_transparent = void;
        size_t operator()(std::string_view s) const noexcept { return std::hash<std::string_view>{}(s); }
    };
    using PieceMap = std::unordered_map<std::string, int32_t, StrHash, std::equal_to<>>;
    struct Merge {
        uint32_t rank = 0;
        int32_t id = -1;
    };
    void finish();  // derived tables, after pieces/model vocab/merges/added tokens are set
    void add_merge(std::string_view a, std::string_view b, uint32_t rank);
    void add_added_token(const std::string& content, int32_t id, bool special);
    int32_t model_id(std::string_view piece) const;
    void encode_word(std::string_view text, std::vector<int32_t>& out) const;

    std::vector<std::string> pieces_;        // by id
    PieceMap model_vocab_;                   // the BPE model's vocabulary
    PieceMap all_pieces_;                    // model vocabulary plus added tokens
    FlatU64Map<Merge> merges_;               // (left id << 32 | right id) -> rank, merged id
    FlatU64Map<int32_t> char_ids_;           // non-ASCII single-character pieces, keyed by their UTF-8 bytes
    int32_t unk_id_ = -1;
    bool byte_fallback_ = true;
    bool fuse_unk_ = true;
    int32_t byte_ids_[256];
    int32_t ascii_ids_[128];                 // single ASCII characters after normalization (" " -> "\u2581")
    AddedTokenMatcher added_;
};

}  // namespace gd
