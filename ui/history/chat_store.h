#pragma once
// The chat history: every conversation and message in one SQLite file, read and written through
// QtSql from the UI thread. Every call is one short transaction (well under a millisecond for a
// normal chat), so nothing here needs a worker thread.
//
// Crash safety: the file is in WAL mode with synchronous=NORMAL and every write commits on its own,
// so a killed process (kill -9, a crash) loses nothing that a call here had returned from. (A power
// cut may lose the last few commits, never the file.) The streaming pattern the UI should follow:
//
//   qint64 user = store.addMessage(chat, "user", prompt);            // stored the moment it is sent
//   qint64 answer = store.addMessage(chat, "assistant", {}, meta, /*complete=*/false);
//   ... while tokens arrive, at most once per second:
//   store.updateMessage(answer, textSoFar, thinkingSoFar, /*complete=*/false, meta);
//   ... at the end (finished, stopped by the user, or failed):
//   store.updateMessage(answer, text, thinking, /*complete=*/true, metaWithStats);
//
// A message still incomplete when the app starts was interrupted by a crash: it is kept as saved and
// StoredMessage::complete stays false, so the UI can show it as "interrupted".
//
// Times are stored as UTC milliseconds since the epoch and come back as UTC QDateTimes.
#include <QByteArray>
#include <QDateTime>
#include <QJsonObject>
#include <QList>
#include <QSqlDatabase>
#include <QString>

#include <memory>
#include <optional>

namespace gd::ui {

struct StoredMessage {
  qint64 id = 0;
  qint64 conversationId = 0;
  QString role;  // "system", "user" or "assistant"
  QString text;
  QString thinking;
  bool complete = true;  // false: still streaming, or interrupted by a crash
  QDateTime created, updated;
  // Free-form, owned by the app: model name ("model", also used by the Markdown export), stats
  // (tokens/s, ttft), finish reason, "attachments": [...]. Stored as JSON text, returned as given.
  QJsonObject meta;
};

struct ConversationSummary {
  qint64 id = 0;
  QString title;
  QDateTime created, updated;  // updated: last rename or message added/changed/deleted
  int messageCount = 0;
};

struct SearchHit {
  qint64 conversationId = 0;
  qint64 messageId = 0;  // 0 when the conversation title matched
  QString title;         // the conversation's title, plain text
  // Rich text for a QLabel: the matching passage (or the whole title), HTML-escaped, matched words
  // wrapped in <b>…</b>, cut ends marked with "…", newlines folded into spaces.
  QString snippet;
  QDateTime updated;  // of the message (or of the conversation for a title hit)
};

class ChatStore {
 public:
  // Opens the database at `path` (creating it and its folder when missing) and migrates it to
  // currentSchemaVersion(). Returns nullptr and sets *error (when given) to a plain-language
  // sentence for the user when the file cannot be used: a folder or unreadable/read-only file, a
  // file that is not SQLite, a schema newer than this build knows, a failed migration. Such a file
  // is never overwritten or modified (a failed migration is rolled back).
  static std::unique_ptr<ChatStore> open(const QString& path, QString* error);
  static int currentSchemaVersion();

  ~ChatStore();
  ChatStore(const ChatStore&) = delete;
  ChatStore& operator=(const ChatStore&) = delete;

  QString path() const { return m_path; }
  // The reason for the last failed call (0, false, nullopt or empty result), in plain language.
  QString lastError() const { return m_lastError; }

  // Conversations. createConversation returns the new id, or 0 on failure.
  qint64 createConversation(const QString& title);
  bool renameConversation(qint64 id, const QString& title);
  bool deleteConversation(qint64 id);  // and all its messages
  QList<ConversationSummary> conversations() const;  // most recently updated first
  std::optional<ConversationSummary> conversation(qint64 id) const;

  // Messages, in the order they were added (ids only grow, and are never reused).
  QList<StoredMessage> messages(qint64 conversationId) const;
  std::optional<StoredMessage> message(qint64 messageId) const;
  // Returns the new message id, or 0 (unknown conversation, role not system/user/assistant).
  qint64 addMessage(qint64 conversationId, const QString& role, const QString& text,
                    const QJsonObject& meta = {}, bool complete = true);
  bool updateMessage(qint64 messageId, const QString& text, const QString& thinking, bool complete,
                     const QJsonObject& meta);
  // Deletes that message and every later one of its conversation (edit-and-resend, regenerate).
  bool deleteMessagesFrom(qint64 conversationId, qint64 firstMessageId);
  // Whether any message's metadata contains `text` (e.g. a stored attachment's file name), so the
  // app can tell a file no message refers to any more. True also when the store can't tell: a
  // caller deleting files must keep what may be in use.
  bool anyMetaContains(const QString& text) const;

  // Full-text search over every message's text and thinking and every title, as the user typed it:
  // each word must appear (accents and case ignored), the last one as a prefix, so results follow
  // the typing. No input can cause an error; input without letters or digits finds nothing. Best
  // matches first, then the most recent.
  QList<SearchHit> search(const QString& query, int limit = 50) const;

  // Markdown: "# title", an "Exported from Gemma Desk. Started … UTC." line, then each message
  // under a "## User"/"## Assistant (model)"/"## System" heading, thinking in a collapsed
  // <details> block, interrupted messages marked "_(Interrupted: …)_". Empty if unknown.
  QString exportMarkdown(qint64 conversationId) const;
  // JSON (indented, keys sorted): {"format":"gemmadesk-chat","version":1,"id","title","created",
  // "updated","messages":[{"id","role","text","thinking","complete","created","updated","meta"}]},
  // times ISO 8601 UTC with milliseconds ("2025-01-31T12:00:00.000Z"). Empty if unknown.
  QByteArray exportJson(qint64 conversationId) const;

 private:
  explicit ChatStore(QString path);
  bool init(QString* error);
  qint64 nowMs();
  bool touchConversation(qint64 conversationId, qint64 nowMs);
  bool fail(const QString& what, const QString& detail) const;

  QString m_path;
  QSqlDatabase m_db;
  qint64 m_lastMs = 0;
  mutable QString m_lastError;
};

}  // namespace gd::ui
