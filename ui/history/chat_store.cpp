// Opening the file (with the checks that keep a foreign or newer file untouched), and the
// conversation/message reads and writes. Search and export live in their own files.
#include "history/chat_store.h"

#include "history/schema_migrations.h"
#include "history/sql_util.h"

#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QJsonDocument>
#include <QSqlError>
#include <QSqlQuery>

#include <algorithm>
#include <atomic>

namespace gd::ui {

using history::fromMs;
using history::runSql;
using history::sqlErrorText;
using history::textValue;
using history::WriteTransaction;

namespace {

// QtSql keeps connections in a global registry by name; each store gets its own.
QString nextConnectionName() {
  static std::atomic<quint64> counter{0};
  return QStringLiteral("gd_chat_store_%1").arg(counter.fetch_add(1));
}

bool validRole(const QString& role) {
  return role == QLatin1String("user") || role == QLatin1String("assistant") ||
         role == QLatin1String("system");
}

QString metaText(const QJsonObject& meta) {
  return QString::fromUtf8(QJsonDocument(meta).toJson(QJsonDocument::Compact));
}

QJsonObject metaObject(const QString& text) {
  // A damaged meta value must not hide the message: it reads as an empty object.
  const QJsonDocument doc = QJsonDocument::fromJson(text.toUtf8());
  return doc.isObject() ? doc.object() : QJsonObject{};
}

const QString kMessageColumns = QStringLiteral(
    "id, conversation_id, role, text, thinking, complete, created_ms, updated_ms, meta");

StoredMessage messageFromRow(const QSqlQuery& q) {
  StoredMessage m;
  m.id = q.value(0).toLongLong();
  m.conversationId = q.value(1).toLongLong();
  m.role = q.value(2).toString();
  m.text = q.value(3).toString();
  m.thinking = q.value(4).toString();
  m.complete = q.value(5).toInt() != 0;
  m.created = fromMs(q.value(6).toLongLong());
  m.updated = fromMs(q.value(7).toLongLong());
  m.meta = metaObject(q.value(8).toString());
  return m;
}

const QString kConversationSelect = QStringLiteral(
    "SELECT c.id, c.title, c.created_ms, c.updated_ms,"
    " (SELECT count(*) FROM messages m WHERE m.conversation_id = c.id) FROM conversations c");

ConversationSummary conversationFromRow(const QSqlQuery& q) {
  ConversationSummary c;
  c.id = q.value(0).toLongLong();
  c.title = q.value(1).toString();
  c.created = fromMs(q.value(2).toLongLong());
  c.updated = fromMs(q.value(3).toLongLong());
  c.messageCount = q.value(4).toInt();
  return c;
}

// Checks on the bytes of an existing file, before SQLite sees it: a file that is not SQLite is
// refused without SQLite ever opening it, so it cannot be changed by us.
QString checkExistingFile(const QString& path) {
  const QFileInfo info(path);
  if (!info.exists()) return {};
  if (info.isDir())
    return QStringLiteral("The chat history path %1 is a folder, not a file.").arg(path);
  QFile f(path);
  if (!f.open(QIODevice::ReadOnly))
    return QStringLiteral("The chat history file %1 cannot be read: %2.").arg(path, f.errorString());
  const QByteArray head = f.read(16);
  // An empty file is a valid empty database (SQLite treats it so); anything else must start with
  // the SQLite header.
  if (!head.isEmpty() && head != QByteArray("SQLite format 3\0", 16))
    return QStringLiteral("The file %1 is not a Gemma Desk chat history (it is not an SQLite database). "
                          "It was left untouched.")
        .arg(path);
  if (!info.isWritable())
    return QStringLiteral("The chat history file %1 is read-only; Gemma Desk needs to write to it.").arg(path);
  return {};
}

}  // namespace

int ChatStore::currentSchemaVersion() { return history::latestSchemaVersion(); }

std::unique_ptr<ChatStore> ChatStore::open(const QString& path, QString* error) {
  const auto refuse = [&](const QString& message) -> std::unique_ptr<ChatStore> {
    if (error) *error = message;
    return nullptr;
  };
  if (path.isEmpty()) return refuse(QStringLiteral("No chat history file was given."));
  if (const QString problem = checkExistingFile(path); !problem.isEmpty()) return refuse(problem);
  const QFileInfo info(path);
  if (!info.exists() && !QDir().mkpath(info.absolutePath()))
    return refuse(QStringLiteral("The folder %1 for the chat history cannot be created.").arg(info.absolutePath()));

  std::unique_ptr<ChatStore> store(new ChatStore(path));
  QString problem;
  if (!store->init(&problem)) return refuse(problem);  // the store's destructor closes the file
  return store;
}

ChatStore::ChatStore(QString path) : m_path(std::move(path)) {
  m_db = QSqlDatabase::addDatabase(QStringLiteral("QSQLITE"), nextConnectionName());
}

ChatStore::~ChatStore() {
  // Every QSqlQuery is gone by now; drop our handle before removing the connection, or QtSql
  // warns that it is still in use.
  const QString name = m_db.connectionName();
  m_db.close();
  m_db = QSqlDatabase();
  QSqlDatabase::removeDatabase(name);
}

bool ChatStore::init(QString* error) {
  const auto refuse = [&](const QString& message) {
    *error = message;
    return false;
  };
  if (!m_db.isValid())
    return refuse(QStringLiteral("The Qt SQLite driver (QSQLITE) is not installed, so chats cannot be saved."));
  m_db.setDatabaseName(m_path);
  if (!m_db.open())
    return refuse(QStringLiteral("The chat history file %1 cannot be opened: %2.").arg(m_path, m_db.lastError().text()));

  QSqlQuery q(m_db);
  // Wait for another Gemma Desk process that is writing, rather than failing at once.
  runSql(q, QStringLiteral("PRAGMA busy_timeout = 5000"));

  // Read-only checks first; nothing below writes until they pass. Reading the schema also catches
  // encrypted files and a damaged schema.
  const auto unreadable = [&](const QString& detail) {
    return refuse(QStringLiteral("The file %1 cannot be read as a chat history; it may be damaged (SQLite says: "
                                 "%2). It was left untouched.")
                      .arg(m_path, detail));
  };
  if (!runSql(q, QStringLiteral("SELECT count(*) FROM sqlite_master")) || !q.next()) return unreadable(sqlErrorText(q));
  const int objects = q.value(0).toInt();
  q.finish();
  QString readError;
  const int version = history::schemaVersion(m_db, &readError);
  if (version < 0) return unreadable(readError);
  if (version > currentSchemaVersion())
    return refuse(QStringLiteral("The chat history %1 was saved by a newer version of Gemma Desk (format %2; "
                                 "this version reads up to %3). Update Gemma Desk to open it; the file was left "
                                 "untouched.")
                      .arg(m_path)
                      .arg(version)
                      .arg(currentSchemaVersion()));
  if (version == 0 && objects > 0)
    return refuse(QStringLiteral("The file %1 is an SQLite database of another program, not a Gemma Desk chat "
                                 "history. It was left untouched.")
                      .arg(m_path));

  // Crash safety. WAL: a commit is one append to the -wal file, and a killed process loses only
  // what it had not committed. synchronous=NORMAL in WAL mode is durable against process crashes
  // (only a power cut can lose the last commits), and keeps the once-a-second streaming save
  // free of fsync stalls. Where WAL is impossible (some network filesystems) fall back to a
  // rollback journal with FULL sync.
  runSql(q, QStringLiteral("PRAGMA foreign_keys = ON"));
  QString journal;
  if (runSql(q, QStringLiteral("PRAGMA journal_mode = WAL")) && q.next()) journal = q.value(0).toString();
  q.finish();
  const bool wal = journal.compare(QLatin1String("wal"), Qt::CaseInsensitive) == 0;
  runSql(q, wal ? QStringLiteral("PRAGMA synchronous = NORMAL") : QStringLiteral("PRAGMA synchronous = FULL"));
  q.finish();

  QString migrateError;
  if (!history::migrateSchema(m_db, &migrateError)) return refuse(migrateError);
  return true;
}

bool ChatStore::fail(const QString& what, const QString& detail) const {
  m_lastError = detail.isEmpty() ? what : QStringLiteral("%1: %2").arg(what, detail);
  return false;
}

qint64 ChatStore::nowMs() {
  // Strictly increasing within this store, so "most recently updated" has no ties between two
  // changes made in the same millisecond, and a clock stepping back does not reorder chats.
  m_lastMs = std::max(QDateTime::currentMSecsSinceEpoch(), m_lastMs + 1);
  return m_lastMs;
}

bool ChatStore::touchConversation(qint64 conversationId, qint64 now) {
  QSqlQuery q(m_db);
  if (!runSql(q, QStringLiteral("UPDATE conversations SET updated_ms = ? WHERE id = ?"), {now, conversationId}))
    return fail(QStringLiteral("Could not update the conversation"), sqlErrorText(q));
  if (q.numRowsAffected() == 0) return fail(QStringLiteral("There is no such conversation"), {});
  return true;
}

qint64 ChatStore::createConversation(const QString& title) {
  const qint64 now = nowMs();
  QSqlQuery q(m_db);
  if (!runSql(q, QStringLiteral("INSERT INTO conversations (title, created_ms, updated_ms) VALUES (?, ?, ?)"),
              {textValue(title), now, now})) {
    fail(QStringLiteral("Could not create the conversation"), sqlErrorText(q));
    return 0;
  }
  return q.lastInsertId().toLongLong();
}

bool ChatStore::renameConversation(qint64 id, const QString& title) {
  QSqlQuery q(m_db);
  if (!runSql(q, QStringLiteral("UPDATE conversations SET title = ?, updated_ms = ? WHERE id = ?"),
              {textValue(title), nowMs(), id}))
    return fail(QStringLiteral("Could not rename the conversation"), sqlErrorText(q));
  if (q.numRowsAffected() == 0) return fail(QStringLiteral("There is no such conversation"), {});
  return true;
}

bool ChatStore::deleteConversation(qint64 id) {
  // One statement: ON DELETE CASCADE removes the messages, and the FTS triggers their index rows.
  QSqlQuery q(m_db);
  if (!runSql(q, QStringLiteral("DELETE FROM conversations WHERE id = ?"), {id}))
    return fail(QStringLiteral("Could not delete the conversation"), sqlErrorText(q));
  if (q.numRowsAffected() == 0) return fail(QStringLiteral("There is no such conversation"), {});
  return true;
}

bool ChatStore::anyMetaContains(const QString& text) const {
  QSqlQuery q(m_db);
  // instr(), not LIKE: the text is matched as it is ('_' and '%' are not wildcards).
  if (!runSql(q, QStringLiteral("SELECT EXISTS(SELECT 1 FROM messages WHERE instr(meta, ?) > 0)"), {textValue(text)}) ||
      !q.next()) {
    fail(QStringLiteral("Could not read the messages"), sqlErrorText(q));
    return true;
  }
  return q.value(0).toInt() != 0;
}

QList<ConversationSummary> ChatStore::conversations() const {
  QList<ConversationSummary> list;
  QSqlQuery q(m_db);
  if (!runSql(q, kConversationSelect + QStringLiteral(" ORDER BY c.updated_ms DESC, c.id DESC"))) {
    fail(QStringLiteral("Could not read the conversations"), sqlErrorText(q));
    return list;
  }
  while (q.next()) list.append(conversationFromRow(q));
  return list;
}

std::optional<ConversationSummary> ChatStore::conversation(qint64 id) const {
  QSqlQuery q(m_db);
  if (!runSql(q, kConversationSelect + QStringLiteral(" WHERE c.id = ?"), {id})) {
    fail(QStringLiteral("Could not read the conversation"), sqlErrorText(q));
    return std::nullopt;
  }
  if (!q.next()) {
    fail(QStringLiteral("There is no such conversation"), {});
    return std::nullopt;
  }
  return conversationFromRow(q);
}

QList<StoredMessage> ChatStore::messages(qint64 conversationId) const {
  QList<StoredMessage> list;
  QSqlQuery q(m_db);
  if (!runSql(q, QStringLiteral("SELECT %1 FROM messages WHERE conversation_id = ? ORDER BY id").arg(kMessageColumns),
              {conversationId})) {
    fail(QStringLiteral("Could not read the messages"), sqlErrorText(q));
    return list;
  }
  while (q.next()) list.append(messageFromRow(q));
  return list;
}

std::optional<StoredMessage> ChatStore::message(qint64 messageId) const {
  QSqlQuery q(m_db);
  if (!runSql(q, QStringLiteral("SELECT %1 FROM messages WHERE id = ?").arg(kMessageColumns), {messageId})) {
    fail(QStringLiteral("Could not read the message"), sqlErrorText(q));
    return std::nullopt;
  }
  if (!q.next()) {
    fail(QStringLiteral("There is no such message"), {});
    return std::nullopt;
  }
  return messageFromRow(q);
}

qint64 ChatStore::addMessage(qint64 conversationId, const QString& role, const QString& text,
                             const QJsonObject& meta, bool complete) {
  if (!validRole(role)) {
    fail(QStringLiteral("Unknown message role \"%1\"").arg(role), {});
    return 0;
  }
  const qint64 now = nowMs();
  WriteTransaction tx(m_db);
  if (!tx.active()) {
    fail(QStringLiteral("Could not save the message"), tx.error());
    return 0;
  }
  if (!touchConversation(conversationId, now)) return 0;
  QSqlQuery q(m_db);
  if (!runSql(q,
              QStringLiteral("INSERT INTO messages (conversation_id, role, text, thinking, complete, created_ms,"
                             " updated_ms, meta) VALUES (?, ?, ?, '', ?, ?, ?, ?)"),
              {conversationId, role, textValue(text), complete ? 1 : 0, now, now, metaText(meta)})) {
    fail(QStringLiteral("Could not save the message"), sqlErrorText(q));
    return 0;
  }
  const qint64 id = q.lastInsertId().toLongLong();
  q.finish();
  if (!tx.commit()) {
    fail(QStringLiteral("Could not save the message"), tx.error());
    return 0;
  }
  return id;
}

bool ChatStore::updateMessage(qint64 messageId, const QString& text, const QString& thinking, bool complete,
                              const QJsonObject& meta) {
  const qint64 now = nowMs();
  WriteTransaction tx(m_db);
  if (!tx.active()) return fail(QStringLiteral("Could not save the message"), tx.error());
  QSqlQuery q(m_db);
  if (!runSql(q,
              QStringLiteral("UPDATE messages SET text = ?, thinking = ?, complete = ?, meta = ?, updated_ms = ?"
                             " WHERE id = ?"),
              {textValue(text), textValue(thinking), complete ? 1 : 0, metaText(meta), now, messageId}))
    return fail(QStringLiteral("Could not save the message"), sqlErrorText(q));
  if (q.numRowsAffected() == 0) return fail(QStringLiteral("There is no such message"), {});
  if (!runSql(q,
              QStringLiteral("UPDATE conversations SET updated_ms = ?"
                             " WHERE id = (SELECT conversation_id FROM messages WHERE id = ?)"),
              {now, messageId}))
    return fail(QStringLiteral("Could not save the message"), sqlErrorText(q));
  q.finish();
  if (!tx.commit()) return fail(QStringLiteral("Could not save the message"), tx.error());
  return true;
}

bool ChatStore::deleteMessagesFrom(qint64 conversationId, qint64 firstMessageId) {
  WriteTransaction tx(m_db);
  if (!tx.active()) return fail(QStringLiteral("Could not delete the messages"), tx.error());
  QSqlQuery q(m_db);
  if (!runSql(q, QStringLiteral("SELECT 1 FROM messages WHERE id = ? AND conversation_id = ?"),
              {firstMessageId, conversationId}))
    return fail(QStringLiteral("Could not delete the messages"), sqlErrorText(q));
  if (!q.next()) return fail(QStringLiteral("There is no such message in this conversation"), {});
  q.finish();
  // Ids only grow within a conversation, so "this one and every later one" is id >= first.
  if (!runSql(q, QStringLiteral("DELETE FROM messages WHERE conversation_id = ? AND id >= ?"),
              {conversationId, firstMessageId}))
    return fail(QStringLiteral("Could not delete the messages"), sqlErrorText(q));
  if (!touchConversation(conversationId, nowMs())) return false;
  if (!tx.commit()) return fail(QStringLiteral("Could not delete the messages"), tx.error());
  return true;
}

}  // namespace gd::ui
