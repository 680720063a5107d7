#include "tokenizer/bpe_tokenizer.h"

#include <algorithm>
#include <queue>

#include <nlohmann/json.hpp>

#include "common/error.h"
#include "format/gguf.h"
#include "tokenizer/piece_decoding.h"
#include "tokenizer/utf8.h"

namespace gd {

namespace {

using json = nlohmann::json;

constexpr size_t kMaxVocab = size_t{1} << 24;
constexpr size_t kMaxMerges = size_t{1} << 25;
constexpr std::string_view kSpaceMark = "\xE2\x96\x81";  // U+2581

[[noreturn]] void fail(const std::string& what) { throw FormatError("tokenizer: " + what); }

// A valid UTF-8 character of 2 to 4 bytes as a key (the top bytes stay zero, so never ~0).
uint64_t char_key(std::string_view c) {
    uint64_t k = 0;
    for (char ch : c) k = (k << 8) | static_cast<uint8_t>(ch);
    return k;
}

}  // namespace

int32_t BpeTokenizer::model_id(std::string_view piece) const {
    auto it = model_vocab_.find(piece);
    return it == model_vocab_.end() ? -1 : it->second;
}

int32_t BpeTokenizer::token_id(std::string_view piece) const {
    auto it = all_pieces_.find(piece);
    return it == all_pieces_.end() ? -1 : it->second;
}

const std::string& BpeTokenizer::piece(int32_t id) const {
    if (id < 0 || static_cast<size_t>(id) >= pieces_.size())
        throw Error("tokenizer: token id " + std::to_string(id) + " is out of range (vocabulary of " +
                    std::to_string(pieces_.size()) + ")");
    return pieces_[static_cast<size_t>(id)];
}

void BpeTokenizer::add_merge(std::string_view a, std::string_view b, uint32_t rank) {
    const int32_t ia = model_id(a), ib = model_id(b);
    if (ia < 0) fail("merge " + std::to_string(rank) + " refers to a piece not in the vocabulary: \"" + std::string(a) + "\"");
    if (ib < 0) fail("merge " + std::to_string(rank) + " refers to a piece not in the vocabulary: \"" + std::string(b) + "\"");
    std::string joined;
    joined.reserve(a.size() + b.size());
    joined.append(a).append(b);
    const int32_t im = model_id(joined);
    if (im < 0) fail("merge " + std::to_string(rank) + " makes a piece not in the vocabulary: \"" + joined + "\"");
    // Like tokenizers (a hash map built in order), a later duplicate of a pair replaces the earlier.
    merges_.insert_or_assign((static_cast<uint64_t>(static_cast<uint32_t>(ia)) << 32) | static_cast<uint32_t>(ib), Merge{rank, im});
}

void BpeTokenizer::add_added_token(const std::string& content, int32_t id, bool special) {
    added_.add(content, id, special);
    all_pieces_[content] = id;
}

void BpeTokenizer::finish() {
    for (unsigned b = 0; b < 256; ++b) byte_ids_[b] = model_id(byte_piece(b));
    for (unsigned c = 0; c < 128; ++c) {
        const char ch = static_cast<char>(c);
        ascii_ids_[c] = c == ' ' ? model_id(kSpaceMark) : model_id(std::string_view(&ch, 1));
    }
    for (size_t i = 0; i < pieces_.size(); ++i) all_pieces_.emplace(pieces_[i], static_cast<int32_t>(i));
    for (const auto& [p, id] : model_vocab_)
        if (p.size() >= 2 && p.size() <= 4 && utf8_char_len(p, 0) == p.size()) char_ids_.insert_or_assign(char_key(p), id);
}

BpeTokenizer BpeTokenizer::from_tokenizer_json(const json& j) {
    BpeTokenizer t;
    if (!j.is_object()) fail("tokenizer.json is not a JSON object");
    auto mit = j.find("model");
    if (mit == j.end() || !mit->is_object()) fail("tokenizer.json has no \"model\" object");
    const json& m = *mit;
    if (auto ty = m.find("type"); ty != m.end() && !(ty->is_string() && ty->get<std::string>() == "BPE"))
        fail("tokenizer.json model type is not BPE");
    auto vit = m.find("vocab");
    if (vit == m.end() || !vit->is_object()) fail("tokenizer.json model has no \"vocab\" object");
    if (vit->size() > kMaxVocab) fail("tokenizer.json vocabulary is too large");
    if (auto d = m.find("dropout"); d != m.end() && !d->is_null() && !(d->is_number() && d->get<double>() == 0.0))
        fail("BPE dropout is not supported");
    auto str_or_null = [](const json& o, const char* key) -> std::string {
        auto it = o.find(key);
        if (it == o.end() || it->is_null()) return {};
        if (!it->is_string()) fail(std::string("tokenizer.json model field \"") + key + "\" is not a string");
        return it->get<std::string>();
    };
    if (!str_or_null(m, "continuing_subword_prefix").empty() || !str_or_null(m, "end_of_word_suffix").empty())
        fail("BPE subword prefixes / word suffixes are not supported");
    auto flag = [&](const char* key, bool dflt) {
        auto it = m.find(key);
        if (it == m.end() || it->is_null()) return dflt;
        if (!it->is_boolean()) fail(std::string("tokenizer.json model field \"") + key + "\" is not a boolean");
        return it->get<bool>();
    };
    t.byte_fallback_ = flag("byte_fallback", false);
    t.fuse_unk_ = flag("fuse_unk", false);
    if (flag("ignore_merges", false)) fail("BPE ignore_merges is not supported");

    // Ids: the model vocabulary plus added tokens; together they must cover 0..n-1 once each.
    std::vector<int8_t> seen;
    auto place = [&](const std::string& p, int64_t id, bool model) {
        if (id < 0 || static_cast<uint64_t>(id) >= kMaxVocab) fail("token id " + std::to_string(id) + " is out of range");
        const auto u = static_cast<size_t>(id);
        if (u >= t.pieces_.size()) {
            t.pieces_.resize(u + 1);
            seen.resize(u + 1, 0);
        }
        if (seen[u]) {
            if (t.pieces_[u] != p) fail("token id " + std::to_string(id) + " is given to both \"" + t.pieces_[u] + "\" and \"" + p + "\"");
        } else {
            t.pieces_[u] = p;
            seen[u] = 1;
        }
        if (model) t.model_vocab_.emplace(p, static_cast<int32_t>(id));
    };
    for (auto it = vit->begin(); it != vit->end(); ++it) {
        if (!it.value().is_number_integer()) fail("vocabulary entry \"" + it.key() + "\" has no integer id");
        place(it.key(), it.value().get<int64_t>(), true);
    }
    struct Added {
        std::string content;
        int32_t id;
        bool special;
    };
    std::vector<Added> added;
    if (auto at = j.find("added_tokens"); at != j.end() && !at->is_null()) {
        if (!at->is_array()) fail("tokenizer.json \"added_tokens\" is not an array");
        if (at->size() > kMaxVocab) fail("tokenizer.json has too many added tokens");
        for (const json& a : *at) {
            if (!a.is_object()) fail("an added token is not an object");
            auto c = a.find("content");
            auto id = a.find("id");
            if (c == a.end() || !c->is_string() || id == a.end() || !id->is_number_integer())
                fail("an added token lacks a string \"content\" or an integer \"id\"");
            bool special = false;
            if (auto s = a.find("special"); s != a.end() && s->is_boolean()) special = s->get<bool>();
            place(c->get<std::string>(), id->get<int64_t>(), false);
            added.push_back({c->get<std::string>(), static_cast<int32_t>(id->get<int64_t>()), special});
        }
    }
    for (size_t i = 0; i < seen.size(); ++i)
        if (!seen[i]) fail("no token has id " + std::to_string(i) + " (ids must be 0.." + std::to_string(seen.size() - 1) + ")");

    if (auto u = str_or_null(m, "unk_token"); !u.empty()) {
        t.unk_id_ = t.model_id(u);
        if (t.unk_id_ < 0) fail("the unknown token \"" + u + "\" is not in the vocabulary");
    }

    auto mg = m.find("merges");
    if (mg != m.end() && !mg->is_null()) {
        if (!mg->is_array()) fail("tokenizer.json model \"merges\" is not an array");
        if (mg->size() > kMaxMerges) fail("tokenizer.json has too many merges");
        t.merges_.reserve(mg->size());
        uint32_t rank = 0;
        for (const json& e : *mg) {
            if (e.is_string()) {
                const std::string& s = e.get_ref<const std::string&>();
                const size_t sp = s.find(' ');
                if (sp == std::string::npos || s.find(' ', sp + 1) != std::string::npos)
                    fail("merge " + std::to_string(rank) + " \"" + s + "\" is not two pieces separated by one space");
                t.add_merge(std::string_view(s).substr(0, sp), std::string_view(s).substr(sp + 1), rank);
            } else if (e.is_array() && e.size() == 2 && e[0].is_string() && e[1].is_string()) {
                t.add_merge(e[0].get_ref<const std::string&>(), e[1].get_ref<const std::string&>(), rank);
            } else {
                fail("merge " + std::to_string(rank) + " is neither \"a b\" nor [\"a\", \"b\"]");
            }
            ++rank;
        }
    }
    for (const Added& a : added) t.add_added_token(a.content, a.id, a.special);
    t.finish();
    return t;
}

BpeTokenizer BpeTokenizer::from_gguf(const GgufFile& f) {
    BpeTokenizer t;
    const GgufValue* tokens = f.find("tokenizer.ggml.tokens");
    if (!tokens || tokens->type != GgufType::ARRAY || tokens->elem_type != GgufType::STRING)
        fail(f.path() + ": tokenizer.ggml.tokens is missing or not an array of strings");
    if (tokens->array.empty() || tokens->array.size() > kMaxVocab) fail(f.path() + ": tokenizer.ggml.tokens has a bad size");
    if (auto model = f.get_string_opt("tokenizer.ggml.model"); model && *model != "gemma4" && *model != "llama")
        fail(f.path() + ": tokenizer.ggml.model \"" + *model + "\" is not a SentencePiece-style BPE vocabulary");
    const size_t n = tokens->array.size();
    t.pieces_.reserve(n);
    t.model_vocab_.reserve(n);
    for (size_t i = 0; i < n; ++i) {
        t.pieces_.push_back(tokens->array[i].as_string());
        t.model_vocab_.emplace(t.pieces_.back(), static_cast<int32_t>(i));  // the first of duplicates wins
    }
    std::vector<int64_t> types(n, 1);
    if (const GgufValue* tt = f.find("tokenizer.ggml.token_type")) {
        if (tt->type != GgufType::ARRAY || tt->array.size() != n)
            fail(f.path() + ": tokenizer.ggml.token_type is not an array with one entry per token");
        for (size_t i = 0; i < n; ++i) types[i] = tt->array[i].as_int();
    }
    t.byte_fallback_ = true;
    t.fuse_unk_ = true;
    if (auto u = f.get_int_opt("tokenizer.ggml.unknown_token_id")) {
        if (*u < 0 || static_cast<uint64_t>(*u) >= n) fail(f.path() + ": tokenizer.ggml.unknown_token_id is out of range");
        t.unk_id_ = static_cast<int32_t>(*u);
    } else {
        t.unk_id_ = t.model_id("<unk>");
    }
    if (const GgufValue* mg = f.find("tokenizer.ggml.merges")) {
        if (mg->type != GgufType::ARRAY || mg->elem_type != GgufType::STRING)
            fail(f.path() + ": tokenizer.ggml.merges is not an array of strings");
        if (mg->array.size() > kMaxMerges) fail(f.path() + ": tokenizer.ggml.merges is too large");
        t.merges_.reserve(mg->array.size());
        for (size_t r = 0; r < mg->array.size(); ++r) {
            const std::string& s = mg->array[r].as_string();
            const size_t sp = s.size() > 1 ? s.find(' ', 1) : std::string::npos;  // llama.cpp: first space after the first byte
            if (sp == std::string::npos) fail(f.path() + ": merge " + std::to_string(r) + " \"" + s + "\" has no space");
            t.add_merge(std::string_view(s).substr(0, sp), std::string_view(s).substr(sp + 1), static_cast<uint32_t>(r));
        }
    }
    for (size_t i = 0; i < n; ++i) {
        const int64_t ty = types[i];
        if (ty == 2 || ty == 3 || ty == 4) {
            if (t.pieces_[i].empty()) continue;
            t.add_added_token(t.pieces_[i], static_cast<int32_t>(i), ty != 4);
        }
    }
    t.finish();
    return t;
}

// One BPE word: characters (or byte / unk fallbacks), merged lowest rank first, leftmost on ties,
// exactly like tokenizers' Word::merge_all.
void BpeTokenizer::encode_word(std::string_view text, std::vector<int32_t>& out) const {
    struct Sym {
        int32_t id;
        int32_t prev;
        int32_t next;
        bool alive;
    };
    std::vector<Sym> syms;
    syms.reserve(text.size());
    bool last_unk = false;
    auto push = [&](int32_t id) {
        const auto k = static_cast<int32_t>(syms.size());
        syms.push_back({id, k - 1, k + 1, true});
    };
    std::string norm;
    for (size_t i = 0; i < text.size();) {
        const auto c = static_cast<uint8_t>(text[i]);
        size_t len;
        int32_t id;
        if (c < 0x80) {
            len = 1;
            id = ascii_ids_[c];
        } else {
            len = utf8_char_len(text, i);
            if (len == 0) {
                // Not UTF-8 (tokenizers cannot be given such text): the byte alone, as a byte token.
                len = 1;
                id = -1;
            } else {
                const int32_t* found = char_ids_.find(char_key(text.substr(i, len)));  // normalization changes nothing here
                id = found ? *found : -1;
            }
        }
        // Fallback works on the normalized character: a space is "\u2581" by now.
        const std::string_view chr = c == ' ' ? kSpaceMark : text.substr(i, len);
        if (id >= 0) {
            push(id);
            last_unk = false;
        } else {
            bool all_bytes = byte_fallback_;
            if (all_bytes) {
                for (char ch : chr)
                    if (byte_ids_[static_cast<uint8_t>(ch)] < 0) all_bytes = false;
            }
            if (all_bytes) {
                for (char ch : chr) push(byte_ids_[static_cast<uint8_t>(ch)]);
                last_unk = false;
            } else if (unk_id_ >= 0) {
                if (!(fuse_unk_ && last_unk)) push(unk_id_);
                last_unk = true;
            }
        }
        i += len;
    }
    if (syms.empty()) return;
    syms.back().next = -1;

    struct Cand {
        uint32_t rank;
        int32_t pos;
        int32_t id;
        bool operator>(const Cand& o) const { return rank != o.rank ? rank > o.rank : pos > o.pos; }
    };
    auto lookup = [&](int32_t a, int32_t b) -> const Merge* {
        return merges_.find((static_cast<uint64_t>(static_cast<uint32_t>(a)) << 32) | static_cast<uint32_t>(b));
    };
    std::vector<Cand> init;
    init.reserve(syms.size());
    for (size_t k = 0; k + 1 < syms.size(); ++k)
        if (const Merge* mg = lookup(syms[k].id, syms[k + 1].id)) init.push_back({mg->rank, static_cast<int32_t>(k), mg->id});
    std::priority_queue<Cand, std::vector<Cand>, std::greater<Cand>> q(std::greater<Cand>{}, std::move(init));
    while (!q.empty()) {
        const Cand top = q.top();
        q.pop();
        Sym& cur = syms[static_cast<size_t>(top.pos)];
        if (!cur.alive || cur.next < 0) continue;
        Sym& right = syms[static_cast<size_t>(cur.next)];
        const Merge* mg = lookup(cur.id, right.id);
        if (!mg || mg->id != top.id) continue;  // stale
        cur.id = top.id;
        right.alive = false;
        cur.next = right.next;
        if (cur.next >= 0) syms[static_cast<size_t>(cur.next)].prev = top.pos;
        if (cur.prev >= 0) {
            if (const Merge* p = lookup(syms[static_cast<size_t>(cur.prev)].id, cur.id)) q.push({p->rank, cur.prev, p->id});
        }
        if (cur.next >= 0) {
            if (const Merge* nx = lookup(cur.id, syms[static_cast<size_t>(cur.next)].id)) q.push({nx->rank, top.pos, nx->id});
        }
    }
    for (int32_t k = 0; k >= 0; k = syms[static_cast<size_t>(k)].next) out.push_back(syms[static_cast<size_t>(k)].id);
}

std::vector<int32_t> BpeTokenizer::encode(std::string_view text, bool parse_special) const {
    std::vector<int32_t> out;
    out.reserve(text.size() / 3 + 8);
    added_.split(
        text, parse_special, [&](size_t begin, size_t len) { encode_word(text.substr(begin, len), out); },
        [&](int32_t id) { out.push_back(id); });
    return out;
}

std::string BpeTokenizer::decode(const std::vector<int32_t>& ids) const {
    return decode_pieces(ids, [this](int32_t id) -> const std::string& { return piece(id); });
}

}  // namespace gd
