#pragma once
// The Gemma 4 conversation format (spec §5.3–5.5): rendering messages into the prompt text the model
// was trained on, and parsing what the model writes back into answer text, thinking and tool calls.
// The renderer follows the shipped chat template's rules; media items become the placeholders the
// prompt assembler later expands into soft tokens.
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/media_embedding.h"

namespace gd {

struct ChatItem {
    enum class Kind { Text, Image, Audio, Video };
    Kind kind = Kind::Text;
    std::string text;  // Text items only
    // Image/Audio items: the encoded soft tokens the placeholder expands into (the renderer writes
    // only the placeholder; the engine's prompt assembly inserts these).
    std::shared_ptr<const MediaEmbedding> media;
};

struct ToolCall {
    std::string name;
    nlohmann::json arguments = nlohmann::json::object();
};

struct ChatMessage {
    std::string role;              // "system", "user", "assistant" (written as "model"), "tool"
    std::vector<ChatItem> content;
    std::vector<ToolCall> tool_calls;       // assistant turns that called tools
    std::string tool_name;                  // role "tool": which tool answered
    nlohmann::json tool_response;           // role "tool": its result (non-objects become {value: ...})

    static ChatMessage text(std::string role, std::string text);
};

struct ChatRenderOptions {
    bool thinking = false;               // <|think|> at the start of the system turn
    bool add_generation_prompt = true;   // end with "<|turn>model\n"
    // The 26B/31B template pre-fills an empty thought channel when thinking is off.
    bool empty_thought_channel_when_not_thinking = false;
};

// Renders the prompt text, starting with "<bos>". Throws gd::Error for an unknown role.
std::string render_chat(const std::vector<ChatMessage>& messages, const ChatRenderOptions& o);

// Tool-call argument syntax: {key:value,...}, keys sorted, strings wrapped in <|"|>.
std::string format_tool_value(const nlohmann::json& v);
// Parses that syntax back (strings, numbers, booleans, null, nested objects and lists).
// Throws gd::FormatError on malformed input.
nlohmann::json parse_tool_value(const std::string& text);

// Splits model output, fed piece by piece as it streams, into thinking, answer and tool calls.
// Markup never reaches the answer text; a marker split across pieces is held back until complete.
class ChatOutputParser {
public:
    struct Delta {
        std::string thinking;  // new thought-channel text
        std::string answer;    // new answer text
        std::vector<ToolCall> tool_calls;  // completed calls
    };
    Delta feed(const std::string& piece);
    Delta finish();  // end of generation: flushes what was held back

private:
    enum class Mode { Answer, ChannelName, Thinking, ToolCall };
    void route(Delta& d, const std::string& s);  // to thinking or answer by mode (not "emit": a Qt macro)
    Mode mode_ = Mode::Answer;
    std::string pending_;  // text not yet classified (may hold the start of a marker)
    std::string tool_buf_;
};

}  // namespace gd
