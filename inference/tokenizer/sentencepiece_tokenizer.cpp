#include "tokenizer/sentencepiece_tokenizer.h"

#include <sentencepiece_processor.h>

#include "common/error.h"
#include "format/hf_folder.h"
#include "tokenizer/piece_decoding.h"
#include "tokenizer/utf8.h"

namespace gd {

namespace {

// Far above any real vocabulary (Gemma's 262k-piece model is about 4 MiB); read whole before parsing.
constexpr uint64_t kMaxTokenizerModelBytes = 256ull << 20;

// Protobuf wire format, just enough to read one field libsentencepiece 0.1.97 does not expose:
// trainer_spec.model_type (ModelProto field 2 is the TrainerSpec message, its field 3 the model type:
// 1 UNIGRAM, the default, 2 BPE, 3 WORD, 4 CHAR). libsentencepiece has already parsed the bytes, so a
// malformed message here only means "unknown" (0).
bool read_varint(std::string_view b, size_t& pos, uint64_t& v) {
    v = 0;
    for (int shift = 0; shift < 64 && pos < b.size(); shift += 7) {
        const auto c = static_cast<uint8_t>(b[pos++]);
        v |= static_cast<uint64_t>(c & 0x7F) << shift;
        if (!(c & 0x80)) return true;
    }
    return false;
}

// Calls `on(field, wire_type, payload)` for each field of a message; payload is the varint's bytes
// or the length-delimited contents. False when the message is malformed.
template <class F>
bool for_each_field(std::string_view b, F&& on) {
    for (size_t pos = 0; pos < b.size();) {
        uint64_t key, v;
        if (!read_varint(b, pos, key)) return false;
        switch (key & 7) {
            case 0:
                if (!read_varint(b, pos, v)) return false;
                on(key >> 3, 0, v, std::string_view{});
                break;
            case 1:
            case 5: {
                const size_t n = (key & 7) == 1 ? 8 : 4;
                if (b.size() - pos < n) return false;
                pos += n;
                break;
            }
            case 2:
                if (!read_varint(b, pos, v) || v > b.size() - pos) return false;
                on(key >> 3, 2, 0, b.substr(pos, static_cast<size_t>(v)));
                pos += static_cast<size_t>(v);
                break;
            default:
                return false;
        }
    }
    return true;
}

int spm_model_type(std::string_view model_proto) {
    int type = 0;
    const bool ok = for_each_field(model_proto, [&](uint64_t field, int wire, uint64_t, std::string_view msg) {
        if (field != 2 || wire != 2) return;
        type = 1;  // a TrainerSpec without model_type means UNIGRAM
        for_each_field(msg, [&](uint64_t f, int w, uint64_t v, std::string_view) {
            if (f == 3 && w == 0) type = static_cast<int>(v);
        });
    });
    return ok ? type : 0;
}

std::string escape_spaces(std::string_view s) {
    std::string out;
    for (char c : s) out += c == ' ' ? std::string("\xE2\x96\x81") : std::string(1, c);
    return out;
}

}  // namespace

SentencePieceTokenizer SentencePieceTokenizer::from_file(const std::string& path) {
    return from_serialized(read_text_file(path, kMaxTokenizerModelBytes), path);
}

SentencePieceTokenizer SentencePieceTokenizer::from_serialized(std::string_view model_proto, const std::string& name) {
    auto sp = std::make_shared<sentencepiece::SentencePieceProcessor>();
    if (const auto st = sp->LoadFromSerializedProto(model_proto); !st.ok())
        throw FormatError(name + ": not a SentencePiece model (" + st.ToString() + ")");
    // transformers' GemmaTokenizer turns any tokenizer.model into a BPE with merges; a Unigram (or
    // word/char) model would segment differently in libsentencepiece.
    if (const int type = spm_model_type(model_proto); type != 2)
        throw ModelError(name + ": the SentencePiece model is not BPE (model_type " + std::to_string(type) +
                         "); Gemma tokenizers are BPE");

    SentencePieceTokenizer t;
    t.sp_ = sp;
    t.name_ = name;
    const int n = sp->GetPieceSize();
    t.pieces_.reserve(static_cast<size_t>(n));
    for (int i = 0; i < n; ++i) {
        t.pieces_.push_back(sp->IdToPiece(i));
        // Control pieces ("<bos>", "<|turn>") and the unknown piece are transformers' special added
        // tokens; user-defined pieces are left to libsentencepiece, which keeps them whole itself.
        if (sp->IsControl(i) || sp->IsUnknown(i)) {
            if (!t.pieces_.back().empty()) t.specials_.add(t.pieces_.back(), i, true);
        }
    }
    for (unsigned b = 0; b < 256; ++b) {
        const int id = t.token_id(byte_piece(b));
        t.byte_ids_[b] = id >= 0 && sp->IsByte(id) ? id : -1;
    }
    t.unk_id_ = sp->unk_id();
    t.bos_id_ = sp->bos_id() >= 0 && sp->bos_id() < n ? sp->bos_id() : -1;
    t.eos_id_ = sp->eos_id() >= 0 && sp->eos_id() < n ? sp->eos_id() : -1;

    // The normalization must be Gemma's. libsentencepiece does not expose its normalizer settings, so
    // probe them: a dummy prefix, folded whitespace or NFKC (U+FB01 -> "fi", U+00A0 -> " ") would change
    // the text on the way back, and unescaped spaces would appear as " " pieces or a 0x20 byte token.
    const std::string probe = "  \xEF\xAC\x81 x\xC2\xA0  ";
    const auto ids = t.encode(probe, false);
    bool ok = t.decode(ids) == probe;
    std::string joined;
    for (int32_t id : ids) joined += id == t.byte_ids_[' '] ? std::string(" ") : t.pieces_[static_cast<size_t>(id)];
    if (joined.find(' ') != std::string::npos) ok = false;
    if (!ok)
        throw ModelError(name + ": the SentencePiece model normalizes text (" + escape_spaces(probe) + " -> " +
                         joined + "); only Gemma's identity normalization with escaped spaces is supported");
    return t;
}

int32_t SentencePieceTokenizer::token_id(std::string_view p) const {
    const int id = sp_->PieceToId(p);  // the unknown id for an absent piece
    return id >= 0 && static_cast<size_t>(id) < pieces_.size() && pieces_[static_cast<size_t>(id)] == p ? id : -1;
}

const std::string& SentencePieceTokenizer::piece(int32_t id) const {
    if (id < 0 || static_cast<size_t>(id) >= pieces_.size())
        throw Error("tokenizer: token id " + std::to_string(id) + " is out of range (vocabulary of " +
                    std::to_string(pieces_.size()) + ")");
    return pieces_[static_cast<size_t>(id)];
}

// Text without control pieces: valid UTF-8 stretches to libsentencepiece, stray bytes to byte tokens.
void SentencePieceTokenizer::encode_plain(std::string_view text, std::vector<int32_t>& out) const {
    std::vector<int> ids;
    auto run = [&](std::string_view s) {
        if (s.empty()) return;
        if (const auto st = sp_->Encode(s, &ids); !st.ok())
            throw Error(name_ + ": SentencePiece could not encode the text (" + st.ToString() + ")");
        out.insert(out.end(), ids.begin(), ids.end());
    };
    size_t start = 0;
    for (size_t i = 0; i < text.size();) {
        const size_t len = utf8_char_len(text, i);
        if (len > 0) {
            i += len;
            continue;
        }
        run(text.substr(start, i - start));
        const int32_t b = byte_ids_[static_cast<uint8_t>(text[i])];
        if (b >= 0) {
            out.push_back(b);
        } else if (unk_id_ >= 0 && (out.empty() || out.back() != unk_id_)) {
            out.push_back(unk_id_);  // no byte pieces: one <unk> for a run, as libsentencepiece fuses them
        }
        start = ++i;
    }
    run(text.substr(start));
}

std::vector<int32_t> SentencePieceTokenizer::encode(std::string_view text, bool parse_special) const {
    std::vector<int32_t> out;
    specials_.split(
        text, parse_special, [&](size_t begin, size_t len) { encode_plain(text.substr(begin, len), out); },
        [&](int32_t id) { out.push_back(id); });
    return out;
}

std::string SentencePieceTokenizer::decode(const std::vector<int32_t>& ids) const {
    return decode_pieces(ids, [this](int32_t id) -> const std::string& { return piece(id); });
}

}  // namespace gd
