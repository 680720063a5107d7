// Full-text search: words, prefixes, accents, titles, hostile input, and the index following
// every change (updates, deletes, renames).
#include "history/chat_store.h"
#include "history/search_query.h"
#include "history_support.h"

#include <QtTest>

using gd::ui::ChatStore;
using gd::ui::SearchHit;
using gd::ui::history::ftsQueryFromUserInput;
using gd::ui::history::markedSnippetToHtml;
using gd::ui::test::openStore;
using gd::ui::test::Scratch;

class TestChatSearch : public QObject {
  Q_OBJECT

 private slots:
  void init();
  void cleanup();

  void queryQuotesEveryWord_data();
  void queryQuotesEveryWord();
  void snippetIsEscapedHtml();

  void findsWordsInTextAndThinking();
  void lastWordIsAPrefix();
  void ignoresAccentsAndCase();
  void findsTitles();
  void hostileInputNeverFails_data();
  void hostileInputNeverFails();
  void followsUpdatesDeletesAndRenames();
  void ranksBetterMatchesFirstAndHonoursLimit();

 private:
  QList<qint64> messageIds(const QList<SearchHit>& hits) const;

  std::unique_ptr<Scratch> m_dir;
  std::unique_ptr<ChatStore> m_store;
  qint64 m_paris = 0, m_code = 0;
  qint64 m_louvre = 0, m_cafe = 0, m_cpp = 0, m_thinking = 0;
};

void TestChatSearch::init() {
  m_dir = std::make_unique<Scratch>();
  QVERIFY(m_dir->ok());
  QByteArray why;
  m_store = openStore(m_dir->file(QStringLiteral("s.sqlite")), &why);
  QVERIFY2(m_store, why.constData());
  m_paris = m_store->createConversation(QStringLiteral("Weekend in Paris"));
  m_code = m_store->createConversation(QStringLiteral("Template metaprogramming"));
  m_store->addMessage(m_paris, QStringLiteral("user"), QStringLiteral("What should I see in Paris?"));
  m_louvre = m_store->addMessage(m_paris, QStringLiteral("assistant"),
                                 QStringLiteral("Visit the Louvre museum early, then walk along the Seine."));
  m_cafe = m_store->addMessage(m_paris, QStringLiteral("assistant"),
                               QStringLiteral("Have a crème brûlée at a small café in Montmartre."));
  m_cpp = m_store->addMessage(m_code, QStringLiteral("user"), QStringLiteral("How do C++ templates deduce types?"));
  m_thinking = m_store->addMessage(m_code, QStringLiteral("assistant"), QString(), {}, false);
  QVERIFY(m_store->updateMessage(m_thinking, QStringLiteral("Deduction works from the arguments."),
                                 QStringLiteral("Mention SFINAE and overload resolution."), true, {}));
}

void TestChatSearch::cleanup() {
  m_store.reset();
  m_dir.reset();
}

QList<qint64> TestChatSearch::messageIds(const QList<SearchHit>& hits) const {
  QList<qint64> ids;
  for (const SearchHit& h : hits) ids.append(h.messageId);
  return ids;
}

void TestChatSearch::queryQuotesEveryWord_data() {
  QTest::addColumn<QString>("input");
  QTest::addColumn<QString>("expected");
  QTest::newRow("one word, still typing") << "louv" << R"("louv"*)";
  QTest::newRow("finished word") << "louvre " << R"("louvre")";
  QTest::newRow("two words") << "paris museum" << R"("paris" "museum"*)";
  QTest::newRow("quotes doubled") << R"(say "hi)" << R"("say" """hi"*)";
  QTest::newRow("operators are words") << "AND OR NOT" << R"("AND" "OR" "NOT"*)";
  QTest::newRow("no letters dropped") << "* ( ) + -" << "";
  QTest::newRow("c++ not a prefix") << "C++" << R"("C++")";
  QTest::newRow("control chars split") << QStringLiteral("a\u0000b\tc\nd") << R"("a" "b" "c" "d"*)";
  QTest::newRow("nbsp splits") << QStringLiteral("caf\u00e9\u00a0cr\u00e8me") << QStringLiteral("\"caf\u00e9\" \"cr\u00e8me\"*");
  QTest::newRow("empty") << "" << "";
  QTest::newRow("spaces") << "   " << "";
}

void TestChatSearch::queryQuotesEveryWord() {
  QFETCH(QString, input);
  QFETCH(QString, expected);
  QCOMPARE(ftsQueryFromUserInput(input), expected);
}

void TestChatSearch::snippetIsEscapedHtml() {
  const QString marked = QStringLiteral("a <tag> & \x02word\x03\nnext");
  QCOMPARE(markedSnippetToHtml(marked), QStringLiteral("a &lt;tag&gt; &amp; <b>word</b> next"));
}

void TestChatSearch::findsWordsInTextAndThinking() {
  auto hits = m_store->search(QStringLiteral("louvre "));
  QCOMPARE(hits.size(), 1);
  QCOMPARE(hits[0].messageId, m_louvre);
  QCOMPARE(hits[0].conversationId, m_paris);
  QCOMPARE(hits[0].title, QStringLiteral("Weekend in Paris"));
  QVERIFY2(hits[0].snippet.contains(QStringLiteral("<b>Louvre</b>")), qPrintable(hits[0].snippet));
  QVERIFY(hits[0].updated.isValid());

  // Every word must appear, in any order.
  QCOMPARE(messageIds(m_store->search(QStringLiteral("seine louvre"))), QList<qint64>{m_louvre});
  QVERIFY(m_store->search(QStringLiteral("louvre montmartre")).isEmpty());

  // Thinking is searched too, and the snippet shows it.
  hits = m_store->search(QStringLiteral("sfinae"));
  QCOMPARE(messageIds(hits), QList<qint64>{m_thinking});
  QVERIFY2(hits[0].snippet.contains(QStringLiteral("<b>SFINAE</b>")), qPrintable(hits[0].snippet));
  QVERIFY(m_store->lastError().isEmpty());
}

void TestChatSearch::lastWordIsAPrefix() {
  QCOMPARE(messageIds(m_store->search(QStringLiteral("mus"))), QList<qint64>{m_louvre});
  QCOMPARE(messageIds(m_store->search(QStringLiteral("walk alo"))), QList<qint64>{m_louvre});
  // Only the last word: an earlier partial word must match whole.
  QVERIFY(m_store->search(QStringLiteral("mus walk")).isEmpty());
  // A finished word (followed by a space) is not a prefix any more.
  QVERIFY(m_store->search(QStringLiteral("mus ")).isEmpty());
}

void TestChatSearch::ignoresAccentsAndCase() {
  QCOMPARE(messageIds(m_store->search(QStringLiteral("creme brulee"))), QList<qint64>{m_cafe});
  QCOMPARE(messageIds(m_store->search(QStringLiteral("CAFE "))), QList<qint64>{m_cafe});
  QCOMPARE(messageIds(m_store->search(QStringLiteral("Montmârtre"))), QList<qint64>{m_cafe});
  const auto hits = m_store->search(QStringLiteral("brulee"));
  QCOMPARE(hits.size(), 1);
  QVERIFY2(hits[0].snippet.contains(QStringLiteral("<b>brûlée</b>")), qPrintable(hits[0].snippet));
}

void TestChatSearch::findsTitles() {
  const auto hits = m_store->search(QStringLiteral("metaprog"));
  QCOMPARE(hits.size(), 1);
  QCOMPARE(hits[0].messageId, 0);
  QCOMPARE(hits[0].conversationId, m_code);
  QCOMPARE(hits[0].snippet, QStringLiteral("Template <b>metaprogramming</b>"));

  // "paris" is in a title and in a message: both are found.
  const auto both = m_store->search(QStringLiteral("paris"));
  QCOMPARE(both.size(), 2);
  QVERIFY(messageIds(both).contains(0));
}

void TestChatSearch::hostileInputNeverFails_data() {
  QTest::addColumn<QString>("input");
  QTest::addColumn<int>("atLeast");  // hits that must be found
  QTest::newRow("c++ quote") << R"(C++ "foo)" << 0;
  QTest::newRow("c++") << "C++" << 1;
  QTest::newRow("operators") << "AND OR NOT *" << 0;
  QTest::newRow("near") << "NEAR(louvre seine)" << 0;
  QTest::newRow("column filter") << "text:louvre" << 0;
  QTest::newRow("caret") << "^louvre" << 1;
  QTest::newRow("parens") << "((louvre" << 1;
  QTest::newRow("lone quote") << "\"" << 0;
  QTest::newRow("star") << "*" << 0;
  QTest::newRow("minus") << "-louvre" << 1;
  QTest::newRow("sql") << "'); DROP TABLE messages; --" << 0;
  QTest::newRow("percent underscore") << "%_%" << 0;
  QTest::newRow("braces") << "{text thinking} : louvre" << 0;
  QTest::newRow("nul") << QStringLiteral("louvre\u0000\"") << 1;
  QTest::newRow("emoji") << QStringLiteral("😀 louvre") << 1;
  QTest::newRow("long") << QString(5000, u'a') << 0;
  QTest::newRow("many words") << QStringLiteral("louvre ").repeated(200) << 1;
}

void TestChatSearch::hostileInputNeverFails() {
  QFETCH(QString, input);
  QFETCH(int, atLeast);
  const auto hits = m_store->search(input);
  QVERIFY2(m_store->lastError().isEmpty(), qPrintable(m_store->lastError()));
  QVERIFY2(hits.size() >= atLeast, qPrintable(QStringLiteral("%1 hits").arg(hits.size())));
  // The tables are still there (nothing was executed as SQL).
  QCOMPARE(m_store->messages(m_paris).size(), 3);
}

void TestChatSearch::followsUpdatesDeletesAndRenames() {
  // Updated text: the new words are found, the old ones are not.
  const qint64 streaming = m_store->addMessage(m_paris, QStringLiteral("assistant"), QString(), {}, false);
  QVERIFY(m_store->updateMessage(streaming, QStringLiteral("Eiffel"), QString(), false, {}));
  QCOMPARE(messageIds(m_store->search(QStringLiteral("eiffel"))), QList<qint64>{streaming});
  QVERIFY(m_store->updateMessage(streaming, QStringLiteral("Orsay museum at dusk"), QString(), true, {}));
  QVERIFY(m_store->search(QStringLiteral("eiffel")).isEmpty());
  QCOMPARE(messageIds(m_store->search(QStringLiteral("orsay"))), QList<qint64>{streaming});
  // Only complete/meta changed: still indexed.
  QVERIFY(m_store->updateMessage(streaming, QStringLiteral("Orsay museum at dusk"), QString(), true,
                                 QJsonObject{{QStringLiteral("x"), 1}}));
  QCOMPARE(messageIds(m_store->search(QStringLiteral("dusk"))), QList<qint64>{streaming});

  // Deleted messages are gone from the index.
  QVERIFY(m_store->deleteMessagesFrom(m_paris, m_cafe));
  QVERIFY(m_store->search(QStringLiteral("orsay")).isEmpty());
  QVERIFY(m_store->search(QStringLiteral("brulee")).isEmpty());
  QCOMPARE(messageIds(m_store->search(QStringLiteral("louvre"))), QList<qint64>{m_louvre});

  // Renamed titles; deleted conversations (and, by cascade, their messages).
  QVERIFY(m_store->renameConversation(m_code, QStringLiteral("Generic lambdas")));
  QVERIFY(m_store->search(QStringLiteral("metaprogramming")).isEmpty());
  QCOMPARE(m_store->search(QStringLiteral("lambdas")).size(), 1);
  QVERIFY(m_store->deleteConversation(m_code));
  QVERIFY(m_store->search(QStringLiteral("lambdas")).isEmpty());
  QVERIFY(m_store->search(QStringLiteral("sfinae")).isEmpty());
  QVERIFY(m_store->search(QStringLiteral("templates")).isEmpty());
  QVERIFY(m_store->lastError().isEmpty());
}

void TestChatSearch::ranksBetterMatchesFirstAndHonoursLimit() {
  const qint64 chat = m_store->createConversation(QStringLiteral("Ranking"));
  const qint64 weak = m_store->addMessage(chat, QStringLiteral("user"),
                                          QStringLiteral("One mention of zebra among many many other words in a "
                                                         "rather long sentence about something else entirely."));
  const qint64 strong = m_store->addMessage(chat, QStringLiteral("user"), QStringLiteral("zebra zebra zebra"));
  auto hits = m_store->search(QStringLiteral("zebra"));
  QCOMPARE(messageIds(hits), (QList<qint64>{strong, weak}));
  // Equal relevance: the most recent first.
  const qint64 older = m_store->addMessage(chat, QStringLiteral("user"), QStringLiteral("okapi"));
  const qint64 newer = m_store->addMessage(chat, QStringLiteral("user"), QStringLiteral("okapi"));
  QCOMPARE(messageIds(m_store->search(QStringLiteral("okapi"))), (QList<qint64>{newer, older}));
  QCOMPARE(m_store->search(QStringLiteral("zebra"), 1).size(), 1);
  QVERIFY(m_store->search(QStringLiteral("zebra"), 0).isEmpty());
}

QTEST_GUILESS_MAIN(TestChatSearch)
#include "tst_chat_search.moc"
