#pragma once
// A conversation: messages rendered in the Gemma 4 turn format, generated on a Session that keeps its
// KV cache between turns, and the model's output parsed into answer text, thinking and tool calls as
// it streams.
//
// Cache reuse: after a reply that ended normally without thinking, the conversation's tokens are kept
// exactly as fed and generated (plus the turn end), and the next turn appends only the rendering of
// the new messages, so only those are prefilled — even where the model's tokens would not survive
// a decode/re-encode round trip. After a reply with thinking (whose thoughts the template drops
// from the history) or one cut short, the next turn renders the whole conversation again and the
// session reuses the longest cached prefix.
#include <functional>
#include <string>
#include <vector>
#include "chat/chat_format.h"
#include "engine/engine.h"

namespace gd {

struct ChatOptions {
    std::string system;              // system prompt ("" = none)
    bool thinking = false;
    GenerateOptions generate;
};

struct ChatReply {
    std::string answer, thinking;
    std::vector<ToolCall> tool_calls;
    GenerationResult result;
};

// Streamed parts of a reply; return false to stop.
using ChatDeltaCallback = std::function<bool(const ChatOutputParser::Delta&)>;

class ChatSession {
public:
    ChatSession(std::shared_ptr<Model> model, ChatOptions options, int64_t context = 0);

    ChatReply send(const std::string& user_text, const ChatDeltaCallback& on_delta = {});
    // A user message with media items (images first, then text, as the app sends them).
    ChatReply send(const ChatMessage& user_message, const ChatDeltaCallback& on_delta = {});
    // Adds a message without generating (e.g. a tool result), then send("") is not needed: use reply().
    void add(const ChatMessage& m) { messages_.push_back(m); }
    ChatReply reply(const ChatDeltaCallback& on_delta = {});
    void cancel() { session_.cancel(); }
    void clear();

    const std::vector<ChatMessage>& messages() const { return messages_; }
    // The prompt the next reply would start from.
    Prompt prompt() const;
    std::vector<int32_t> prompt_ids() const { return prompt().ids; }
    Session& session() { return session_; }
    ChatOptions& options() { return options_; }

private:
    std::shared_ptr<Model> model_;
    ChatOptions options_;
    Session session_;
    std::vector<ChatMessage> messages_;
    std::vector<int32_t> ids_;    // the conversation's tokens so far, when they can be extended
    std::vector<PromptMedia> media_;  // the soft-token spans inside ids_
    size_t messages_in_ids_ = 0;  // how many of messages_ ids_ covers
};

// The prompt ids of one user turn with the model's turn opened, as the reference chat template
// renders it (with BOS): what `gemmadesk-cli generate --chat` feeds.
Prompt single_turn_prompt(const Model& model, const ChatMessage& user_message, const std::string& system = "",
                          bool thinking = false);
std::vector<int32_t> single_turn_prompt(const Model& model, const std::string& user_text, const std::string& system = "",
                                        bool thinking = false);

}  // namespace gd
