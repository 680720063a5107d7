#pragma once
// The vocabulary of test models: the real Gemma 4 special-token strings, the 256 byte-fallback
// tokens, and BPE pieces learned from a built-in English text, so tokenizers can be tested on real
// merges. Tiny models put the 24 special tokens first (ids 0–23, the llama.cpp fixture's order);
// full-size models use the real Gemma 4 ids (§5.2) and fill the rest of the 262144 entries with
// <unusedN> tokens.
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace gd {

enum class TokenKind { Normal, Unknown, Control, UserDefined, Byte, Unused };

struct TestVocab {
    std::vector<std::string> pieces;      // id -> piece (spaces as U+2581)
    std::vector<TokenKind> kinds;
    std::vector<std::pair<std::string, std::string>> merges;  // in priority order
};

// `vocab_size` 512 gives the tiny layout; 262144 the full-size layout.
TestVocab make_test_vocab(int64_t vocab_size);

}  // namespace gd
