#pragma once
// Turning what a user types into a safe FTS5 query, and FTS5's marked snippets into rich text.
// Internal to ui/history; declared here so the tests can check them directly.
#include <QString>

namespace gd::ui::history {

// snippet()/highlight() wrap each match in these; control characters, so they cannot be confused
// with the text, and they survive HTML escaping unchanged.
inline constexpr char16_t kMatchOpen = u'\x02';
inline constexpr char16_t kMatchClose = u'\x03';

// Every whitespace-separated word becomes a quoted FTS5 string ("" inside doubled), so operators,
// quotes, parentheses, * and ^ typed by the user are plain text and no input is a syntax error.
// Words are ANDed. The last word is a prefix ("word"*) when the user is still typing it: the input
// does not end in a space and the word ends in a letter or digit. Words with no letter or digit
// (which the unicode61 tokenizer would drop, leaving an empty phrase) are skipped; control
// characters are treated as spaces. Returns an empty string when nothing searchable is left.
QString ftsQueryFromUserInput(const QString& input);

// HTML-escapes a snippet, turns the match markers into <b>…</b> and folds line breaks and runs of
// whitespace into single spaces, for a one-line QLabel.
QString markedSnippetToHtml(const QString& marked);

}  // namespace gd::ui::history
