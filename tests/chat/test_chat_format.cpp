// The Gemma 4 conversation format: prompts rendered as spec §5.3 describes (its example verbatim),
// and model output split into thinking, answer and tool calls however it is cut into pieces.
#include <gtest/gtest.h>

#include "chat/chat_format.h"
#include "common/error.h"

namespace gd {
namespace {

using json = nlohmann::json;

TEST(ChatRender, SpecExampleLargeTemplateThinkingOff) {
    ChatRenderOptions o;
    o.empty_thought_channel_when_not_thinking = true;
    EXPECT_EQ(render_chat({ChatMessage::text("user", "What is 2+2?")}, o),
              "<bos><|turn>user\nWhat is 2+2?<turn|>\n<|turn>model\n<|channel>thought\n<channel|>");
}

TEST(ChatRender, SystemThinkingMediaAndHistory) {
    ChatRenderOptions o;
    o.thinking = true;
    ChatMessage user;
    user.role = "user";
    user.content = {{ChatItem::Kind::Text, "  Describe this:  "}, {ChatItem::Kind::Image, ""}, {ChatItem::Kind::Audio, ""}};
    const std::vector<ChatMessage> msgs = {
        ChatMessage::text("system", " Be brief. "),
        ChatMessage::text("user", "Hi"),
        ChatMessage::text("assistant", "<|channel>thought\nthe user greets<channel|>Hello!"),
        user,
    };
    EXPECT_EQ(render_chat(msgs, o),
              "<bos><|turn>system\n<|think|>Be brief.<turn|>\n"
              "<|turn>user\nHi<turn|>\n"
              "<|turn>model\nHello!<turn|>\n"  // thinking dropped from history
              "<|turn>user\nDescribe this:\n\n<|image|>\n\n<|audio|><turn|>\n"
              "<|turn>model\n");
    EXPECT_THROW(render_chat({ChatMessage::text("robot", "x")}, {}), Error);
}

TEST(ChatRender, ToolCallsAndResponsesStayInTheModelTurn) {
    ChatMessage call;
    call.role = "assistant";
    call.tool_calls.push_back({"get_weather", json{{"unit", "C"}, {"city", "Paris"}, {"days", 2}}});
    ChatMessage result;
    result.role = "tool";
    result.tool_name = "get_weather";
    result.tool_response = 21.5;
    const std::string p = render_chat({ChatMessage::text("user", "Weather?"), call, result}, {});
    EXPECT_EQ(p,
              "<bos><|turn>user\nWeather?<turn|>\n<|turn>model\n"
              "<|tool_call>call:get_weather{city:<|\"|>Paris<|\"|>,days:2,unit:<|\"|>C<|\"|>}<tool_call|>"
              "<|tool_response>response:get_weather{value:21.5}<tool_response|>");
}

TEST(ToolValues, FormatAndParseRoundTrip) {
    const json v = {{"b", json::array({1, "two", nullptr, true})}, {"a", {{"x", -1.5}, {"s", "with, comma: {x}"}}}};
    const std::string s = format_tool_value(v);
    EXPECT_EQ(s, "{a:{s:<|\"|>with, comma: {x}<|\"|>,x:-1.5},b:[1,<|\"|>two<|\"|>,null,true]}");
    EXPECT_EQ(parse_tool_value(s), v);
    for (const char* bad : {"{a:", "{a:1", "{:1}", "[1,", "{a:<|\"|>open}", "{a:foo}", "{a:1} x"})
        EXPECT_THROW(parse_tool_value(bad), FormatError) << bad;
}

// However the stream is cut, the parser gives the same thinking, answer and calls.
TEST(ChatOutput, SplitsThinkingAnswerAndToolCallsAcrossAnyPieces) {
    const std::string out =
        "<|channel>thought\nLet me check <the> weather.<channel|>Sure <b>now</b>: "
        "<|tool_call>call:get_weather{city:<|\"|>Paris<|\"|>}<tool_call|> done";
    for (size_t cut = 1; cut <= out.size(); ++cut) {
        ChatOutputParser p;
        std::string thinking, answer;
        std::vector<ToolCall> calls;
        auto take = [&](const ChatOutputParser::Delta& d) {
            thinking += d.thinking;
            answer += d.answer;
            calls.insert(calls.end(), d.tool_calls.begin(), d.tool_calls.end());
        };
        for (size_t i = 0; i < out.size(); i += cut) take(p.feed(out.substr(i, cut)));
        take(p.finish());
        ASSERT_EQ(thinking, "Let me check <the> weather.") << "pieces of " << cut;
        ASSERT_EQ(answer, "Sure <b>now</b>:  done") << "pieces of " << cut;
        ASSERT_EQ(calls.size(), 1u);
        EXPECT_EQ(calls[0].name, "get_weather");
        EXPECT_EQ(calls[0].arguments, (json{{"city", "Paris"}}));
    }
}

TEST(ChatOutput, UnfinishedMarkupIsNotLost) {
    ChatOutputParser p;
    auto d = p.feed("The answer is <|chan");
    EXPECT_EQ(d.answer, "The answer is ");
    d = p.finish();
    EXPECT_EQ(d.answer, "<|chan");  // never completed: it was text after all
    ChatOutputParser q;
    q.feed("<|tool_call>call:f{a:");
    d = q.finish();
    EXPECT_EQ(d.answer, "<|tool_call>call:f{a:");
}

}  // namespace
}  // namespace gd
