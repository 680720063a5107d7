#include "history/search_query.h"

#include <QStringList>

#include <utility>

namespace gd::ui::history {

namespace {

bool hasLetterOrDigit(const QString& word) {
  for (QChar c : word)
    if (c.isLetterOrNumber()) return true;
  // Letters outside the BMP (e.g. some CJK extensions) arrive as surrogate pairs.
  for (qsizetype i = 0; i + 1 < word.size(); ++i)
    if (word[i].isHighSurrogate() && word[i + 1].isLowSurrogate() &&
        QChar::isLetterOrNumber(QChar::surrogateToUcs4(word[i], word[i + 1])))
      return true;
  return false;
}

// More words than this only slow the query down; nobody types them into a search box.
constexpr int kMaxWords = 32;

}  // namespace

QString ftsQueryFromUserInput(const QString& input) {
  // Split at any whitespace (including no-break and ideographic spaces) and at control
  // characters: a NUL would end the query early inside FTS5, leaving an open quote.
  QStringList words;
  QString word;
  for (QChar c : input) {
    if (c.isSpace() || c.category() == QChar::Other_Control) {
      if (!word.isEmpty()) words.append(std::exchange(word, QString()));
    } else {
      word.append(c);
    }
  }
  // The user is still typing the last word when nothing separates it from the end of the input.
  const bool lastWordOpen = !word.isEmpty() && word.back().isLetterOrNumber();
  if (!word.isEmpty()) words.append(word);

  QStringList terms;
  bool lastIsOpen = false;
  for (qsizetype i = 0; i < words.size() && terms.size() < kMaxWords; ++i) {
    if (!hasLetterOrDigit(words[i])) continue;
    QString escaped = words[i];
    escaped.replace(u'"', QStringLiteral("\"\""));
    terms.append(u'"' + escaped + u'"');
    lastIsOpen = lastWordOpen && i == words.size() - 1;
  }
  if (terms.isEmpty()) return {};
  if (lastIsOpen) terms.last().append(u'*');
  return terms.join(u' ');
}

QString markedSnippetToHtml(const QString& marked) {
  QString html = marked.simplified().toHtmlEscaped();
  html.replace(QChar(kMatchOpen), QStringLiteral("<b>"));
  html.replace(QChar(kMatchClose), QStringLiteral("</b>"));
  return html;
}

}  // namespace gd::ui::history
