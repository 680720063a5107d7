#include "chat/markdown_segments.h"

#include <QStringList>

namespace gd::ui {

namespace {

// A fence line: up to three spaces of indent, then at least three ` or ~ (CommonMark §4.5).
struct Fence {
    QChar ch;
    int length = 0;
    QString info;
};

bool parseFence(const QString& line, Fence* out) {
    int i = 0;
    while (i < line.size() && i < 3 && line[i] == u' ') ++i;
    if (i >= line.size() || (line[i] != u'`' && line[i] != u'~')) return false;
    const QChar ch = line[i];
    int n = 0;
    while (i + n < line.size() && line[i + n] == ch) ++n;
    if (n < 3) return false;
    const QString info = line.mid(i + n).trimmed();
    if (ch == u'`' && info.contains(u'`')) return false;  // backtick fences may not have ` in the info
    out->ch = ch;
    out->length = n;
    out->info = info;
    return true;
}

}  // namespace

QList<MarkdownSegment> splitMarkdown(const QString& markdown) {
    QList<MarkdownSegment> out;
    const QStringList lines = markdown.split(u'\n');
    QStringList prose, code;
    Fence open;
    bool inCode = false;
    auto flushProse = [&] {
        const QString text = prose.join(u'\n');
        if (!text.trimmed().isEmpty()) out.append({MarkdownSegment::Kind::Prose, text, {}, true});
        prose.clear();
    };
    for (const QString& line : lines) {
        Fence f;
        if (!inCode) {
            if (parseFence(line, &f)) {
                flushProse();
                open = f;
                inCode = true;
                code.clear();
            } else {
                prose.append(line);
            }
        } else if (parseFence(line, &f) && f.ch == open.ch && f.length >= open.length && f.info.isEmpty()) {
            out.append({MarkdownSegment::Kind::Code, code.join(u'\n'), open.info.section(u' ', 0, 0), true});
            inCode = false;
        } else {
            code.append(line);
        }
    }
    if (inCode)
        out.append({MarkdownSegment::Kind::Code, code.join(u'\n'), open.info.section(u' ', 0, 0), false});
    else
        flushProse();
    return out;
}

}  // namespace gd::ui
