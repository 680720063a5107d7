// gemmadesk-cli generate --model PATH (--prompt TEXT | --chat TEXT | --ids LIST) [--image FILE]... [--audio FILE]...
//                        [options] [--json]
// --prompt: raw text after BOS; --chat: one user turn with the model's turn opened, rendered as the
// chat template does (images first, then audio clips, then the text); --ids: used as given. Plain
// mode streams the text to stdout (statistics to stderr); --json prints one object with the prompt
// ids, every step, the text and the statistics.
#include <cstdio>
#include <nlohmann/json.hpp>

#include "audio_options.h"
#include "commands.h"
#include "engine/chat_session.h"
#include "engine_options.h"
#include "transcription_request.h"

namespace gd::cli {

int cmd_generate(const Args& args) {
    static const char* usage =
        "usage: gemmadesk-cli generate --model PATH (--prompt TEXT | --chat TEXT | --ids LIST) [--system TEXT]\n"
        "                              [--image FILE]... [--image-tokens N] [--audio FILE]... [--think]\n"
        "                              [--top-logprobs K] [--json] [sampling options]\n";
    const ParsedArgs a(args, options_union({kModelOptions, kSamplingOptions, kImageOptions, kAudioOptions,
                                            {"prompt", "chat", "ids", "system", "top-logprobs"}}),
                       {"json", "help", "think"});
    if (a.flag("help")) {
        std::printf("%s%s%s%s%s", usage, kModelOptionsHelp, kImageOptionsHelp, audio_options_help().c_str(),
                    kSamplingOptionsHelp);
        std::printf("  --think            (--chat) let the model think first; without it a request with --audio\n"
                    "                     that asks for a transcript is answered directly, as the model card advises\n");
        return 0;
    }
    const int given = int(a.value("prompt").has_value()) + int(a.value("chat").has_value()) + int(a.value("ids").has_value());
    if (given != 1) throw UsageError("give exactly one of --prompt, --chat, --ids");
    if (a.value("system") && !a.value("chat")) throw UsageError("--system goes with --chat");
    const std::vector<std::string> image_files = a.values("image"), audio_files = a.values("audio");
    if (!image_files.empty() && !a.value("chat")) throw UsageError("--image goes with --chat");
    if (!audio_files.empty() && !a.value("chat")) throw UsageError("--audio goes with --chat");
    if (a.value("image-tokens") && image_files.empty()) throw UsageError("--image-tokens goes with --image");
    // Bad budgets and files fail before the model loads.
    const ImageArgs decoded = decode_images(a);
    const AudioArgs audio = decode_audio_files(audio_files);
    GenerateOptions g = generate_options(a);
    g.top_logprobs = static_cast<int>(parse_uint(a.value_or("top-logprobs", "0"), "--top-logprobs"));
    const bool json = a.flag("json");
    // Long clips take many tokens: grow the default context to hold them (an upper bound on the text).
    const std::string chat_text = a.value_or("chat", "");
    const int64_t needed = audio.prompt_tokens() + static_cast<int64_t>(image_files.size()) * (decoded.budget + 2) +
                           static_cast<int64_t>(chat_text.size() + a.value_or("system", "").size()) + 64 + g.max_tokens;
    auto model = load_model(a, json, audio_files.empty() ? 0 : needed);

    Prompt prompt;
    nlohmann::json images = nlohmann::json::array(), clips = nlohmann::json::array();
    const bool transcription = !audio_files.empty() && looks_like_transcription_request(chat_text);
    const bool thinking = choose_thinking(a.flag("think") ? std::optional<bool>(true) : std::nullopt, false, transcription);
    if (auto p = a.value("prompt")) {
        const int32_t bos = model->tokenizer().bos_id();
        if (bos >= 0) prompt.ids.push_back(bos);
        const auto body = model->tokenizer().encode(*p, true);
        prompt.ids.insert(prompt.ids.end(), body.begin(), body.end());
    } else if (a.value("chat")) {
        if (!audio_files.empty()) require_audio(*model);  // before spending time on the images
        ChatMessage user;
        user.role = "user";
        const auto media = encode_images(*model, decoded, json);
        for (size_t i = 0; i < media.size(); ++i) {
            user.content.push_back({ChatItem::Kind::Image, "", media[i]});
            images.push_back(image_report(image_files[i], *media[i]));
        }
        // Media before the text, as the reference template's examples place them.
        const auto sounds = encode_audio_clips(*model, audio, json);
        for (size_t i = 0; i < sounds.size(); ++i) {
            user.content.push_back({ChatItem::Kind::Audio, "", sounds[i]});
            clips.push_back(audio_report(audio_files[i], audio.clips[i], *sounds[i]));
        }
        user.content.push_back({ChatItem::Kind::Text, chat_text, nullptr});
        prompt = single_turn_prompt(*model, user, a.value_or("system", ""), thinking);
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
        if (!audio_files.empty()) {
            out["audio"] = clips;
            out["transcription_request"] = transcription;
            out["thinking"] = thinking;
        }
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
