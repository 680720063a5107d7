// gemmadesk-cli transcribe --model PATH [--mmproj PATH] FILE [--language L] [--max-tokens N] [--json]
// Speech to text: the clip, then the fixed transcription prompt (transcription_request.h), in one user
// turn, answered without thinking and greedily by default (a transcript has one right answer). The
// text streams to stdout; --json prints one object instead:
//   {"file","text","seconds","audio_tokens","pieces","language","prompt","finish_reason","stats"}
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <nlohmann/json.hpp>

#include "audio_options.h"
#include "commands.h"
#include "engine/chat_session.h"
#include "engine_options.h"
#include "transcription_request.h"

namespace gd::cli {

namespace {
// Enough for fast speech (~4 tokens a second) with room to spare; the model stops on its own.
int64_t default_max_tokens(double seconds) { return 64 + static_cast<int64_t>(std::ceil(seconds * 8)); }
}  // namespace

int cmd_transcribe(const Args& args) {
    static const char* usage =
        "usage: gemmadesk-cli transcribe --model PATH [--mmproj PATH] FILE [--language L] [--max-tokens N] [--json]\n"
        "                                [sampling options]\n";
    const ParsedArgs a(args, options_union({kModelOptions, kSamplingOptions, {"language"}}), {"json", "help"});
    if (a.flag("help")) {
        std::printf("%s%s"
                    "  FILE               the recording (WAV, MP3, FLAC, OGG, Opus, M4A, WebM, ...; at most 10 minutes).\n"
                    "%s"
                    "  --language L       the spoken language, e.g. English (default: the model keeps the one it hears)\n"
                    "  --json             one object: text, seconds, audio_tokens, pieces, prompt, stats\n"
                    "%s"
                    "  (transcribe defaults: --temperature 0, --max-tokens 64 + 8 per second of audio; thinking is off)\n",
                    usage, kModelOptionsHelp, audio_piece_rule_help(21).c_str(), kSamplingOptionsHelp);
        return 0;
    }
    if (a.positional().size() != 1) throw UsageError("give one audio FILE");
    const std::string file = a.positional()[0], language = a.value_or("language", "");
    if (a.value("language") && (language.empty() || language.find('\n') != std::string::npos))
        throw UsageError("--language: give a language name, e.g. English");
    const AudioArgs audio = decode_audio_files({file});  // a bad file fails before the model loads
    const DecodedAudio& clip = audio.clips[0];
    GenerateOptions g = generate_options(a);
    if (!a.value("temperature")) g.sampling.temperature = 0;
    if (!a.value("max-tokens")) g.max_tokens = default_max_tokens(clip.seconds());
    const bool json = a.flag("json");
    const std::string prompt_text = transcription_prompt(language);
    auto model = load_model(a, json, audio.prompt_tokens() + static_cast<int64_t>(prompt_text.size()) + 64 + g.max_tokens);

    const auto media = encode_audio_clips(*model, audio, json).at(0);
    ChatMessage user;
    user.role = "user";
    user.content.push_back({ChatItem::Kind::Audio, "", media});
    user.content.push_back({ChatItem::Kind::Text, prompt_text, nullptr});
    const Prompt prompt = single_turn_prompt(*model, user, "", /*thinking=*/false);

    // The parser keeps any channel or turn markup out of the transcript.
    ChatOutputParser parser;
    std::string text;
    const auto take = [&](const ChatOutputParser::Delta& d) {
        text += d.answer;
        if (!json) {
            std::fwrite(d.answer.data(), 1, d.answer.size(), stdout);
            std::fflush(stdout);
        }
    };
    Session session(model);
    const GenerationResult r = session.generate(prompt, g, [&](const TokenEvent& ev) {
        take(parser.feed(ev.text));
        return true;
    });
    take(parser.finish());
    if (json) {
        const nlohmann::json out = {{"file", file},
                                    {"text", text},
                                    {"seconds", clip.seconds()},
                                    {"audio_tokens", media->tokens},
                                    {"pieces", media->audio_pieces},
                                    {"encode_seconds", media->encode_seconds},
                                    {"language", language},
                                    {"prompt", prompt_text},
                                    {"finish_reason", finish_reason_name(r.finish)},
                                    {"stats", stats_json(r.stats)}};
        std::printf("%s\n", out.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace).c_str());
    } else {
        std::printf("\n");
        std::fprintf(stderr, "[%.1f s of audio, %lld audio tokens; %lld generated at %.1f t/s, %s]\n", clip.seconds(),
                     static_cast<long long>(media->tokens), static_cast<long long>(r.stats.generated_tokens),
                     r.stats.generated_tokens_per_second(), finish_reason_name(r.finish));
    }
    return 0;
}

}  // namespace gd::cli
