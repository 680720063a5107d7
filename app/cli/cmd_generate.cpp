// gemmadesk-cli generate --model PATH (--prompt TEXT | --chat TEXT | --ids LIST) [--image FILE]... [options] [--json]
// --prompt: raw text after BOS; --chat: one user turn with the model's turn opened, rendered as the
// chat template does (images first, then the text); --ids: used as given. Plain mode streams the text to stdout (statistics to
// stderr); --json prints one object with the prompt ids, every step, the text and the statistics.
#include <cstdio>
#include <nlohmann/json.hpp>

#include "commands.h"
#include "engine/chat_session.h"
#include "engine_options.h"

namespace gd::cli {

namespace {
nlohmann::json stats_json(const GenerationStats& s) {
    return {{"prompt_tokens", s.prompt_tokens},
            {"prefilled_tokens", s.prefilled_tokens},
            {"generated_tokens", s.generated_tokens},
            {"prefill_seconds", s.prefill_seconds},
            {"generation_seconds", s.generation_seconds},
            {"time_to_first_token_seconds", s.time_to_first_token},
            {"prompt_tokens_per_second", s.prompt_tokens_per_second()},
            {"generated_tokens_per_second", s.generated_tokens_per_second()},
            {"peak_rss_bytes", s.peak_rss_bytes},
            {"kv_cache_bytes", s.kv_cache_bytes}};
}
}  // namespace

int cmd_generate(const Args& args) {
    static const char* usage =
        "usage: gemmadesk-cli generate --model PATH (--prompt TEXT | --chat TEXT | --ids LIST) [--system TEXT]\n"
        "                              [--image FILE]... [--image-tokens N] [--top-logprobs K] [--json]\n"
        "                              [sampling options]\n";
    const ParsedArgs a(args, options_union({kModelOptions, kSamplingOptions, kImageOptions,
                                            {"prompt", "chat", "ids", "system", "top-logprobs"}}),
                       {"json", "help", "think"});
    if (a.flag("help")) {
        std::printf("%s%s%s%s  --think            (--chat) let the model think first\n", usage, kModelOptionsHelp,
                    kImageOptionsHelp, kSamplingOptionsHelp);
        return 0;
    }
    const int given = int(a.value("prompt").has_value()) + int(a.value("chat").has_value()) + int(a.value("ids").has_value());
    if (given != 1) throw UsageError("give exactly one of --prompt, --chat, --ids");
    if (a.value("system") && !a.value("chat")) throw UsageError("--system goes with --chat");
    const std::vector<std::string> image_files = a.values("image");
    if (!image_files.empty() && !a.value("chat")) throw UsageError("--image goes with --chat");
    if (a.value("image-tokens") && image_files.empty()) throw UsageError("--image-tokens goes with --image");
    const ImageArgs decoded = decode_images(a);  // a bad budget or file fails before the model loads
    GenerateOptions g = generate_options(a);
    g.top_logprobs = static_cast<int>(parse_uint(a.value_or("top-logprobs", "0"), "--top-logprobs"));
    const bool json = a.flag("json");
    auto model = load_model(a, json);

    Prompt prompt;
    nlohmann::json images = nlohmann::json::array();
    if (auto p = a.value("prompt")) {
        const int32_t bos = model->tokenizer().bos_id();
        if (bos >= 0) prompt.ids.push_back(bos);
        const auto body = model->tokenizer().encode(*p, true);
        prompt.ids.insert(prompt.ids.end(), body.begin(), body.end());
    } else if (auto c = a.value("chat")) {
        ChatMessage user;
        user.role = "user";
        const auto media = encode_images(*model, decoded, json);
        for (size_t i = 0; i < media.size(); ++i) {
            user.content.push_back({ChatItem::Kind::Image, "", media[i]});
            images.push_back(image_report(image_files[i], *media[i]));
        }
        user.content.push_back({ChatItem::Kind::Text, *c, nullptr});
        prompt = single_turn_prompt(*model, user, a.value_or("system", ""), a.flag("think"));
    } else {
        prompt.ids = parse_ids(*a.value("ids"));
    }

    Session session(model);
    nlohmann::json steps = nlohmann::json::array();
    const GenerationResult r = session.generate(prompt, g, [&](const TokenEvent& ev) {
        if (json && ev.id < 0) {  // the end of an open byte run: belongs to the last step
            if (!steps.empty()) steps.back()["text"] = steps.back()["text"].get<std::string>() + ev.text;
        } else if (json) {
            nlohmann::json top = nlohmann::json::array();
            for (const auto& [id, lp] : ev.top) top.push_back({id, lp});
            steps.push_back({{"id", ev.id}, {"text", ev.text}, {"logprob", ev.logprob}, {"top", top}});
        } else {
            std::fwrite(ev.text.data(), 1, ev.text.size(), stdout);
            std::fflush(stdout);
        }
        return true;
    });
    if (json) {
        nlohmann::json out = {{"prompt_ids", prompt.ids}, {"steps", steps}, {"text", r.text},
                              {"finish_reason", finish_reason_name(r.finish)}, {"stats", stats_json(r.stats)}};
        if (!image_files.empty()) out["images"] = images;
        std::printf("%s\n", out.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace).c_str());
    } else {
        std::printf("\n");
        std::fprintf(stderr, "[%lld prompt tokens at %.1f t/s, %lld generated at %.1f t/s, first token after %.0f ms, %s]\n",
                     static_cast<long long>(r.stats.prompt_tokens), r.stats.prompt_tokens_per_second(),
                     static_cast<long long>(r.stats.generated_tokens), r.stats.generated_tokens_per_second(),
                     r.stats.time_to_first_token * 1000, finish_reason_name(r.finish));
    }
    return 0;
}

}  // namespace gd::cli
