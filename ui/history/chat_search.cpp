// ChatStore::search: one FTS5 query over message text/thinking and one over titles, merged and
// ranked together by bm25 (lower is better), then by recency.
#include "history/chat_store.h"

#include "history/search_query.h"
#include "history/sql_util.h"

#include <QSqlQuery>

namespace gd::ui {

QList<SearchHit> ChatStore::search(const QString& query, int limit) const {
  QList<SearchHit> hits;
  const QString match = history::ftsQueryFromUserInput(query);
  if (match.isEmpty() || limit <= 0) return hits;

  // char(2)/char(3) are the match markers (history::kMatchOpen/kMatchClose). snippet(..., -1, ...)
  // picks the column (text or thinking) with the best passage; 16 tokens of context at most.
  // Thinking counts half as much as the answer text for ranking.
  static const QString sql = QStringLiteral(
      "SELECT cid, mid, title, marked, updated_ms FROM ("
      " SELECT m.conversation_id AS cid, m.id AS mid, c.title AS title,"
      "  snippet(messages_fts, -1, char(2), char(3), '…', 16) AS marked,"
      "  bm25(messages_fts, 1.0, 0.5) AS score, m.updated_ms AS updated_ms"
      " FROM messages_fts JOIN messages m ON m.id = messages_fts.rowid"
      "  JOIN conversations c ON c.id = m.conversation_id"
      " WHERE messages_fts MATCH ?"
      " UNION ALL"
      " SELECT c.id, 0, c.title, highlight(conversations_fts, 0, char(2), char(3)),"
      "  bm25(conversations_fts), c.updated_ms"
      " FROM conversations_fts JOIN conversations c ON c.id = conversations_fts.rowid"
      " WHERE conversations_fts MATCH ?"
      ") ORDER BY score, updated_ms DESC, mid DESC LIMIT ?");
  QSqlQuery q(m_db);
  if (!history::runSql(q, sql, {match, match, limit})) {
    fail(QStringLiteral("Search failed"), history::sqlErrorText(q));
    return hits;
  }
  while (q.next()) {
    SearchHit hit;
    hit.conversationId = q.value(0).toLongLong();
    hit.messageId = q.value(1).toLongLong();
    hit.title = q.value(2).toString();
    hit.snippet = history::markedSnippetToHtml(q.value(3).toString());
    hit.updated = history::fromMs(q.value(4).toLongLong());
    hits.append(hit);
  }
  return hits;
}

}  // namespace gd::ui
