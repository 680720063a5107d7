#include "transcription_request.h"

#include <algorithm>
#include <cctype>

namespace gd::cli {

const char* const kTranscriptionPromptTemplate =
    "Transcribe the following speech segment in {LANGUAGE} into {LANGUAGE} text.\n\n"
    "Follow these specific instructions for formatting the answer:\n"
    "* Only output the transcription, with no newlines.\n"
    "* When transcribing numbers, write the digits, i.e. write 1.7 and not one point seven, and write 3 instead of three.";

std::string transcription_prompt(const std::string& language) {
    std::string out = kTranscriptionPromptTemplate;
    // Without a language the first sentence names none, so the model keeps the one it hears instead
    // of translating into English.
    if (language.empty()) {
        const std::string first = "Transcribe the following speech segment in {LANGUAGE} into {LANGUAGE} text.";
        out.replace(out.find(first), first.size(), "Transcribe the following speech segment in its original language.");
    }
    const std::string key = "{LANGUAGE}";
    for (size_t at = out.find(key); at != std::string::npos; at = out.find(key, at + language.size()))
        out.replace(at, key.size(), language);
    return out;
}

bool looks_like_transcription_request(std::string_view text) {
    std::string lower(text);
    std::transform(lower.begin(), lower.end(), lower.begin(), [](unsigned char c) {
        return c == '-' ? ' ' : static_cast<char>(std::tolower(c));
    });
    // "transcri" covers transcribe, transcript and transcription.
    for (const char* cue : {"transcri", "dictate", "write down what", "speech to text"})
        if (lower.find(cue) != std::string::npos) return true;
    return false;
}

bool choose_thinking(std::optional<bool> explicit_choice, bool default_thinking, bool transcription_request) {
    if (explicit_choice) return *explicit_choice;
    return transcription_request ? false : default_thinking;
}

}  // namespace gd::cli
