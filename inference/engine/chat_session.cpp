#include "engine/chat_session.h"

#include "common/error.h"

namespace gd {

namespace {
ChatRenderOptions render_options(const Model& model, bool thinking) {
    ChatRenderOptions o;
    o.thinking = thinking;
    o.add_generation_prompt = true;
    // The 26B-A4B / 31B template pre-fills an empty thought channel when thinking is off (spec §9.32).
    const Variant family = family_of(model.config());
    o.empty_thought_channel_when_not_thinking = family == Variant::A26B || family == Variant::B31;
    return o;
}

// The media items of `messages`, in prompt order.
std::vector<std::shared_ptr<const MediaEmbedding>> media_items(const std::vector<ChatMessage>& messages) {
    std::vector<std::shared_ptr<const MediaEmbedding>> out;
    for (const ChatMessage& m : messages)
        for (const ChatItem& it : m.content)
            if (it.kind == ChatItem::Kind::Image || it.kind == ChatItem::Kind::Audio) {
                if (!it.media) throw Error("an image or audio item has not been encoded");
                out.push_back(it.media);
            }
    return out;
}

// Media placeholders as text ("<|image|>" typed by the user, or quoted by the model) must stay text:
// only the renderer's own placeholders, one per attachment, may become soft tokens. Before rendering,
// such literals in text items are swapped for a sentinel (ASCII unit separators, removed from the
// text first), and the sentinels are tokenized as plain text afterwards.
const std::string kSentinel = "\x1f";
const char* const kMediaLiterals[] = {"<|image|>", "<|audio|>", "<|video|>"};

std::vector<ChatMessage> shield_media_literals(const std::vector<ChatMessage>& messages) {
    std::vector<ChatMessage> out = messages;
    for (ChatMessage& m : out)
        for (ChatItem& it : m.content) {
            if (it.kind != ChatItem::Kind::Text) continue;
            std::erase(it.text, kSentinel[0]);
            for (size_t k = 0; k < 3; ++k) {
                const std::string literal = kMediaLiterals[k], mark = kSentinel + std::to_string(k) + kSentinel;
                for (size_t at = it.text.find(literal); at != std::string::npos; at = it.text.find(literal, at + mark.size()))
                    it.text.replace(at, literal.size(), mark);
            }
        }
    return out;
}

// Tokenizes rendered text with special tokens, except the shielded literals, which are plain text.
std::vector<int32_t> encode_rendered(const Tokenizer& tok, const std::string& text) {
    std::vector<int32_t> ids;
    size_t from = 0;
    while (from <= text.size()) {
        const size_t at = text.find(kSentinel, from);
        const std::string part = text.substr(from, at == std::string::npos ? std::string::npos : at - from);
        const std::vector<int32_t> p = tok.encode(part, /*parse_special=*/true);
        ids.insert(ids.end(), p.begin(), p.end());
        if (at == std::string::npos) break;
        const size_t end = text.find(kSentinel, at + 1);  // "\x1f" k "\x1f"
        const size_t k = static_cast<size_t>(text[at + 1] - '0');
        const std::vector<int32_t> lit = tok.encode(kMediaLiterals[k], /*parse_special=*/false);
        ids.insert(ids.end(), lit.begin(), lit.end());
        from = end + 1;
    }
    return ids;
}

// Renders and tokenizes `messages`, then expands each image/audio placeholder the template wrote into
// begin marker + one placeholder per soft token + end marker (spec §3.7, §4.7), appended to `out`.
void append_prompt(const Model& model, const std::vector<ChatMessage>& messages, bool thinking, bool strip_bos, Prompt& out) {
    std::string text = render_chat(shield_media_literals(messages), render_options(model, thinking));
    const std::string bos = "<bos>";
    if (strip_bos && text.compare(0, bos.size(), bos) == 0) text.erase(0, bos.size());
    const std::vector<int32_t> ids = encode_rendered(model.tokenizer(), text);
    const std::vector<std::shared_ptr<const MediaEmbedding>> media = media_items(messages);
    const TokenIds& t = model.config().tokens;
    size_t next = 0;
    for (int32_t id : ids) {
        const bool image = id == t.image, audio = id == t.audio;
        if (!image && !audio) {
            out.ids.push_back(id);
            continue;
        }
        if (next >= media.size()) throw Error("a media placeholder has no attachment");  // cannot happen: shielded
        const std::shared_ptr<const MediaEmbedding>& m = media[next++];
        if ((m->kind == MediaEmbedding::Kind::Image) != image) throw Error("attachments and their placeholders are out of order");
        const int64_t begin = image ? t.boi : t.boa, end = image ? t.eoi : t.eoa;
        if (begin < 0 || end < 0) throw Error("this model's vocabulary has no image or audio markers");
        out.ids.push_back(static_cast<int32_t>(begin));
        out.media.push_back({static_cast<int64_t>(out.ids.size()), m});
        out.ids.insert(out.ids.end(), static_cast<size_t>(m->tokens), id);
        out.ids.push_back(static_cast<int32_t>(end));
    }
    if (next != media.size()) throw Error("an attachment has no placeholder in the prompt");
}

Prompt encode_prompt(const Model& model, const std::vector<ChatMessage>& messages, bool thinking) {
    Prompt p;
    append_prompt(model, messages, thinking, false, p);  // the text starts with "<bos>"
    return p;
}
}  // namespace

Prompt single_turn_prompt(const Model& model, const ChatMessage& user_message, const std::string& system, bool thinking) {
    std::vector<ChatMessage> m;
    if (!system.empty()) m.push_back(ChatMessage::text("system", system));
    m.push_back(user_message);
    return encode_prompt(model, m, thinking);
}

std::vector<int32_t> single_turn_prompt(const Model& model, const std::string& user_text, const std::string& system,
                                        bool thinking) {
    return single_turn_prompt(model, ChatMessage::text("user", user_text), system, thinking).ids;
}

ChatSession::ChatSession(std::shared_ptr<Model> model, ChatOptions options, int64_t context)
    : model_(model), options_(std::move(options)), session_(model, context) {
    if (!options_.system.empty()) messages_.push_back(ChatMessage::text("system", options_.system));
}

void ChatSession::clear() {
    messages_.clear();
    ids_.clear();
    media_.clear();
    messages_in_ids_ = 0;
    if (!options_.system.empty()) messages_.push_back(ChatMessage::text("system", options_.system));
}

Prompt ChatSession::prompt() const {
    if (ids_.empty()) return encode_prompt(*model_, messages_, options_.thinking);
    // Extend the exact token history with the new messages only (their rendering minus "<bos>").
    const std::vector<ChatMessage> fresh(messages_.begin() + static_cast<std::ptrdiff_t>(messages_in_ids_), messages_.end());
    Prompt p{ids_, media_};
    append_prompt(*model_, fresh, options_.thinking, true, p);
    return p;
}

ChatReply ChatSession::send(const std::string& user_text, const ChatDeltaCallback& on_delta) {
    return send(ChatMessage::text("user", user_text), on_delta);
}

ChatReply ChatSession::send(const ChatMessage& user_message, const ChatDeltaCallback& on_delta) {
    messages_.push_back(user_message);
    try {
        return reply(on_delta);
    } catch (...) {
        messages_.pop_back();  // nothing is lost: the user can send it again
        throw;
    }
}

ChatReply ChatSession::reply(const ChatDeltaCallback& on_delta) {
    ChatReply out;
    ChatOutputParser parser;
    auto take = [&](const ChatOutputParser::Delta& d) {
        out.answer += d.answer;
        out.thinking += d.thinking;
        out.tool_calls.insert(out.tool_calls.end(), d.tool_calls.begin(), d.tool_calls.end());
        return !on_delta || on_delta(d);
    };
    const Prompt prompt = this->prompt();
    out.result = session_.generate(prompt, options_.generate, [&](const TokenEvent& ev) {
        // Markup tokens (channel and tool markers) are special tokens: their text is the marker.
        return take(parser.feed(ev.text));
    });
    take(parser.finish());
    ChatMessage reply;
    reply.role = "assistant";
    if (!out.answer.empty()) reply.content.push_back(ChatItem{ChatItem::Kind::Text, out.answer});
    reply.tool_calls = out.tool_calls;
    messages_.push_back(reply);
    // Keep the exact tokens when the turn ended as the template would close it.
    const int32_t turn_end = model_->tokenizer().token_id("<turn|>");
    if (out.result.finish == FinishReason::Stop && out.thinking.empty() && turn_end >= 0) {
        ids_ = prompt.ids;
        media_ = prompt.media;
        ids_.insert(ids_.end(), out.result.ids.begin(), out.result.ids.end());
        ids_.push_back(turn_end);
        const std::vector<int32_t> nl = model_->tokenizer().encode("\n", false);
        ids_.insert(ids_.end(), nl.begin(), nl.end());
        messages_in_ids_ = messages_.size();
    } else {
        ids_.clear();
        media_.clear();
        messages_in_ids_ = 0;
    }
    return out;
}

}  // namespace gd
