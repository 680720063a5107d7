#include "history/sql_util.h"

#include <QSqlError>

namespace gd::ui::history {

bool runSql(QSqlQuery& q, const QString& sql, const QVariantList& args) {
  // Forward-only: results are read once, and the driver then need not cache every row.
  q.setForwardOnly(true);
  if (!q.prepare(sql)) return false;
  for (const QVariant& v : args) q.addBindValue(v);
  return q.exec();
}

QString sqlErrorText(const QSqlQuery& q) {
  const QSqlError e = q.lastError();
  QString text = e.databaseText().isEmpty() ? e.text() : e.databaseText();
  return text.isEmpty() ? QStringLiteral("unknown database error") : text;
}

WriteTransaction::WriteTransaction(const QSqlDatabase& db) : m_db(db) {
  QSqlQuery q(m_db);
  m_active = q.exec(QStringLiteral("BEGIN IMMEDIATE"));
  if (!m_active) m_error = sqlErrorText(q);
}

WriteTransaction::~WriteTransaction() {
  if (!m_active) return;
  QSqlQuery q(m_db);
  q.exec(QStringLiteral("ROLLBACK"));
}

bool WriteTransaction::commit() {
  if (!m_active) return false;
  QSqlQuery q(m_db);
  if (!q.exec(QStringLiteral("COMMIT"))) {
    m_error = sqlErrorText(q);
    return false;  // still active: the destructor rolls back
  }
  m_active = false;
  return true;
}

}  // namespace gd::ui::history
