#include "tokenizer/added_tokens.h"

#include "common/error.h"

namespace gd {

void AddedTokenMatcher::add(std::string_view content, int32_t id, bool special) {
    if (content.empty()) throw FormatError("tokenizer: added token " + std::to_string(id) + " is empty");
    int32_t node = 0;
    for (char ch : content) {
        const uint64_t key = (static_cast<uint64_t>(node) << 8) | static_cast<uint8_t>(ch);
        auto it = edges_.find(key);
        if (it == edges_.end()) {
            nodes_.emplace_back();
            it = edges_.emplace(key, static_cast<int32_t>(nodes_.size() - 1)).first;
        }
        node = it->second;
    }
    nodes_[static_cast<size_t>(node)] = Node{id, special};
    first_byte_[static_cast<uint8_t>(content[0])] = true;
}

AddedTokenMatcher::Match AddedTokenMatcher::match_at(std::string_view text, size_t pos, bool parse_special) const {
    Match best;
    if (!first_byte_[static_cast<uint8_t>(text[pos])]) return best;
    int32_t node = 0;
    for (size_t j = pos; j < text.size(); ++j) {
        auto it = edges_.find((static_cast<uint64_t>(node) << 8) | static_cast<uint8_t>(text[j]));
        if (it == edges_.end()) break;
        node = it->second;
        const Node& n = nodes_[static_cast<size_t>(node)];
        if (n.token >= 0 && (parse_special || !n.special)) best = {n.token, j + 1 - pos};
    }
    return best;
}

}  // namespace gd
