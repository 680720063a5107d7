#pragma once
// Helpers shared by the chat history tests: a fresh scratch folder per test under GD_UI_TMP, and
// opening a store that must open.
#include "history/chat_store.h"

#include <QByteArray>
#include <QString>
#include <QTemporaryDir>

#include <memory>

namespace gd::ui::test {

// A new empty folder under GD_UI_TMP, removed when it goes out of scope.
class Scratch {
 public:
  Scratch();
  bool ok() const { return m_dir.isValid(); }
  QString file(const QString& name) const { return m_dir.filePath(name); }

 private:
  QTemporaryDir m_dir;
};

// Opens `path`; on failure the returned pointer is null and *why says why (for QVERIFY2).
std::unique_ptr<ChatStore> openStore(const QString& path, QByteArray* why);

QByteArray readAll(const QString& path);

}  // namespace gd::ui::test
