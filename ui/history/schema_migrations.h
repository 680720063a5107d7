#pragma once
// The chat database's schema history. PRAGMA user_version holds the version a file is at; each
// migration moves it up by one, in its own transaction, so a file is always at some whole version.
// Migrations are append-only: a shipped one is never edited, because files in the wild were made
// with it; a change to the schema is a new migration at the end.
#include <QList>
#include <QSqlDatabase>
#include <QString>

namespace gd::ui::history {

struct Migration {
  int version;              // user_version after it ran; the list is 1, 2, 3, ...
  const char* purpose;      // why it exists, for error messages and readers
  QList<const char*> statements;  // one SQL statement each (QtSql runs one per exec)
};

const QList<Migration>& schemaMigrations();
int latestSchemaVersion();

// Reads the file's user_version; -1 (and *error) when it cannot be read.
int schemaVersion(const QSqlDatabase& db, QString* error);

// Runs every migration the file has not had yet. Re-reads the version inside each transaction, so
// two processes opening the same file at once do not both run a migration. On failure the failed
// migration is rolled back (earlier ones stay: the file is at a valid older version).
bool migrateSchema(const QSqlDatabase& db, QString* error);

}  // namespace gd::ui::history
