#pragma once
// Token pieces back to text, as the decoder of Gemma's tokenizer.json does (Replace "\u2581" -> " ",
// ByteFallback, Fuse): "\u2581" becomes " " in every piece, special pieces included; "<0xNN>" pieces
// are bytes, and each run of them is re-assembled into UTF-8 (a run that is not valid UTF-8 as a whole
// gives one U+FFFD per byte). Shared by every tokenizer so both model formats decode alike.
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

namespace gd {

// `piece(id)` gives a token's piece (and throws for an id out of range).
std::string decode_pieces(const std::vector<int32_t>& ids, const std::function<const std::string&(int32_t)>& piece);

// The byte of a byte-fallback piece "<0xNN>" (as tokenizers parses it), or -1 for any other piece.
int byte_piece_value(std::string_view piece);

// "<0xNN>" with upper-case hex digits: the piece Gemma vocabularies use for byte b.
std::string byte_piece(unsigned b);

}  // namespace gd
