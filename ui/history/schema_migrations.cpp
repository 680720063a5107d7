#include "history/schema_migrations.h"

#include "history/sql_util.h"

#include <QSqlQuery>

namespace gd::ui::history {

const QList<Migration>& schemaMigrations() {
  static const QList<Migration> list = {
      {1,
       "the conversations and messages tables",
       {
           // AUTOINCREMENT so an id is never reused: the UI may still hold the id of a deleted
           // message (a stream being saved) and must not overwrite a newer message by it.
           "CREATE TABLE conversations ("
           " id INTEGER PRIMARY KEY AUTOINCREMENT,"
           " title TEXT NOT NULL DEFAULT '',"
           " created_ms INTEGER NOT NULL,"   // UTC milliseconds since the epoch
           " updated_ms INTEGER NOT NULL)",
           "CREATE INDEX conversations_by_updated ON conversations(updated_ms)",
           // role is checked in C++, not by a CHECK constraint: adding a role later (e.g. "tool")
           // then needs no table rebuild.
           "CREATE TABLE messages ("
           " id INTEGER PRIMARY KEY AUTOINCREMENT,"
           " conversation_id INTEGER NOT NULL REFERENCES conversations(id) ON DELETE CASCADE,"
           " role TEXT NOT NULL,"
           " text TEXT NOT NULL DEFAULT '',"
           " thinking TEXT NOT NULL DEFAULT '',"
           " complete INTEGER NOT NULL DEFAULT 1,"
           " created_ms INTEGER NOT NULL,"
           " updated_ms INTEGER NOT NULL,"
           " meta TEXT NOT NULL DEFAULT '{}')",  // JSON object
           "CREATE INDEX messages_by_conversation ON messages(conversation_id, id)",
       }},
      {2,
       "full-text search (FTS5) over messages and titles",
       {
           // External-content FTS5 tables: the text lives once, in messages/conversations; the
           // index is kept in sync by triggers, so every writer (and every old row, through
           // 'rebuild') is covered. remove_diacritics 2 lets "cafe" find "café" and back.
           "CREATE VIRTUAL TABLE messages_fts USING fts5(text, thinking, content='messages',"
           " content_rowid='id', tokenize='unicode61 remove_diacritics 2')",
           "CREATE TRIGGER messages_fts_insert AFTER INSERT ON messages BEGIN"
           " INSERT INTO messages_fts(rowid, text, thinking) VALUES (new.id, new.text, new.thinking);"
           " END",
           "CREATE TRIGGER messages_fts_delete AFTER DELETE ON messages BEGIN"
           " INSERT INTO messages_fts(messages_fts, rowid, text, thinking)"
           " VALUES ('delete', old.id, old.text, old.thinking);"
           " END",
           // Only when the words changed: the final complete=true save, or a meta-only change,
           // does not re-index the whole answer.
           "CREATE TRIGGER messages_fts_update AFTER UPDATE OF text, thinking ON messages"
           " WHEN old.text IS NOT new.text OR old.thinking IS NOT new.thinking BEGIN"
           " INSERT INTO messages_fts(messages_fts, rowid, text, thinking)"
           " VALUES ('delete', old.id, old.text, old.thinking);"
           " INSERT INTO messages_fts(rowid, text, thinking) VALUES (new.id, new.text, new.thinking);"
           " END",
           "INSERT INTO messages_fts(messages_fts) VALUES ('rebuild')",
           "CREATE VIRTUAL TABLE conversations_fts USING fts5(title, content='conversations',"
           " content_rowid='id', tokenize='unicode61 remove_diacritics 2')",
           "CREATE TRIGGER conversations_fts_insert AFTER INSERT ON conversations BEGIN"
           " INSERT INTO conversations_fts(rowid, title) VALUES (new.id, new.title);"
           " END",
           "CREATE TRIGGER conversations_fts_delete AFTER DELETE ON conversations BEGIN"
           " INSERT INTO conversations_fts(conversations_fts, rowid, title)"
           " VALUES ('delete', old.id, old.title);"
           " END",
           "CREATE TRIGGER conversations_fts_update AFTER UPDATE OF title ON conversations"
           " WHEN old.title IS NOT new.title BEGIN"
           " INSERT INTO conversations_fts(conversations_fts, rowid, title)"
           " VALUES ('delete', old.id, old.title);"
           " INSERT INTO conversations_fts(rowid, title) VALUES (new.id, new.title);"
           " END",
           "INSERT INTO conversations_fts(conversations_fts) VALUES ('rebuild')",
       }},
  };
  return list;
}

int latestSchemaVersion() { return schemaMigrations().isEmpty() ? 0 : schemaMigrations().last().version; }

int schemaVersion(const QSqlDatabase& db, QString* error) {
  QSqlQuery q(db);
  if (!runSql(q, QStringLiteral("PRAGMA user_version")) || !q.next()) {
    if (error) *error = sqlErrorText(q);
    return -1;
  }
  return q.value(0).toInt();
}

bool migrateSchema(const QSqlDatabase& db, QString* error) {
  for (const Migration& m : schemaMigrations()) {
    WriteTransaction tx(db);
    const auto failed = [&](const QString& detail) {
      if (error)
        *error = QStringLiteral("Could not update the chat history to version %1 (%2): %3")
                     .arg(m.version)
                     .arg(QString::fromUtf8(m.purpose), detail);
      return false;  // tx rolls this migration back
    };
    if (!tx.active()) return failed(tx.error());
    QString readError;
    const int current = schemaVersion(db, &readError);
    if (current < 0) return failed(readError);
    if (current >= m.version) continue;  // already there (or another process just did it)
    if (current != m.version - 1) return failed(QStringLiteral("the file is at version %1").arg(current));
    QSqlQuery q(db);
    for (const char* statement : m.statements)
      if (!runSql(q, QString::fromUtf8(statement))) return failed(sqlErrorText(q));
    q.finish();
    // PRAGMA takes no bound parameters; the value is our own constant, never user data.
    if (!runSql(q, QStringLiteral("PRAGMA user_version = %1").arg(m.version))) return failed(sqlErrorText(q));
    if (!tx.commit()) return failed(tx.error());
  }
  return true;
}

}  // namespace gd::ui::history
