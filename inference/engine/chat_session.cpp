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

std::vector<int32_t> encode_prompt(const Model& model, const std::vector<ChatMessage>& messages, bool thinking) {
    const std::string text = render_chat(messages, render_options(model, thinking));
    return model.tokenizer().encode(text, /*parse_special=*/true);  // the text starts with "<bos>"
}
}  // namespace

std::vector<int32_t> single_turn_prompt(const Model& model, const std::string& user_text, const std::string& system,
                                        bool thinking) {
    std::vector<ChatMessage> m;
    if (!system.empty()) m.push_back(ChatMessage::text("system", system));
    m.push_back(ChatMessage::text("user", user_text));
    return encode_prompt(model, m, thinking);
}

ChatSession::ChatSession(std::shared_ptr<Model> model, ChatOptions options, int64_t context)
    : model_(model), options_(std::move(options)), session_(model, context) {
    if (!options_.system.empty()) messages_.push_back(ChatMessage::text("system", options_.system));
}

void ChatSession::clear() {
    messages_.clear();
    if (!options_.system.empty()) messages_.push_back(ChatMessage::text("system", options_.system));
}

std::vector<int32_t> ChatSession::prompt_ids() const { return encode_prompt(*model_, messages_, options_.thinking); }

ChatReply ChatSession::send(const std::string& user_text, const ChatDeltaCallback& on_delta) {
    messages_.push_back(ChatMessage::text("user", user_text));
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
    out.result = session_.generate(prompt_ids(), options_.generate, [&](const TokenEvent& ev) {
        // Markup tokens (channel and tool markers) are special tokens: their text is the marker.
        return take(parser.feed(ev.text));
    });
    take(parser.finish());
    ChatMessage reply;
    reply.role = "assistant";
    if (!out.answer.empty()) reply.content.push_back(ChatItem{ChatItem::Kind::Text, out.answer});
    reply.tool_calls = out.tool_calls;
    messages_.push_back(reply);
    return out;
}

}  // namespace gd
