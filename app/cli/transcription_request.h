#pragma once
// Transcription-style requests: the fixed prompt `transcribe` sends, and recognising a user's own
// words as such a request, so that `generate --audio` does not spend tokens thinking about a task
// the model answers best directly (Gemma 4's audio prompts are plain instructions, thinking off).
// Qt-free and model-free, so the app can share it later.
#include <optional>
#include <string>
#include <string_view>

namespace gd::cli {

// The model card's speech-recognition prompt; {LANGUAGE} is the spoken language. Kept in one place
// so `transcribe` and its documentation cannot drift apart.
extern const char* const kTranscriptionPromptTemplate;
// The prompt for `language` ("" = not given: the model is asked for the language it hears).
std::string transcription_prompt(const std::string& language);

// True when `text` asks for a transcript: "transcribe", "transcript", "transcription", "dictate",
// "write down what", "speech to text" (case-insensitive; "speech-to-text" too).
bool looks_like_transcription_request(std::string_view text);

// Whether to think: an explicit choice wins; otherwise a transcription request is answered without
// thinking, and anything else gets `default_thinking`.
bool choose_thinking(std::optional<bool> explicit_choice, bool default_thinking, bool transcription_request);

}  // namespace gd::cli
