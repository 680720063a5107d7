#pragma once
// Small QtSql helpers shared by the chat store's files: running one bound statement, a write
// transaction that rolls back unless committed, and time conversions. Internal to ui/history.
#include <QDateTime>
#include <QSqlDatabase>
#include <QSqlQuery>
#include <QString>
#include <QVariantList>

namespace gd::ui::history {

// Prepares `sql`, binds `args` in order (never string-built: user text only travels as values),
// and executes it. On failure returns false and `q.lastError()` says why.
bool runSql(QSqlQuery& q, const QString& sql, const QVariantList& args = {});

// The driver's text for the last error of `q`, for messages shown to the user.
QString sqlErrorText(const QSqlQuery& q);

// A null QString binds as SQL NULL, which the NOT NULL text columns refuse; store "" instead.
inline QVariant textValue(const QString& s) { return s.isNull() ? QVariant(QStringLiteral("")) : QVariant(s); }

// BEGIN IMMEDIATE on construction: takes the write lock at once, so a second process holding the
// file makes us wait busy_timeout instead of failing half-way through the transaction. Rolls
// back in the destructor unless commit() succeeded.
class WriteTransaction {
 public:
  explicit WriteTransaction(const QSqlDatabase& db);
  ~WriteTransaction();
  WriteTransaction(const WriteTransaction&) = delete;
  WriteTransaction& operator=(const WriteTransaction&) = delete;

  bool active() const { return m_active; }
  bool commit();
  QString error() const { return m_error; }

 private:
  QSqlDatabase m_db;
  bool m_active = false;
  QString m_error;
};

inline QDateTime fromMs(qint64 ms) { return QDateTime::fromMSecsSinceEpoch(ms, Qt::UTC); }
// ISO 8601, UTC, milliseconds: "2025-01-31T12:00:00.000Z".
inline QString isoUtc(const QDateTime& t) { return t.toUTC().toString(Qt::ISODateWithMs); }

}  // namespace gd::ui::history
