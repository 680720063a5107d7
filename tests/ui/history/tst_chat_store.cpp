// ChatStore basics on real SQLite files: conversations, messages, ordering, reopening, export.
#include "history/chat_store.h"
#include "history_support.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QtTest>

using gd::ui::ChatStore;
using gd::ui::StoredMessage;
using gd::ui::test::openStore;
using gd::ui::test::Scratch;

class TestChatStore : public QObject {
  Q_OBJECT

 private slots:
  void createsFileAndFolder();
  void conversationsCreateRenameDeleteAndOrder();
  void messagesRoundTrip();
  void updateMessageStreamsAndCompletes();
  void deleteMessagesFromCutsTheTail();
  void unknownIdsFailWithAReason();
  void reopenFindsEverything();
  void twoStoresOnOneFile();
  void exportMarkdown();
  void exportJson();
};

void TestChatStore::createsFileAndFolder() {
  Scratch dir;
  QVERIFY(dir.ok());
  const QString path = dir.file(QStringLiteral("nested/deeper/chats.sqlite"));
  QByteArray why;
  auto store = openStore(path, &why);
  QVERIFY2(store, why.constData());
  QVERIFY(QFileInfo::exists(path));
  QCOMPARE(store->path(), path);
  QVERIFY(store->conversations().isEmpty());
  QVERIFY(ChatStore::currentSchemaVersion() >= 2);
}

void TestChatStore::conversationsCreateRenameDeleteAndOrder() {
  Scratch dir;
  QByteArray why;
  auto store = openStore(dir.file(QStringLiteral("c.sqlite")), &why);
  QVERIFY2(store, why.constData());

  const qint64 a = store->createConversation(QStringLiteral("First"));
  const qint64 b = store->createConversation(QStringLiteral("Second"));
  const qint64 c = store->createConversation(QString());  // untitled: a null title is stored as ""
  QVERIFY(a > 0 && b > a && c > b);

  auto list = store->conversations();
  QCOMPARE(list.size(), 3);
  QCOMPARE(list[0].id, c);  // newest first
  QCOMPARE(list[1].id, b);
  QCOMPARE(list[2].id, a);
  QCOMPARE(list[0].title, QString());
  QCOMPARE(list[2].title, QStringLiteral("First"));
  QCOMPARE(list[2].messageCount, 0);
  QVERIFY(list[2].created.isValid());
  QCOMPARE(list[2].created.timeSpec(), Qt::UTC);

  // A message moves its conversation to the top; so does a rename.
  QVERIFY(store->addMessage(a, QStringLiteral("user"), QStringLiteral("hello")) > 0);
  list = store->conversations();
  QCOMPARE(list[0].id, a);
  QCOMPARE(list[0].messageCount, 1);
  QVERIFY(list[0].updated > list[0].created);

  QVERIFY(store->renameConversation(b, QStringLiteral("Renamed — ünïcode 🙂")));
  list = store->conversations();
  QCOMPARE(list[0].id, b);
  QCOMPARE(list[0].title, QStringLiteral("Renamed — ünïcode 🙂"));

  const auto one = store->conversation(b);
  QVERIFY(one.has_value());
  QCOMPARE(one->title, QStringLiteral("Renamed — ünïcode 🙂"));

  // Deleting a conversation removes its messages too.
  const qint64 m = store->addMessage(c, QStringLiteral("user"), QStringLiteral("bye"));
  QVERIFY(m > 0);
  QVERIFY(store->deleteConversation(c));
  QVERIFY(!store->conversation(c).has_value());
  QVERIFY(store->messages(c).isEmpty());
  QVERIFY(!store->message(m).has_value());
  QCOMPARE(store->conversations().size(), 2);
}

void TestChatStore::messagesRoundTrip() {
  Scratch dir;
  QByteArray why;
  auto store = openStore(dir.file(QStringLiteral("m.sqlite")), &why);
  QVERIFY2(store, why.constData());
  const qint64 chat = store->createConversation(QStringLiteral("Round trip"));

  const QJsonObject meta{{QStringLiteral("model"), QStringLiteral("gemma-4-E4B-it")},
                         {QStringLiteral("stats"), QJsonObject{{QStringLiteral("tokens_per_s"), 31.5},
                                                                {QStringLiteral("ttft_ms"), 120}}},
                         {QStringLiteral("finish_reason"), QStringLiteral("stop")},
                         {QStringLiteral("attachments"), QJsonArray{QJsonObject{{QStringLiteral("kind"), QStringLiteral("image")}}}}};
  const QString unicode = QStringLiteral("Ünïcödé 日本語 😀 ‮RTL‬ and a NUL-free \"quote\" 'single' \\ backslash\nnew line");
  const qint64 s = store->addMessage(chat, QStringLiteral("system"), QStringLiteral("Be brief."));
  const qint64 u = store->addMessage(chat, QStringLiteral("user"), unicode);
  const qint64 x = store->addMessage(chat, QStringLiteral("assistant"), QString(), meta, false);
  QVERIFY(s > 0 && u > s && x > u);
  QVERIFY(store->addMessage(chat, QStringLiteral("tool"), QStringLiteral("no")) == 0);
  QVERIFY(store->lastError().contains(QStringLiteral("role")));

  const QList<StoredMessage> list = store->messages(chat);
  QCOMPARE(list.size(), 3);
  QCOMPARE(list[0].role, QStringLiteral("system"));
  QCOMPARE(list[1].id, u);
  QCOMPARE(list[1].conversationId, chat);
  QCOMPARE(list[1].role, QStringLiteral("user"));
  QCOMPARE(list[1].text, unicode);
  QVERIFY(list[1].complete);
  QCOMPARE(list[1].meta, QJsonObject());
  QCOMPARE(list[2].text, QString(""));
  QCOMPARE(list[2].thinking, QString(""));
  QVERIFY(!list[2].complete);
  QCOMPARE(list[2].meta, meta);
  QVERIFY(list[2].created.isValid());
  QCOMPARE(list[2].created, list[2].updated);

  const auto single = store->message(u);
  QVERIFY(single.has_value());
  QCOMPARE(single->text, unicode);
}

void TestChatStore::updateMessageStreamsAndCompletes() {
  Scratch dir;
  QByteArray why;
  auto store = openStore(dir.file(QStringLiteral("u.sqlite")), &why);
  QVERIFY2(store, why.constData());
  const qint64 chat = store->createConversation(QStringLiteral("Stream"));
  const qint64 other = store->createConversation(QStringLiteral("Other"));
  const qint64 answer = store->addMessage(chat, QStringLiteral("assistant"), QString(), {}, false);
  QVERIFY(store->createConversation(QStringLiteral("Newest")) > 0);

  QVERIFY(store->updateMessage(answer, QStringLiteral("Hel"), QStringLiteral("thinking…"), false, {}));
  QCOMPARE(store->conversations().first().id, chat);  // streaming bumps the conversation
  QVERIFY(store->updateMessage(answer, QStringLiteral("Hello!"), QStringLiteral("thinking… done"), true,
                               QJsonObject{{QStringLiteral("finish_reason"), QStringLiteral("stop")}}));
  const auto m = store->message(answer);
  QVERIFY(m.has_value());
  QCOMPARE(m->text, QStringLiteral("Hello!"));
  QCOMPARE(m->thinking, QStringLiteral("thinking… done"));
  QVERIFY(m->complete);
  QCOMPARE(m->meta.value(QStringLiteral("finish_reason")).toString(), QStringLiteral("stop"));
  QVERIFY(m->updated > m->created);
  Q_UNUSED(other);
}

void TestChatStore::deleteMessagesFromCutsTheTail() {
  Scratch dir;
  QByteArray why;
  auto store = openStore(dir.file(QStringLiteral("d.sqlite")), &why);
  QVERIFY2(store, why.constData());
  const qint64 chat = store->createConversation(QStringLiteral("Edit"));
  const qint64 other = store->createConversation(QStringLiteral("Other"));
  QList<qint64> ids;
  for (int i = 0; i < 6; ++i)
    ids.append(store->addMessage(chat, i % 2 ? QStringLiteral("assistant") : QStringLiteral("user"),
                                 QStringLiteral("m%1").arg(i)));
  const qint64 elsewhere = store->addMessage(other, QStringLiteral("user"), QStringLiteral("keep me"));

  // A message of another conversation is refused and nothing changes.
  QVERIFY(!store->deleteMessagesFrom(chat, elsewhere));
  QVERIFY(!store->lastError().isEmpty());
  QCOMPARE(store->messages(chat).size(), 6);

  QVERIFY(store->deleteMessagesFrom(chat, ids[3]));  // regenerate from the second answer
  auto list = store->messages(chat);
  QCOMPARE(list.size(), 3);
  QCOMPARE(list.last().id, ids[2]);
  QCOMPARE(store->messages(other).size(), 1);
  QCOMPARE(store->conversations().first().id, chat);

  // New messages come after the cut, and never reuse a deleted id.
  const qint64 again = store->addMessage(chat, QStringLiteral("assistant"), QStringLiteral("new answer"));
  QVERIFY(again > ids[5]);
  list = store->messages(chat);
  QCOMPARE(list.size(), 4);
  QCOMPARE(list.last().text, QStringLiteral("new answer"));
  // A save for a deleted message (a stream still running when the user pressed regenerate) fails
  // and touches nothing.
  QVERIFY(!store->updateMessage(ids[5], QStringLiteral("late"), {}, true, {}));
  QCOMPARE(store->messages(chat).last().text, QStringLiteral("new answer"));

  QVERIFY(store->deleteMessagesFrom(chat, ids[0]));
  QVERIFY(store->messages(chat).isEmpty());
  QVERIFY(store->conversation(chat).has_value());
}

void TestChatStore::unknownIdsFailWithAReason() {
  Scratch dir;
  QByteArray why;
  auto store = openStore(dir.file(QStringLiteral("x.sqlite")), &why);
  QVERIFY2(store, why.constData());
  QVERIFY(!store->renameConversation(42, QStringLiteral("x")));
  QVERIFY(store->lastError().contains(QStringLiteral("no such conversation")));
  QVERIFY(!store->deleteConversation(42));
  QCOMPARE(store->addMessage(42, QStringLiteral("user"), QStringLiteral("x")), 0);
  QVERIFY(store->lastError().contains(QStringLiteral("no such conversation")));
  QVERIFY(!store->updateMessage(42, QStringLiteral("x"), {}, true, {}));
  QVERIFY(store->lastError().contains(QStringLiteral("no such message")));
  QVERIFY(!store->conversation(42).has_value());
  QVERIFY(!store->message(42).has_value());
  QVERIFY(store->messages(42).isEmpty());
  QVERIFY(store->exportMarkdown(42).isEmpty());
  QVERIFY(store->exportJson(42).isEmpty());
  // A failed addMessage left no half-written row behind.
  const qint64 chat = store->createConversation(QStringLiteral("ok"));
  QCOMPARE(store->addMessage(chat, QStringLiteral("bad role"), QStringLiteral("x")), 0);
  QVERIFY(store->messages(chat).isEmpty());
}

void TestChatStore::reopenFindsEverything() {
  Scratch dir;
  const QString path = dir.file(QStringLiteral("r.sqlite"));
  QByteArray why;
  qint64 chat = 0, user = 0, answer = 0;
  {
    auto store = openStore(path, &why);
    QVERIFY2(store, why.constData());
    chat = store->createConversation(QStringLiteral("Kept"));
    user = store->addMessage(chat, QStringLiteral("user"), QStringLiteral("Question?"));
    answer = store->addMessage(chat, QStringLiteral("assistant"), QString(), {}, false);
    QVERIFY(store->updateMessage(answer, QStringLiteral("Partial ans"), QStringLiteral("hmm"), false,
                                 QJsonObject{{QStringLiteral("model"), QStringLiteral("m")}}));
  }
  auto store = openStore(path, &why);
  QVERIFY2(store, why.constData());
  const auto list = store->conversations();
  QCOMPARE(list.size(), 1);
  QCOMPARE(list[0].title, QStringLiteral("Kept"));
  QCOMPARE(list[0].messageCount, 2);
  const auto msgs = store->messages(chat);
  QCOMPARE(msgs.size(), 2);
  QCOMPARE(msgs[0].id, user);
  QCOMPARE(msgs[0].text, QStringLiteral("Question?"));
  QCOMPARE(msgs[1].id, answer);
  QCOMPARE(msgs[1].text, QStringLiteral("Partial ans"));
  QCOMPARE(msgs[1].thinking, QStringLiteral("hmm"));
  QVERIFY(!msgs[1].complete);  // still incomplete after reopening: shown as "interrupted"
  QCOMPARE(msgs[1].meta.value(QStringLiteral("model")).toString(), QStringLiteral("m"));
  QCOMPARE(store->search(QStringLiteral("partial")).size(), 1);
}

void TestChatStore::twoStoresOnOneFile() {
  Scratch dir;
  const QString path = dir.file(QStringLiteral("two.sqlite"));
  QByteArray why;
  auto first = openStore(path, &why);
  QVERIFY2(first, why.constData());
  auto second = openStore(path, &why);
  QVERIFY2(second, why.constData());
  const qint64 chat = first->createConversation(QStringLiteral("shared"));
  QVERIFY(second->addMessage(chat, QStringLiteral("user"), QStringLiteral("from the second")) > 0);
  QCOMPARE(first->messages(chat).size(), 1);
  first.reset();  // each store removes only its own connection
  QCOMPARE(second->conversations().size(), 1);
}

void TestChatStore::exportMarkdown() {
  Scratch dir;
  QByteArray why;
  auto store = openStore(dir.file(QStringLiteral("e.sqlite")), &why);
  QVERIFY2(store, why.constData());
  const qint64 chat = store->createConversation(QStringLiteral("Trip\nto Paris"));
  store->addMessage(chat, QStringLiteral("user"), QStringLiteral("Plan a day in Paris."));
  const qint64 a = store->addMessage(chat, QStringLiteral("assistant"), QString(), {}, false);
  store->updateMessage(a, QStringLiteral("Start at the **Louvre**."), QStringLiteral("The user wants a plan."), true,
                       QJsonObject{{QStringLiteral("model"), QStringLiteral("gemma-4-E2B-it")}});
  const qint64 b = store->addMessage(chat, QStringLiteral("assistant"), QStringLiteral("Then lunch at"), {}, false);
  Q_UNUSED(b);

  const QString md = store->exportMarkdown(chat);
  QVERIFY2(md.startsWith(QStringLiteral("# Trip to Paris\n")), qPrintable(md));
  QVERIFY(md.contains(QStringLiteral("## User\n\nPlan a day in Paris.\n")));
  QVERIFY(md.contains(QStringLiteral("## Assistant (gemma-4-E2B-it)\n\n<details>\n<summary>Thinking</summary>\n\n"
                                     "The user wants a plan.\n\n</details>\n\nStart at the **Louvre**.\n")));
  // Only the interrupted answer is marked, after its text.
  QCOMPARE(md.count(QStringLiteral("Interrupted")), 1);
  QVERIFY(md.indexOf(QStringLiteral("Then lunch at")) < md.indexOf(QStringLiteral("Interrupted")));
  QVERIFY(md.indexOf(QStringLiteral("Plan a day")) < md.indexOf(QStringLiteral("Louvre")));
}

void TestChatStore::exportJson() {
  Scratch dir;
  QByteArray why;
  auto store = openStore(dir.file(QStringLiteral("j.sqlite")), &why);
  QVERIFY2(store, why.constData());
  const qint64 chat = store->createConversation(QStringLiteral("Jsön"));
  const qint64 u = store->addMessage(chat, QStringLiteral("user"), QStringLiteral("Hi 😀"));
  const QJsonObject meta{{QStringLiteral("model"), QStringLiteral("x")}, {QStringLiteral("ttft_ms"), 12}};
  const qint64 a = store->addMessage(chat, QStringLiteral("assistant"), QString(), meta, false);
  store->updateMessage(a, QStringLiteral("Hello"), QStringLiteral("greet"), false, meta);

  const QByteArray json = store->exportJson(chat);
  QJsonParseError err;
  const QJsonDocument doc = QJsonDocument::fromJson(json, &err);
  QVERIFY2(doc.isObject(), qPrintable(err.errorString()));
  const QJsonObject root = doc.object();
  QCOMPARE(root.value(QStringLiteral("format")).toString(), QStringLiteral("gemmadesk-chat"));
  QCOMPARE(root.value(QStringLiteral("version")).toInt(), 1);
  QCOMPARE(root.value(QStringLiteral("id")).toInteger(), chat);
  QCOMPARE(root.value(QStringLiteral("title")).toString(), QStringLiteral("Jsön"));
  const QRegularExpression iso(QStringLiteral(R"(^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$)"));
  QVERIFY(iso.match(root.value(QStringLiteral("created")).toString()).hasMatch());
  QVERIFY(iso.match(root.value(QStringLiteral("updated")).toString()).hasMatch());
  const QJsonArray msgs = root.value(QStringLiteral("messages")).toArray();
  QCOMPARE(msgs.size(), 2);
  const QJsonObject m0 = msgs[0].toObject();
  const QJsonObject m1 = msgs[1].toObject();
  const QStringList keys{"complete", "created", "id", "meta", "role", "text", "thinking", "updated"};
  QCOMPARE(m0.keys(), keys);
  QCOMPARE(m0.value(QStringLiteral("id")).toInteger(), u);
  QCOMPARE(m0.value(QStringLiteral("role")).toString(), QStringLiteral("user"));
  QCOMPARE(m0.value(QStringLiteral("text")).toString(), QStringLiteral("Hi 😀"));
  QCOMPARE(m0.value(QStringLiteral("complete")).toBool(), true);
  QCOMPARE(m1.value(QStringLiteral("text")).toString(), QStringLiteral("Hello"));
  QCOMPARE(m1.value(QStringLiteral("thinking")).toString(), QStringLiteral("greet"));
  QCOMPARE(m1.value(QStringLiteral("complete")).toBool(), false);
  QCOMPARE(m1.value(QStringLiteral("meta")).toObject(), meta);
  QVERIFY(iso.match(m1.value(QStringLiteral("created")).toString()).hasMatch());
  // The times are the stored ones, in UTC.
  const QDateTime created = QDateTime::fromString(m1.value(QStringLiteral("created")).toString(), Qt::ISODateWithMs);
  QCOMPARE(created, store->message(a)->created);
}

QTEST_GUILESS_MAIN(TestChatStore)
#include "tst_chat_store.moc"
