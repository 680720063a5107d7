// Exporting one conversation: Markdown for people (pastes into notes, issues, chats) and JSON for
// programs (every stored field, stable key names, UTC times).
#include "history/chat_store.h"

#include "history/sql_util.h"

#include <QJsonArray>
#include <QJsonDocument>

namespace gd::ui {

namespace {

QString roleHeading(const QString& role) {
  if (role == QLatin1String("user")) return QStringLiteral("User");
  if (role == QLatin1String("assistant")) return QStringLiteral("Assistant");
  if (role == QLatin1String("system")) return QStringLiteral("System");
  return role;
}

// A heading is one line: a title with line breaks would end it early.
QString oneLine(const QString& s) { return s.simplified(); }

}  // namespace

QString ChatStore::exportMarkdown(qint64 conversationId) const {
  const std::optional<ConversationSummary> chat = conversation(conversationId);
  if (!chat) return {};
  const QString title = oneLine(chat->title);
  QString md = QStringLiteral("# %1\n\n").arg(title.isEmpty() ? QStringLiteral("Untitled chat") : title);
  md += QStringLiteral("_Exported from Gemma Desk. Started %1 UTC._\n")
            .arg(chat->created.toUTC().toString(QStringLiteral("yyyy-MM-dd HH:mm")));
  for (const StoredMessage& m : messages(conversationId)) {
    md += QStringLiteral("\n## %1").arg(roleHeading(m.role));
    const QString model = oneLine(m.meta.value(QLatin1String("model")).toString());
    if (m.role == QLatin1String("assistant") && !model.isEmpty()) md += QStringLiteral(" (%1)").arg(model);
    md += QStringLiteral("\n\n");
    if (!m.thinking.isEmpty()) {
      // <details> is collapsed by default on GitHub and most Markdown viewers; the blank lines
      // around the body let Markdown inside it render.
      md += QStringLiteral("<details>\n<summary>Thinking</summary>\n\n%1\n\n</details>\n\n").arg(m.thinking.trimmed());
    }
    if (!m.text.isEmpty()) md += m.text.trimmed() + QStringLiteral("\n");
    if (!m.complete) md += QStringLiteral("\n_(Interrupted: this message is incomplete.)_\n");
  }
  return md;
}

QByteArray ChatStore::exportJson(qint64 conversationId) const {
  const std::optional<ConversationSummary> chat = conversation(conversationId);
  if (!chat) return {};
  QJsonArray list;
  for (const StoredMessage& m : messages(conversationId)) {
    list.append(QJsonObject{
        {QStringLiteral("id"), m.id},
        {QStringLiteral("role"), m.role},
        {QStringLiteral("text"), m.text},
        {QStringLiteral("thinking"), m.thinking},
        {QStringLiteral("complete"), m.complete},
        {QStringLiteral("created"), history::isoUtc(m.created)},
        {QStringLiteral("updated"), history::isoUtc(m.updated)},
        {QStringLiteral("meta"), m.meta},
    });
  }
  // "format"/"version" let a future importer recognise the file and its layout.
  const QJsonObject root{
      {QStringLiteral("format"), QStringLiteral("gemmadesk-chat")},
      {QStringLiteral("version"), 1},
      {QStringLiteral("id"), chat->id},
      {QStringLiteral("title"), chat->title},
      {QStringLiteral("created"), history::isoUtc(chat->created)},
      {QStringLiteral("updated"), history::isoUtc(chat->updated)},
      {QStringLiteral("messages"), list},
  };
  return QJsonDocument(root).toJson(QJsonDocument::Indented);
}

}  // namespace gd::ui
