// gemmadesk-cli chat --model PATH [--system TEXT] [--think]: an interactive chat in the terminal.
// The conversation keeps its KV cache between turns, so each turn prefills only its new tokens.
// Commands: /reset (new conversation), /quit. Ctrl-D ends.
#include <cstdio>
#include <iostream>
#include <string>

#include "commands.h"
#include "common/error.h"
#include "engine/chat_session.h"
#include "engine_options.h"

namespace gd::cli {

int cmd_chat(const Args& args) {
    static const char* usage = "usage: gemmadesk-cli chat --model PATH [--system TEXT] [--think] [sampling options]\n";
    const ParsedArgs a(args, options_union({kModelOptions, kSamplingOptions, {"system"}}), {"help", "think"});
    if (a.flag("help")) {
        std::printf("%s%s%s", usage, kModelOptionsHelp, kSamplingOptionsHelp);
        return 0;
    }
    auto model = load_model(a);
    ChatOptions o;
    o.system = a.value_or("system", "");
    o.thinking = a.flag("think");
    o.generate = generate_options(a);
    ChatSession chat(model, o);
    std::fprintf(stderr, "%s — /reset for a new conversation, /quit or Ctrl-D to leave\n", describe(model->config()).c_str());
    std::string line;
    for (;;) {
        std::fprintf(stderr, "> ");
        if (!std::getline(std::cin, line) || line == "/quit") break;
        if (line.empty()) continue;
        if (line == "/reset") {
            chat.clear();
            continue;
        }
        bool in_thought = false;
        try {
            const ChatReply r = chat.send(line, [&](const ChatOutputParser::Delta& d) {
                if (!d.thinking.empty()) {
                    if (!in_thought) std::fprintf(stdout, "\x1b[2m");
                    in_thought = true;
                    std::fwrite(d.thinking.data(), 1, d.thinking.size(), stdout);
                }
                if (!d.answer.empty()) {
                    if (in_thought) std::fprintf(stdout, "\x1b[0m\n");
                    in_thought = false;
                    std::fwrite(d.answer.data(), 1, d.answer.size(), stdout);
                }
                for (const ToolCall& c : d.tool_calls) std::fprintf(stdout, "\n[tool call: %s %s]\n", c.name.c_str(), c.arguments.dump().c_str());
                std::fflush(stdout);
                return true;
            });
            if (in_thought) std::fprintf(stdout, "\x1b[0m");
            std::fprintf(stdout, "\n");
            std::fprintf(stderr, "[%lld new prompt tokens at %.1f t/s, %lld generated at %.1f t/s, %s]\n",
                         static_cast<long long>(r.result.stats.prefilled_tokens), r.result.stats.prompt_tokens_per_second(),
                         static_cast<long long>(r.result.stats.generated_tokens), r.result.stats.generated_tokens_per_second(),
                         finish_reason_name(r.result.finish));
        } catch (const Error& e) {
            std::fprintf(stderr, "error: %s\n", e.what());
        }
    }
    return 0;
}

}  // namespace gd::cli
