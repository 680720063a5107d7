#pragma once
// Splits an answer's markdown into prose and fenced code blocks, so code blocks can be shown as their
// own widgets (monospace, with a copy button) while prose goes through Qt's markdown renderer.
// Works on partial text while an answer streams: an unclosed fence is a code block still growing.
#include <QList>
#include <QString>

namespace gd::ui {

struct MarkdownSegment {
    enum class Kind { Prose, Code };
    Kind kind = Kind::Prose;
    QString text;       // prose: markdown; code: the code without its fences
    QString language;   // code: the info string's first word ("cpp"), may be empty
    bool closed = true; // code: false while the closing fence has not arrived yet
    bool operator==(const MarkdownSegment&) const = default;
};

QList<MarkdownSegment> splitMarkdown(const QString& markdown);

}  // namespace gd::ui
