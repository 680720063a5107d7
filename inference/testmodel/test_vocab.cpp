#include "testmodel/test_vocab.h"

#include <algorithm>
#include <map>
#include <set>

#include "common/error.h"

namespace gd {
namespace {

const char* const kSpace = "\xE2\x96\x81";  // U+2581, sentencepiece's visible space

// The 24 special tokens in the order the tiny layout uses (the llama.cpp fixture's order), with
// their real Gemma 4 ids for the full-size layout (spec §5.2).
struct Special {
    const char* text;
    int64_t full_id;
    TokenKind kind;
};
const Special kSpecials[] = {
    {"<pad>", 0, TokenKind::Control},          {"<eos>", 1, TokenKind::Control},
    {"<bos>", 2, TokenKind::Control},          {"<unk>", 3, TokenKind::Unknown},
    {"<mask>", 4, TokenKind::Control},         {"<|turn>", 105, TokenKind::Control},
    {"<turn|>", 106, TokenKind::Control},      {"<|think|>", 98, TokenKind::Control},
    {"<|channel>", 100, TokenKind::UserDefined}, {"<channel|>", 101, TokenKind::UserDefined},
    {"<|tool>", 46, TokenKind::Control},       {"<tool|>", 47, TokenKind::Control},
    {"<|tool_call>", 48, TokenKind::UserDefined}, {"<tool_call|>", 49, TokenKind::UserDefined},
    {"<|tool_response>", 50, TokenKind::UserDefined}, {"<tool_response|>", 51, TokenKind::UserDefined},
    {"<|\"|>", 52, TokenKind::UserDefined},    {"<|image>", 255999, TokenKind::Control},
    {"<image|>", 258882, TokenKind::Control},  {"<|audio>", 256000, TokenKind::Control},
    {"<audio|>", 258883, TokenKind::Control},  {"<|image|>", 258880, TokenKind::Control},
    {"<|audio|>", 258881, TokenKind::Control}, {"<|video|>", 258884, TokenKind::Control},
};

// Training text for the BPE pieces: plain English with the characters chat prompts use.
const char* const kCorpus =
    "Gemma Desk is an offline assistant that runs the Gemma models on your own computer. "
    "Ask a question, drop in an image, or talk to it: the answer is written here, on this machine, "
    "and nothing leaves it. The model reads the whole conversation, thinks about what you want, "
    "and then it writes the answer one token at a time. What is the capital of France? The capital "
    "of France is Paris. How many legs does a spider have? A spider has eight legs. Write a short "
    "poem about the sea, the wind and the light in the evening. Please translate this sentence into "
    "German and explain the grammar. The quick brown fox jumps over the lazy dog. 1 2 3 4 5 6 7 8 9 0, "
    "(a + b) * c = d; x[i] = y{j} - z! Is it true? Yes, it is: \"quoted\" and 'single' text.\n"
    "def main():\n    print(\"hello world\")\n    return 0\n";

// Splits text into words; a space becomes U+2581 at the start of the following word.
std::vector<std::vector<std::string>> words_of(const std::string& text) {
    std::vector<std::vector<std::string>> words;
    std::vector<std::string> cur;
    for (size_t i = 0; i < text.size();) {
        const unsigned char c = static_cast<unsigned char>(text[i]);
        const size_t len = c < 0x80 ? 1 : c < 0xE0 ? 2 : c < 0xF0 ? 3 : 4;
        std::string ch = text.substr(i, len);
        i += len;
        if (ch == " " || ch == "\n") {
            if (!cur.empty()) words.push_back(cur);
            cur.clear();
            if (ch == " ") cur.push_back(kSpace);
            else words.push_back({"\n"});
            continue;
        }
        cur.push_back(ch);
    }
    if (!cur.empty()) words.push_back(cur);
    return words;
}

// Byte-pair encoding training: repeatedly merge the most frequent adjacent pair (ties broken by the
// pair's text, so the result is deterministic) until `n_merges` merges are learned.
void learn_merges(std::vector<std::vector<std::string>> words, size_t n_merges, std::vector<std::string>* base,
                  std::vector<std::pair<std::string, std::string>>* merges) {
    std::set<std::string> chars;
    for (const auto& w : words) chars.insert(w.begin(), w.end());
    base->assign(chars.begin(), chars.end());
    while (merges->size() < n_merges) {
        std::map<std::pair<std::string, std::string>, int> freq;
        for (const auto& w : words)
            for (size_t k = 0; k + 1 < w.size(); ++k) ++freq[{w[k], w[k + 1]}];
        if (freq.empty()) break;
        auto best = freq.begin();
        for (auto it = freq.begin(); it != freq.end(); ++it)
            if (it->second > best->second) best = it;
        if (best->second < 2) break;
        const auto pair = best->first;
        merges->push_back(pair);
        for (auto& w : words) {
            std::vector<std::string> out;
            for (size_t k = 0; k < w.size(); ++k) {
                if (k + 1 < w.size() && w[k] == pair.first && w[k + 1] == pair.second) {
                    out.push_back(pair.first + pair.second);
                    ++k;
                } else {
                    out.push_back(w[k]);
                }
            }
            w = std::move(out);
        }
    }
}

std::string byte_piece(int b) {
    static const char* hex = "0123456789ABCDEF";
    return std::string("<0x") + hex[b >> 4] + hex[b & 15] + ">";
}

}  // namespace

TestVocab make_test_vocab(int64_t vocab_size) {
    const bool full = vocab_size == 262144;
    if (!full && vocab_size < 400) throw Error("test vocabularies have at least 400 entries");
    const size_t n = static_cast<size_t>(vocab_size);
    TestVocab v;
    v.pieces.assign(n, "");
    v.kinds.assign(n, TokenKind::Unused);
    std::vector<bool> taken(n, false);
    auto put = [&](size_t id, std::string piece, TokenKind kind) {
        v.pieces[id] = std::move(piece);
        v.kinds[id] = kind;
        taken[id] = true;
    };
    for (size_t k = 0; k < std::size(kSpecials); ++k)
        put(full ? static_cast<size_t>(kSpecials[k].full_id) : k, kSpecials[k].text, kSpecials[k].kind);

    size_t next = full ? 107 : std::size(kSpecials);
    auto next_free = [&] {
        while (next < n && taken[next]) ++next;
        if (next >= n) throw Error("test vocabulary is too small");
        return next;
    };
    for (int b = 0; b < 256; ++b) put(next_free(), byte_piece(b), TokenKind::Byte);

    std::vector<std::string> base;
    const size_t room = full ? 1000 : n;  // learn as many merges as fit the tiny vocabulary
    std::vector<std::pair<std::string, std::string>> merges;
    learn_merges(words_of(kCorpus), room, &base, &merges);
    std::set<std::string> seen;
    for (const auto& p : base) {
        if (seen.insert(p).second) put(next_free(), p, TokenKind::Normal);
    }
    for (const auto& m : merges) {
        const std::string piece = m.first + m.second;
        if (seen.count(piece)) continue;
        size_t id;
        try {
            id = next_free();
        } catch (const Error&) {
            break;  // tiny vocabulary full: keep the merges learned so far
        }
        seen.insert(piece);
        put(id, piece, TokenKind::Normal);
        v.merges.push_back(m);
    }
    // Fill the rest: <unusedN> tokens, as the real vocabularies have.
    int unused = 0;
    for (size_t id = 0; id < n; ++id)
        if (!taken[id]) {
            v.pieces[id] = "<unused" + std::to_string(unused++) + ">";
            v.kinds[id] = TokenKind::Unused;
        }
    return v;
}

}  // namespace gd
