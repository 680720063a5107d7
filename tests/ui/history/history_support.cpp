#include "history_support.h"

#include <QDir>
#include <QFile>

namespace gd::ui::test {

namespace {
QString scratchTemplate() {
  QDir().mkpath(QStringLiteral(GD_UI_TMP));
  return QStringLiteral(GD_UI_TMP "/history-XXXXXX");
}
}  // namespace

Scratch::Scratch() : m_dir(scratchTemplate()) {}

std::unique_ptr<ChatStore> openStore(const QString& path, QByteArray* why) {
  QString error;
  auto store = ChatStore::open(path, &error);
  if (why) *why = error.toUtf8();
  return store;
}

QByteArray readAll(const QString& path) {
  QFile f(path);
  return f.open(QIODevice::ReadOnly) ? f.readAll() : QByteArray();
}

}  // namespace gd::ui::test
