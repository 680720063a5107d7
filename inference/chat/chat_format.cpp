#include "chat/chat_format.h"

#include <algorithm>
#include <cctype>

#include "common/error.h"

namespace gd {
namespace {

using json = nlohmann::json;

const std::string kQuote = "<|\"|>";

std::string trim(const std::string& s) {
    const auto b = s.find_first_not_of(" \t\r\n");
    if (b == std::string::npos) return "";
    const auto e = s.find_last_not_of(" \t\r\n");
    return s.substr(b, e - b + 1);
}

std::string render_content(const std::vector<ChatItem>& items) {
    std::string out;
    for (const ChatItem& it : items) {
        switch (it.kind) {
            case ChatItem::Kind::Text: out += trim(it.text); break;
            case ChatItem::Kind::Image: out += "\n\n<|image|>\n\n"; break;
            case ChatItem::Kind::Audio: out += "<|audio|>"; break;
            case ChatItem::Kind::Video: out += "\n\n<|video|>\n\n"; break;
        }
    }
    return out;
}

// Drops <|channel>...<channel|> thinking from model turns of the history.
std::string strip_thinking(std::string s) {
    for (;;) {
        const auto b = s.find("<|channel>");
        if (b == std::string::npos) return s;
        const auto e = s.find("<channel|>", b);
        if (e == std::string::npos) return s.substr(0, b);
        s.erase(b, e + 10 - b);
    }
}

class ValueParser {
public:
    explicit ValueParser(const std::string& s) : s_(s) {}
    json parse_all() {
        json v = value(0);
        skip_ws();
        if (i_ != s_.size()) fail("unexpected text after the value");
        return v;
    }

private:
    [[noreturn]] void fail(const std::string& what) const {
        throw FormatError("tool-call arguments: " + what + " at character " + std::to_string(i_));
    }
    void skip_ws() {
        while (i_ < s_.size() && std::isspace(static_cast<unsigned char>(s_[i_]))) ++i_;
    }
    bool starts(const std::string& t) const { return s_.compare(i_, t.size(), t) == 0; }
    json value(int depth) {
        if (depth > 64) fail("nesting too deep");
        skip_ws();
        if (i_ >= s_.size()) fail("missing value");
        if (starts(kQuote)) {
            i_ += kQuote.size();
            const auto e = s_.find(kQuote, i_);
            if (e == std::string::npos) fail("unterminated string");
            std::string str = s_.substr(i_, e - i_);
            i_ = e + kQuote.size();
            return str;
        }
        if (s_[i_] == '{') {
            ++i_;
            json o = json::object();
            skip_ws();
            if (i_ < s_.size() && s_[i_] == '}') return ++i_, o;
            for (;;) {
                skip_ws();
                const size_t k0 = i_;
                while (i_ < s_.size() && s_[i_] != ':' && s_[i_] != '}' && s_[i_] != ',') ++i_;
                if (i_ >= s_.size() || s_[i_] != ':') fail("expected key:value");
                const std::string key = trim(s_.substr(k0, i_ - k0));
                if (key.empty()) fail("empty key");
                ++i_;
                o[key] = value(depth + 1);
                skip_ws();
                if (i_ < s_.size() && s_[i_] == ',') { ++i_; continue; }
                if (i_ < s_.size() && s_[i_] == '}') { ++i_; return o; }
                fail("expected , or }");
            }
        }
        if (s_[i_] == '[') {
            ++i_;
            json a = json::array();
            skip_ws();
            if (i_ < s_.size() && s_[i_] == ']') return ++i_, a;
            for (;;) {
                a.push_back(value(depth + 1));
                skip_ws();
                if (i_ < s_.size() && s_[i_] == ',') { ++i_; continue; }
                if (i_ < s_.size() && s_[i_] == ']') { ++i_; return a; }
                fail("expected , or ]");
            }
        }
        // A bare token: number, true, false, null.
        const size_t b = i_;
        while (i_ < s_.size() && s_[i_] != ',' && s_[i_] != '}' && s_[i_] != ']' && !std::isspace(static_cast<unsigned char>(s_[i_]))) ++i_;
        const std::string tok = s_.substr(b, i_ - b);
        if (tok == "true") return true;
        if (tok == "false") return false;
        if (tok == "null") return nullptr;
        const json n = json::parse(tok, nullptr, false);
        if (n.is_discarded() || !n.is_number()) fail("'" + tok + "' is not a value");
        return n;
    }
    const std::string& s_;
    size_t i_ = 0;
};

}  // namespace

ChatMessage ChatMessage::text(std::string role, std::string t) {
    ChatMessage m;
    m.role = std::move(role);
    m.content.push_back({ChatItem::Kind::Text, std::move(t)});
    return m;
}

std::string format_tool_value(const json& v) {
    if (v.is_string()) return kQuote + v.get<std::string>() + kQuote;
    if (v.is_object()) {
        std::vector<std::string> keys;
        for (auto it = v.begin(); it != v.end(); ++it) keys.push_back(it.key());
        std::sort(keys.begin(), keys.end());
        std::string s = "{";
        for (size_t k = 0; k < keys.size(); ++k) s += (k ? "," : "") + keys[k] + ":" + format_tool_value(v.at(keys[k]));
        return s + "}";
    }
    if (v.is_array()) {
        std::string s = "[";
        for (size_t k = 0; k < v.size(); ++k) s += (k ? "," : "") + format_tool_value(v[k]);
        return s + "]";
    }
    return v.dump();  // numbers, booleans, null
}

json parse_tool_value(const std::string& text) { return ValueParser(text).parse_all(); }

std::string render_chat(const std::vector<ChatMessage>& messages, const ChatRenderOptions& o) {
    std::string out = "<bos>";
    size_t first = 0;
    const bool has_system = !messages.empty() && (messages[0].role == "system" || messages[0].role == "developer");
    if (o.thinking || has_system) {
        out += "<|turn>system\n";
        if (o.thinking) out += "<|think|>";
        if (has_system) out += render_content(messages[0].content);
        out += "<turn|>\n";
        first = has_system ? 1 : 0;
    }
    bool open_turn = false;  // a tool result continues the model's turn
    for (size_t k = first; k < messages.size(); ++k) {
        const ChatMessage& m = messages[k];
        if (m.role == "tool") {
            out += "<|tool_response>response:" + m.tool_name +
                   format_tool_value(m.tool_response.is_object() ? m.tool_response : json{{"value", m.tool_response}}) +
                   "<tool_response|>";
            open_turn = true;
            continue;
        }
        if (open_turn) {
            out += "<turn|>\n";
            open_turn = false;
        }
        std::string role;
        if (m.role == "user") role = "user";
        else if (m.role == "assistant" || m.role == "model") role = "model";
        else throw Error("unknown chat role '" + m.role + "' (system, user, assistant, tool)");
        out += "<|turn>" + role + "\n";
        std::string body = render_content(m.content);
        if (role == "model") body = strip_thinking(body);
        out += body;
        for (const ToolCall& c : m.tool_calls) out += "<|tool_call>call:" + c.name + format_tool_value(c.arguments) + "<tool_call|>";
        if (role == "model" && !m.tool_calls.empty() && k + 1 < messages.size() && messages[k + 1].role == "tool") {
            open_turn = true;  // the tool results go inside this turn
            continue;
        }
        out += "<turn|>\n";
    }
    if (o.add_generation_prompt) {
        if (!open_turn) out += "<|turn>model\n";
        if (!o.thinking && o.empty_thought_channel_when_not_thinking) out += "<|channel>thought\n<channel|>";
    } else if (open_turn) {
        out += "<turn|>\n";
    }
    return out;
}

void ChatOutputParser::route(Delta& d, const std::string& s) {
    if (s.empty()) return;
    if (mode_ == Mode::Thinking) d.thinking += s;
    else if (mode_ == Mode::ToolCall) tool_buf_ += s;
    else if (mode_ == Mode::Answer) d.answer += s;
}

ChatOutputParser::Delta ChatOutputParser::feed(const std::string& piece) {
    Delta d;
    pending_ += piece;
    for (;;) {
        if (mode_ == Mode::ChannelName) {  // "<|channel>thought\n": the name up to the newline
            const auto nl = pending_.find('\n');
            if (nl == std::string::npos) return d;
            pending_.erase(0, nl + 1);
            mode_ = Mode::Thinking;
            continue;
        }
        struct Marker { const char* text; Mode from; Mode to; };
        static const Marker kMarkers[] = {
            {"<|channel>", Mode::Answer, Mode::ChannelName},
            {"<channel|>", Mode::Thinking, Mode::Answer},
            {"<|tool_call>", Mode::Answer, Mode::ToolCall},
            {"<tool_call|>", Mode::ToolCall, Mode::Answer},
        };
        size_t best = std::string::npos;
        const Marker* hit = nullptr;
        for (const Marker& mk : kMarkers) {
            if (mk.from != mode_) continue;
            const auto p = pending_.find(mk.text);
            if (p < best) best = p, hit = &mk;
        }
        if (hit) {
            route(d, pending_.substr(0, best));
            pending_.erase(0, best + std::char_traits<char>::length(hit->text));
            if (hit->from == Mode::ToolCall) {
                // "call:NAME{args}"
                std::string call = tool_buf_;
                tool_buf_.clear();
                if (call.rfind("call:", 0) == 0) call.erase(0, 5);
                const auto brace = call.find('{');
                ToolCall tc;
                tc.name = trim(call.substr(0, brace));
                if (brace != std::string::npos) {
                    try {
                        tc.arguments = parse_tool_value(call.substr(brace));
                    } catch (const FormatError&) {
                        tc.arguments = json{{"_unparsed", call.substr(brace)}};
                    }
                }
                d.tool_calls.push_back(std::move(tc));
            }
            mode_ = hit->to;
            continue;
        }
        // No complete marker: emit everything except a tail that could start one.
        size_t keep = 0;
        const size_t max_marker = 12;
        for (size_t n = std::min(max_marker, pending_.size()); n > 0; --n) {
            const std::string tail = pending_.substr(pending_.size() - n);
            bool prefix = false;
            for (const Marker& mk : kMarkers)
                if (mk.from == mode_ && std::string(mk.text).compare(0, n, tail) == 0) prefix = true;
            if (prefix) {
                keep = n;
                break;
            }
        }
        route(d, pending_.substr(0, pending_.size() - keep));
        pending_.erase(0, pending_.size() - keep);
        return d;
    }
}

ChatOutputParser::Delta ChatOutputParser::finish() {
    Delta d;
    if (mode_ == Mode::ChannelName) mode_ = Mode::Thinking;
    route(d, pending_);
    pending_.clear();
    if (mode_ == Mode::ToolCall && !tool_buf_.empty()) {  // cut off mid-call: report it as text
        d.answer += "<|tool_call>" + tool_buf_;
        tool_buf_.clear();
    }
    mode_ = Mode::Answer;
    return d;
}

}  // namespace gd
