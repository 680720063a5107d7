// Opening files of every kind: an old (v1) chat history is migrated and searchable; a newer one, a
// non-SQLite file, another program's database and a folder are refused with a clear message and
// left byte-for-byte untouched.
#include "history/chat_store.h"
#include "history_support.h"

#include <QFile>
#include <QSqlDatabase>
#include <QSqlError>
#include <QSqlQuery>
#include <QtTest>

using gd::ui::ChatStore;
using gd::ui::test::openStore;
using gd::ui::test::readAll;
using gd::ui::test::Scratch;

namespace {

// Version 1 of the schema exactly as it shipped (a frozen copy: files in the wild look like this,
// whatever later migrations do).
const char* const kV1Schema[] = {
    "CREATE TABLE conversations ( id INTEGER PRIMARY KEY AUTOINCREMENT, title TEXT NOT NULL DEFAULT '',"
    " created_ms INTEGER NOT NULL, updated_ms INTEGER NOT NULL)",
    "CREATE INDEX conversations_by_updated ON conversations(updated_ms)",
    "CREATE TABLE messages ( id INTEGER PRIMARY KEY AUTOINCREMENT,"
    " conversation_id INTEGER NOT NULL REFERENCES conversations(id) ON DELETE CASCADE, role TEXT NOT NULL,"
    " text TEXT NOT NULL DEFAULT '', thinking TEXT NOT NULL DEFAULT '', complete INTEGER NOT NULL DEFAULT 1,"
    " created_ms INTEGER NOT NULL, updated_ms INTEGER NOT NULL, meta TEXT NOT NULL DEFAULT '{}')",
    "CREATE INDEX messages_by_conversation ON messages(conversation_id, id)",
    "PRAGMA user_version = 1",
};

// Runs statements on `path` through a raw QtSql connection (not ChatStore); "" on success.
QString runRaw(const QString& path, const QStringList& statements) {
  const QString name = QStringLiteral("raw_%1").arg(QRandomGenerator::global()->generate());
  QString error;
  {
    QSqlDatabase db = QSqlDatabase::addDatabase(QStringLiteral("QSQLITE"), name);
    db.setDatabaseName(path);
    if (!db.open()) {
      error = db.lastError().text();
    } else {
      QSqlQuery q(db);
      for (const QString& s : statements)
        if (!q.exec(s)) {
          error = s + QStringLiteral(": ") + q.lastError().text();
          break;
        }
    }
    db.close();
  }
  QSqlDatabase::removeDatabase(name);
  return error;
}

}  // namespace

class TestChatMigrations : public QObject {
  Q_OBJECT

 private slots:
  void newFileIsAtCurrentVersion();
  void v1FileIsMigratedAndSearchable();
  void newerSchemaIsRefusedAndUntouched();
  void notSqliteIsRefusedAndUntouched_data();
  void notSqliteIsRefusedAndUntouched();
  void otherProgramsDatabaseIsRefused();
  void folderIsRefused();
  void emptyFileIsANewDatabase();
};

void TestChatMigrations::newFileIsAtCurrentVersion() {
  Scratch dir;
  const QString path = dir.file(QStringLiteral("new.sqlite"));
  QByteArray why;
  QVERIFY2(openStore(path, &why), why.constData());
  // Reopening an up-to-date file runs nothing and works.
  QVERIFY2(openStore(path, &why), why.constData());
  const QString name = QStringLiteral("check");
  {
    QSqlDatabase db = QSqlDatabase::addDatabase(QStringLiteral("QSQLITE"), name);
    db.setDatabaseName(path);
    QVERIFY(db.open());
    QSqlQuery q(db);
    QVERIFY(q.exec(QStringLiteral("PRAGMA user_version")) && q.next());
    QCOMPARE(q.value(0).toInt(), ChatStore::currentSchemaVersion());
    QVERIFY(q.exec(QStringLiteral("PRAGMA journal_mode")) && q.next());
    QCOMPARE(q.value(0).toString(), QStringLiteral("wal"));
    q.finish();
    db.close();
  }
  QSqlDatabase::removeDatabase(name);
}

void TestChatMigrations::v1FileIsMigratedAndSearchable() {
  Scratch dir;
  const QString path = dir.file(QStringLiteral("v1.sqlite"));
  QStringList sql;
  for (const char* s : kV1Schema) sql.append(QString::fromUtf8(s));
  sql << QStringLiteral("INSERT INTO conversations VALUES (1, 'Old chat about volcanoes', 1000, 5000)")
      << QStringLiteral("INSERT INTO conversations VALUES (2, 'Second', 2000, 6000)")
      << QStringLiteral("INSERT INTO messages VALUES (1, 1, 'user', 'Tell me about Kīlauea', '', 1, 1000, 1000, '{}')")
      << QStringLiteral("INSERT INTO messages VALUES (2, 1, 'assistant', 'It is a shield volcano in Hawaii.',"
                        " 'recall geology', 0, 2000, 2000, '{\"model\":\"old\"}')")
      << QStringLiteral("INSERT INTO messages VALUES (3, 2, 'user', 'unrelated', '', 1, 3000, 3000, '{}')");
  const QString error = runRaw(path, sql);
  QVERIFY2(error.isEmpty(), qPrintable(error));

  QByteArray why;
  auto store = openStore(path, &why);
  QVERIFY2(store, why.constData());
  // The old rows are all there, unchanged...
  const auto list = store->conversations();
  QCOMPARE(list.size(), 2);
  QCOMPARE(list[0].id, 2);
  QCOMPARE(list[1].title, QStringLiteral("Old chat about volcanoes"));
  QCOMPARE(list[1].messageCount, 2);
  const auto msgs = store->messages(1);
  QCOMPARE(msgs.size(), 2);
  QVERIFY(!msgs[1].complete);
  QCOMPARE(msgs[1].meta.value(QStringLiteral("model")).toString(), QStringLiteral("old"));
  QCOMPARE(msgs[0].created.toMSecsSinceEpoch(), 1000);
  // ...and searchable: messages (text and thinking, accents folded) and titles were backfilled.
  auto hits = store->search(QStringLiteral("kilauea"));
  QCOMPARE(hits.size(), 1);
  QCOMPARE(hits[0].messageId, 1);
  QCOMPARE(store->search(QStringLiteral("geology")).size(), 1);
  hits = store->search(QStringLiteral("volcano"));  // prefix: the title's "volcanoes" and message 2
  QCOMPARE(hits.size(), 2);
  // New rows are indexed and never reuse an id.
  const qint64 id = store->addMessage(1, QStringLiteral("user"), QStringLiteral("And Mauna Loa?"));
  QVERIFY(id > 3);
  QCOMPARE(store->search(QStringLiteral("mauna")).size(), 1);
}

void TestChatMigrations::newerSchemaIsRefusedAndUntouched() {
  Scratch dir;
  const QString path = dir.file(QStringLiteral("future.sqlite"));
  const int future = ChatStore::currentSchemaVersion() + 1;
  const QString error = runRaw(path, {QStringLiteral("CREATE TABLE conversations (id INTEGER PRIMARY KEY, x)"),
                                      QStringLiteral("INSERT INTO conversations VALUES (1, 'keep')"),
                                      QStringLiteral("PRAGMA user_version = %1").arg(future)});
  QVERIFY2(error.isEmpty(), qPrintable(error));
  const QByteArray before = readAll(path);
  QVERIFY(!before.isEmpty());

  QString message;
  QVERIFY(!ChatStore::open(path, &message));
  QVERIFY2(message.contains(QStringLiteral("newer version")), qPrintable(message));
  QVERIFY(message.contains(QString::number(future)));
  QVERIFY(message.contains(QStringLiteral("untouched")));
  QCOMPARE(readAll(path), before);
  QVERIFY(!QFileInfo::exists(path + QStringLiteral("-wal")));
}

void TestChatMigrations::notSqliteIsRefusedAndUntouched_data() {
  QTest::addColumn<QByteArray>("contents");
  QTest::newRow("text") << QByteArray("These are my notes, not a database.\n").repeated(200);
  QTest::newRow("short") << QByteArray("SQLite");
  QTest::newRow("zip") << QByteArray("PK\x03\x04\x14\x00\x00\x00", 8) + QByteArray(4096, '\0');
  QTest::newRow("header but garbage") << QByteArray("SQLite format 3\0", 16) + QByteArray(4000, '\xff');
}

void TestChatMigrations::notSqliteIsRefusedAndUntouched() {
  QFETCH(QByteArray, contents);
  Scratch dir;
  const QString path = dir.file(QStringLiteral("notes.sqlite"));
  {
    QFile f(path);
    QVERIFY(f.open(QIODevice::WriteOnly));
    f.write(contents);
  }
  QString message;
  QVERIFY(!ChatStore::open(path, &message));
  QVERIFY2((message.contains(QStringLiteral("not an SQLite")) || message.contains(QStringLiteral("damaged"))) &&
              message.contains(path),
          qPrintable(message));
  QVERIFY(message.contains(QStringLiteral("untouched")));
  QCOMPARE(readAll(path), contents);
}

void TestChatMigrations::otherProgramsDatabaseIsRefused() {
  Scratch dir;
  const QString path = dir.file(QStringLiteral("other.sqlite"));
  const QString error = runRaw(path, {QStringLiteral("CREATE TABLE bookmarks (url TEXT)"),
                                      QStringLiteral("INSERT INTO bookmarks VALUES ('https://example.org')")});
  QVERIFY2(error.isEmpty(), qPrintable(error));
  const QByteArray before = readAll(path);
  QString message;
  QVERIFY(!ChatStore::open(path, &message));
  QVERIFY2(message.contains(QStringLiteral("another program")), qPrintable(message));
  QCOMPARE(readAll(path), before);
}

void TestChatMigrations::folderIsRefused() {
  Scratch dir;
  const QString path = dir.file(QStringLiteral("a-folder"));
  QVERIFY(QDir().mkpath(path));
  QString message;
  QVERIFY(!ChatStore::open(path, &message));
  QVERIFY2(message.contains(QStringLiteral("folder")), qPrintable(message));
  QVERIFY(!ChatStore::open(QString(), &message));
  QVERIFY(!message.isEmpty());
}

void TestChatMigrations::emptyFileIsANewDatabase() {
  Scratch dir;
  const QString path = dir.file(QStringLiteral("empty.sqlite"));
  {
    QFile f(path);
    QVERIFY(f.open(QIODevice::WriteOnly));
  }
  QByteArray why;
  auto store = openStore(path, &why);
  QVERIFY2(store, why.constData());
  QVERIFY(store->createConversation(QStringLiteral("works")) > 0);
}

QTEST_GUILESS_MAIN(TestChatMigrations)
#include "tst_chat_migrations.moc"
