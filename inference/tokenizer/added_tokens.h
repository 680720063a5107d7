#pragma once
// Added tokens (special and user-defined) found in raw text before any model sees it, the way Hugging
// Face `tokenizers` does: at each position the longest added token starting there, scanning left to
// right (leftmost-longest), never split. Shared by the BPE and SentencePiece tokenizers.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace gd {

class AddedTokenMatcher {
public:
    // `special`: skipped by match() when parse_special is false (user-defined tokens always match).
    // A later add of the same content replaces the earlier one. Content must not be empty.
    void add(std::string_view content, int32_t id, bool special);
    bool empty() const { return nodes_.size() <= 1; }

    struct Match {
        int32_t id = -1;  // -1: no added token starts at the position
        size_t len = 0;
    };
    Match match_at(std::string_view text, size_t pos, bool parse_special) const;

    // Splits `text` into the stretches between added tokens (passed to `plain(begin, len)`, never empty)
    // and the tokens (passed to `token(id)`), in order.
    template <class Plain, class Token>
    void split(std::string_view text, bool parse_special, Plain&& plain, Token&& token) const {
        size_t seg = 0;
        for (size_t i = 0; i < text.size();) {
            const Match m = empty() ? Match{} : match_at(text, i, parse_special);
            if (m.id < 0) {
                ++i;
                continue;
            }
            if (i > seg) plain(seg, i - seg);
            token(m.id);
            i += m.len;
            seg = i;
        }
        if (text.size() > seg) plain(seg, text.size() - seg);
    }

private:
    struct Node {
        int32_t token = -1;  // added token ending here
        bool special = false;
    };
    std::vector<Node> nodes_ = {Node{}};                // node 0: the root
    std::unordered_map<uint64_t, int32_t> edges_;      // (node << 8 | byte) -> child
    bool first_byte_[256] = {};                         // cheap rejection before the map lookups
};

}  // namespace gd
