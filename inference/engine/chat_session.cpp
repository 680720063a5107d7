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
    ids_.clear();
    messages_in_ids_ = 0;
    if (!options_.system.empty()) messages_.push_back(ChatMessage::text("system", options_.system));
}

std::vector<int32_t> ChatSession::prompt_ids() const {
    if (ids_.empty()) return encode_prompt(*model_, messages_, options_.thinking);
    // Extend the exact token history with the new messages only (their rendering minus "<bos>").
    const std::vector<ChatMessage> fresh(messages_.begin() + static_cast<std::ptrdiff_t>(messages_in_ids_), messages_.end());
    std::string text = render_chat(fresh, render_options(*model_, options_.thinking));
    const std::string bos = "<bos>";
    if (text.compare(0, bos.size(), bos) == 0) text.erase(0, bos.size());
    std::vector<int32_t> ids = ids_;
    const std::vector<int32_t> more = model_->tokenizer().encode(text, true);
    ids.insert(ids.end(), more.begin(), more.end());
    return ids;
}

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
    const std::vector<int32_t> prompt = prompt_ids();
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
        ids_ = prompt;
        ids_.insert(ids_.end(), out.result.ids.begin(), out.result.ids.end());
        ids_.push_back(turn_end);
        const std::vector<int32_t> nl = model_->tokenizer().encode("\n", false);
        ids_.insert(ids_.end(), nl.begin(), nl.end());
        messages_in_ids_ = messages_.size();
    } else {
        ids_.clear();
        messages_in_ids_ = 0;
    }
    return out;
}

}  // namespace gd
