// Voice chat in the app end to end, with the real engine and the tiny E2B model's audio tower, a
// real SQLite history and a real microphone stream: a private PulseAudio server (fake_microphone.sh)
// whose microphone hears what is played into its speaker. A spoken question (tests/data/audio/ui)
// is played while the composer records; the recording becomes a card (length, token cost, play),
// is sent with text, answered, stored by content hash and shown again after a restart; the prompt
// the engine saw holds exactly the clip's soft tokens. Also: push-to-talk (mouse and Ctrl+Space),
// Esc discards, the time limit, dropped audio files (and a file that only claims to be one), a
// microphone unplugged mid-recording (the recording is kept, a notice says why, the button follows
// the device list), a model that can't hear, no sound server at all (a child process), spoken
// replies, and deleting a chat deleting its recordings.
#include <QApplication>
#include <QCryptographicHash>
#include <QDialogButtonBox>
#include <QDragEnterEvent>
#include <QDropEvent>
#include <QLabel>
#include <QMessageBox>
#include <QMimeData>
#include <QPlainTextEdit>
#include <QProcess>
#include <QPushButton>
#include <QSignalSpy>
#include <QToolButton>
#include <QtTest>
#include <cmath>
#include <cstdio>
#include "app_support.h"
#include "audio/answer_speaker.h"
#include "audio/audio_library.h"
#include "audio/audio_player.h"
#include "audio/audio_recorder.h"
#include "audio/features/audio_pieces.h"
#include "audio/io/audio_decode.h"
#include "audio/io/wav_file.h"
#include "audio/stored_audio.h"
#include "chat/audio_attachment_card.h"
#include "chat/audio_level_meter.h"
#include "chat/audio_record_button.h"
#include "chat/chat_view.h"
#include "chat/composer.h"
#include "chat/message_audio.h"
#include "chat/message_widget.h"
#include "engine/engine_controller.h"
#include "engine/engine_errors.h"
#include "history/chat_store.h"
#include "models/model_picker_dialog.h"
#include "settings/app_settings.h"
#include "window/main_window.h"

using namespace gd::ui;
using gd::uitest::App;

namespace {
constexpr int kLong = 120000;  // sanitizer builds on two cores are slow
QString g_pulseDir;            // the fake microphone's server folder ("" when it could not start)
QString g_pulseError;

QString script() { return QStringLiteral(GD_SOURCE_DIR "/tests/ui/app/fake_microphone.sh"); }
QString questionWav() { return QStringLiteral(GD_TEST_DATA_DIR "/audio/ui/question.wav"); }

template <typename T>
T* child(QObject* root, const char* name) {
    T* w = root->findChild<T*>(QString::fromLatin1(name));
    if (!w) qFatal("no widget named %s", name);
    return w;
}

bool fakeMic(const QStringList& args) {
    const int rc = QProcess::execute(script(), args);
    if (rc != 0) qWarning("fake_microphone.sh %s: exit %d", qPrintable(args.join(u' ')), rc);
    return rc == 0;
}

double clipSeconds(const QString& path) { return gd::decode_audio_file(QFile::encodeName(path).toStdString()).seconds(); }

QString sha256Of(const QString& path) {
    QFile f(path);
    if (!f.open(QIODevice::ReadOnly)) return {};
    return QString::fromLatin1(QCryptographicHash::hash(f.readAll(), QCryptographicHash::Sha256).toHex());
}
}  // namespace

class VoiceChatTest : public QObject {
    Q_OBJECT
private:
    QString dataDir_, model_, files_;
    std::unique_ptr<App> app_;
    qint64 voiceChat_ = 0;
    StoredAudio sentClip_;

    MainWindow* window() const { return app_->window.get(); }
    Composer* composer() const { return window()->composer(); }
    AudioRecordButton* recorder() const { return composer()->recordButton(); }
    QToolButton* mic() const { return recorder()->micButton(); }
    QPlainTextEdit* input() const { return child<QPlainTextEdit>(window(), "messageInput"); }
    QWidget* errorBanner() const { return child<QWidget>(window(), "errorBanner"); }
    QLabel* errorText() const { return child<QLabel>(window(), "errorText"); }
    QWidget* conversationArea() const { return window()->chatView()->viewport(); }
    void dismissError() { QTest::mouseClick(child<QToolButton>(window(), "dismissErrorButton"), Qt::LeftButton); }

    // Plays the spoken question into the fake speaker; the microphone hears it in real time.
    QProcess* playQuestion() {
        auto* p = new QProcess(this);
        p->start(script(), {QStringLiteral("play"), g_pulseDir, questionWav()});
        return p;
    }
    bool waitForClips(int n) {
        const bool ok = QTest::qWaitFor([&] { return !composer()->audioPending() && composer()->audioClips().size() == n; }, kLong);
        if (!ok) qWarning("expected %d clips, have %lld (notice: %s)", n, composer()->audioClips().size(), qPrintable(composer()->voiceNoticeText()));
        return ok;
    }
    static bool dropFiles(QWidget* target, const QStringList& files) {
        QMimeData mime;
        QList<QUrl> urls;
        for (const QString& f : files) urls.append(QUrl::fromLocalFile(f));
        mime.setUrls(urls);
        const QPoint at = target->rect().center();
        QDragEnterEvent enter(at, Qt::CopyAction, &mime, Qt::LeftButton, Qt::NoModifier);
        QApplication::sendEvent(target, &enter);
        if (!enter.isAccepted()) return false;
        QDropEvent drop(QPointF(at), Qt::CopyAction, &mime, Qt::LeftButton, Qt::NoModifier);
        QApplication::sendEvent(target, &drop);
        return drop.isAccepted();
    }
    // Clicks Send and waits for the answer: its summary, or nullopt on failure.
    std::optional<GenerationSummary> sendAndWait() {
        QSignalSpy finished(app_->engine.get(), &EngineController::finished);
        QSignalSpy failed(window(), &MainWindow::answerFailed);
        QSignalSpy done(window(), &MainWindow::answerFinished);
        QTest::mouseClick(child<QPushButton>(composer(), "sendButton"), Qt::LeftButton);
        if (!QTest::qWaitFor([&] { return done.count() + failed.count() > 0; }, kLong)) return std::nullopt;
        if (!failed.isEmpty()) qWarning("answer failed: %s", qPrintable(failed.front().at(0).toString()));
        if (finished.isEmpty() || done.isEmpty()) return std::nullopt;
        return finished.front().at(1).value<GenerationSummary>();
    }
    static void whenModal(std::function<void(QWidget*)> act) {
        auto* timer = new QTimer;
        timer->setInterval(20);
        QObject::connect(timer, &QTimer::timeout, timer, [timer, act] {
            if (QWidget* modal = QApplication::activeModalWidget()) {
                timer->stop();
                timer->deleteLater();
                act(modal);
            }
        });
        timer->start();
    }
    QString writeWav(const QString& name, double seconds, double hz) {
        std::vector<float> samples(size_t(seconds * 16000));
        for (size_t i = 0; i < samples.size(); ++i) samples[i] = 0.4f * float(std::sin(2 * M_PI * hz * double(i) / 16000));
        const QString path = QDir(files_).filePath(name);
        gd::write_wav_file(QFile::encodeName(path).toStdString(), samples.data(), samples.size(), 16000);
        return path;
    }
    void loadModel(const QString& path) {
        QSignalSpy loaded(app_->engine.get(), &EngineController::loaded);
        window()->loadModel({path});
        QVERIFY(loaded.wait(kLong));
    }

private slots:
    void initTestCase() {
        if (g_pulseDir.isEmpty()) QSKIP(qPrintable(QStringLiteral("no fake microphone: %1").arg(g_pulseError)));
        const QString home = gd::uitest::scratchDir(QStringLiteral("voice-home"));
        qputenv("HOME", home.toUtf8());
        qputenv("HF_HOME", (home + QStringLiteral("/hf")).toUtf8());
        model_ = gd::uitest::tinyModel(QStringLiteral("e2b"));
        files_ = gd::uitest::scratchDir(QStringLiteral("voice-files"));
        dataDir_ = gd::uitest::scratchDir(QStringLiteral("voice-app"));
        app_ = std::make_unique<App>(dataDir_);
        app_->settings->setMaxAnswerTokens(16);
        QVERIFY(QTest::qWaitForWindowExposed(window()));
        loadModel(model_);
        QVERIFY2(app_->engine->model()->audio, "the tiny E2B model has an audio tower");
    }

    void micIsReadyWithAModelThatHears() {
        QTRY_VERIFY_WITH_TIMEOUT(mic()->isEnabled(), 5000);
        QVERIFY(recorder()->isAvailable());
        QVERIFY(mic()->toolTip().contains(QStringLiteral("hold"), Qt::CaseInsensitive));
        QCOMPARE(recorder()->device().description(), QStringLiteral("FakeMic"));
    }

    void recordingASpokenQuestion() {
        const double spoken = clipSeconds(questionWav());
        input()->setPlainText(QStringLiteral("Answer briefly."));
        QTest::mouseClick(mic(), Qt::LeftButton);  // a click: recording goes on until the next one
        QVERIFY(recorder()->isRecording());
        QVERIFY(child<QWidget>(recorder(), "recordingPanel")->isVisible());
        // The question is played once the microphone delivers (a fresh PulseAudio remap source may
        // take a second before its first samples), after a moment of silence.
        QTRY_VERIFY_WITH_TIMEOUT(recorder()->recorder()->elapsedSeconds() > 0.3, 15000);
        QProcess* player = playQuestion();
        float loudest = 0;
        QVERIFY(QTest::qWaitFor([&] {
            loudest = std::max(loudest, recorder()->meter()->shownFraction());
            return player->state() == QProcess::NotRunning;
        }, 30000));
        QCOMPARE(player->exitCode(), 0);
        QTest::qWait(400);
        QVERIFY(recorder()->isRecording());
        QVERIFY(child<QLabel>(recorder(), "recordingTime")->text().endsWith(QStringLiteral("/ 10:00")));
        gd::uitest::screenshot(window(), QStringLiteral("voice-record"));
        QTest::mouseClick(mic(), Qt::LeftButton);
        QVERIFY(!recorder()->isRecording());
        QVERIFY(waitForClips(1));

        const StoredAudio clip = composer()->audioClips().front();
        qInfo("recorded %.2f s (the question is %.2f s), peak %.3f, meter %.2f, %lld tokens",
              clip.seconds, spoken, recorder()->recorder()->peak(), loudest, clip.tokens);
        QVERIFY(clip.recorded);
        QVERIFY2(clip.seconds > spoken + 0.5 && clip.seconds < spoken + 5, qPrintable(QString::number(clip.seconds)));
        QVERIFY(recorder()->recorder()->peak() > 0.1f);
        QVERIFY(loudest > 0.3f);
        // Stored by content, as 16 kHz mono 16-bit WAV, and what the model will hear is not silent.
        const QString path = window()->audioLibrary()->pathOf(clip.file);
        QCOMPARE(clip.file, QStringLiteral("audio/%1.wav").arg(sha256Of(path)));
        const gd::DecodedAudio decoded = gd::decode_audio_file(QFile::encodeName(path).toStdString());
        QCOMPARE(decoded.source_rate, 16000);
        QCOMPARE(decoded.source_channels, 1);
        QCOMPARE(clip.tokens, gd::audio_token_count(int64_t(decoded.samples.size())));
        float peak = 0;
        for (float s : decoded.samples) peak = std::max(peak, std::fabs(s));
        QVERIFY(peak > 0.1f);
        AudioAttachmentCard* card = composer()->audioCards().front();
        QCOMPARE(card->detailText(), QStringLiteral("%1 · ≈ %2 audio tokens").arg(formatDuration(clip.seconds)).arg(clip.tokens));
        QCOMPARE(child<QLabel>(card, "audioCardDetail")->text(), card->detailText());
        QVERIFY(!card->toolTip().contains(QString::fromStdString(gd::audio_piece_rule())));  // under 30 s
    }

    void playingTheCard() {
        AudioAttachmentCard* card = composer()->audioCards().front();
        AudioPlayer* player = window()->audioPlayer();
        QSignalSpy changes(player, &AudioPlayer::playingChanged);
        QTest::mouseClick(child<QToolButton>(card, "playAudioButton"), Qt::LeftButton);
        QVERIFY(player->isPlaying(card->clip().file));
        QVERIFY(child<QToolButton>(card, "playAudioButton")->property("playing").toBool());
        // Played to the end in real time, then the button is Play again.
        QTRY_VERIFY_WITH_TIMEOUT(!player->isPlaying(card->clip().file), 30000);
        QVERIFY(!child<QToolButton>(card, "playAudioButton")->property("playing").toBool());
        QCOMPARE(changes.count(), 2);
    }

    void sendingTheRecordingGetsAnAnswer() {
        sentClip_ = composer()->audioClips().front();
        const std::optional<GenerationSummary> withAudio = sendAndWait();
        QVERIFY(withAudio);
        voiceChat_ = window()->currentConversation();
        QCOMPARE(withAudio->audioTokens, sentClip_.tokens);
        QVERIFY(composer()->audioCards().isEmpty());
        const QList<StoredMessage> messages = app_->store->messages(voiceChat_);
        QCOMPARE(messages.size(), 2);
        QCOMPARE(messages[0].text, QStringLiteral("Answer briefly."));
        QCOMPARE(audioFromMeta(messages[0].meta), QList<StoredAudio>{sentClip_});
        QVERIFY(messages[1].complete);
        MessageWidget* user = window()->chatView()->messages().front();
        QCOMPARE(user->audio(), QList<StoredAudio>{sentClip_});
        gd::uitest::screenshot(window(), QStringLiteral("voice-answer"));

        // The same words without the recording, in a new chat: the prompt is shorter by the clip's
        // soft tokens and the two markers around them (and at most a separator or two).
        window()->newConversation();
        input()->setPlainText(QStringLiteral("Answer briefly."));
        const std::optional<GenerationSummary> textOnly = sendAndWait();
        QVERIFY(textOnly);
        const qint64 extra = withAudio->promptTokens - textOnly->promptTokens;
        qInfo("prompt with the recording %lld tokens, without %lld; the clip is %lld tokens",
              withAudio->promptTokens, textOnly->promptTokens, sentClip_.tokens);
        QVERIFY(extra >= sentClip_.tokens + 2);
        QVERIFY(extra <= sentClip_.tokens + 6);
    }

    void aVoiceMessageNeedsNoText() {
        window()->newConversation();
        QVERIFY(dropFiles(conversationArea(), {questionWav()}));
        QVERIFY(waitForClips(1));
        QVERIFY(input()->toPlainText().isEmpty());
        const std::optional<GenerationSummary> summary = sendAndWait();
        QVERIFY(summary);
        QCOMPARE(summary->audioTokens, gd::audio_token_count(35753));
        const QList<StoredMessage> messages = app_->store->messages(window()->currentConversation());
        QCOMPARE(messages.front().text, QString());
        QCOMPARE(app_->store->conversation(window()->currentConversation())->title, QStringLiteral("Sound: question.wav"));
    }

    void pushToTalkWithMouseAndKeyboard() {
        window()->newConversation();
        // Held past kHoldMs and released: stops on release.
        QTest::mousePress(mic(), Qt::LeftButton);
        QVERIFY(recorder()->isRecording());
        // (A fresh PulseAudio remap source may take a second before its first samples.)
        QTRY_VERIFY_WITH_TIMEOUT(recorder()->recorder()->elapsedSeconds() > 0.3, 15000);
        QTest::qWait(AudioRecordButton::kHoldMs);
        QTest::mouseRelease(mic(), Qt::LeftButton);
        QVERIFY(!recorder()->isRecording());
        QVERIFY(waitForClips(1));
        // Ctrl+Space held in the message box.
        input()->setFocus();
        QTest::keyPress(input(), Qt::Key_Space, Qt::ControlModifier);
        QVERIFY(recorder()->isRecording());
        QTRY_VERIFY_WITH_TIMEOUT(recorder()->recorder()->elapsedSeconds() > 0.3, 15000);
        QTest::qWait(AudioRecordButton::kHoldMs);
        QTest::keyRelease(input(), Qt::Key_Space, Qt::ControlModifier);
        QVERIFY(!recorder()->isRecording());
        QVERIFY(waitForClips(2));
        QVERIFY(input()->toPlainText().isEmpty());  // no space typed
        // Ctrl+Shift+Space toggles.
        QTest::keyClick(input(), Qt::Key_Space, Qt::ControlModifier | Qt::ShiftModifier);
        QVERIFY(recorder()->isRecording());
        QTRY_VERIFY_WITH_TIMEOUT(recorder()->recorder()->elapsedSeconds() > 0.3, 15000);
        QTest::keyClick(input(), Qt::Key_Space, Qt::ControlModifier | Qt::ShiftModifier);
        QVERIFY(!recorder()->isRecording());
        QVERIFY(waitForClips(3));
        composer()->clear();
    }

    void escapeDiscardsTheRecording() {
        input()->setPlainText(QStringLiteral("Typed words stay"));
        QTest::mouseClick(mic(), Qt::LeftButton);
        QVERIFY(recorder()->isRecording());
        QTest::qWait(300);
        QTest::keyClick(input(), Qt::Key_Escape);
        QVERIFY(!recorder()->isRecording());
        QTest::qWait(200);
        QVERIFY(composer()->audioCards().isEmpty());
        QCOMPARE(input()->toPlainText(), QStringLiteral("Typed words stay"));
        input()->clear();
    }

    void theTimeLimitStopsWithANotice() {
        recorder()->recorder()->setLimitSeconds(1.0);
        QTest::mouseClick(mic(), Qt::LeftButton);
        QTRY_VERIFY_WITH_TIMEOUT(!recorder()->isRecording(), 10000);
        QVERIFY(waitForClips(1));
        QCOMPARE(composer()->audioClips().front().seconds, 1.0);
        QVERIFY2(composer()->voiceNoticeText().contains(QStringLiteral("limit")), qPrintable(composer()->voiceNoticeText()));
        recorder()->recorder()->setLimitSeconds(AudioRecorder::kDefaultLimitSeconds);
        composer()->clear();
        composer()->hideVoiceNotice();
    }

    void droppedAudioFilesBecomeCards() {
        const QString longClip = writeWav(QStringLiteral("lecture.wav"), 35, 220);
        QVERIFY(dropFiles(conversationArea(), {questionWav(), longClip}));
        QVERIFY(waitForClips(2));
        const QList<StoredAudio> clips = composer()->audioClips();
        QCOMPARE(clips[0].name, QStringLiteral("question.wav"));
        QCOMPARE(clips[0].tokens, gd::audio_token_count(35753));
        QVERIFY(!clips[0].recorded);
        QCOMPARE(clips[1].seconds, 35.0);
        QCOMPARE(clips[1].tokens, gd::audio_token_count(35 * 16000));
        const QString rule = QString::fromStdString(gd::audio_piece_rule());
        QVERIFY(composer()->audioCards().at(1)->toolTip().contains(rule));
        QVERIFY(!composer()->audioCards().at(0)->toolTip().contains(rule));
        // The dropped original's bytes, stored under their hash.
        QCOMPARE(clips[0].file, QStringLiteral("audio/%1.wav").arg(sha256Of(questionWav())));
        composer()->clear();
    }

    void aFileThatIsNotAudioIsRefusedPlainly() {
        input()->setPlainText(QStringLiteral("Keep this question"));
        QFile fake(QDir(files_).filePath(QStringLiteral("notes.wav")));
        QVERIFY(fake.open(QIODevice::WriteOnly));
        fake.write("These are my notes, not a recording.\n");
        fake.close();
        QVERIFY(dropFiles(conversationArea(), {fake.fileName()}));
        QTRY_VERIFY_WITH_TIMEOUT(!composer()->audioPending(), kLong);
        QVERIFY(errorBanner()->isVisible());
        qInfo("notes.wav: %s", qPrintable(errorText()->text()));
        QVERIFY(errorText()->text().contains(QStringLiteral("notes.wav")));
        QVERIFY(composer()->audioCards().isEmpty());
        QCOMPARE(input()->toPlainText(), QStringLiteral("Keep this question"));
        dismissError();
        input()->clear();
    }

    void aMicrophoneUnpluggedMidRecordingKeepsTheRecording() {
        input()->setPlainText(QStringLiteral("My typed words"));
        QTest::mouseClick(mic(), Qt::LeftButton);
        QVERIFY(recorder()->isRecording());
        QProcess* player = playQuestion();
        // (A fresh PulseAudio remap source may take a second before its first samples.)
        QTRY_VERIFY_WITH_TIMEOUT(recorder()->recorder()->elapsedSeconds() > 0.8, 15000);
        QVERIFY(fakeMic({QStringLiteral("unplug"), g_pulseDir}));
        QTRY_VERIFY_WITH_TIMEOUT(!recorder()->isRecording(), 10000);
        QVERIFY(waitForClips(1));
        qInfo("kept %.2f s; notice: %s", composer()->audioClips().front().seconds, qPrintable(composer()->voiceNoticeText()));
        QVERIFY(composer()->audioClips().front().seconds > 0.8);
        QVERIFY(composer()->voiceNoticeText().contains(QStringLiteral("stopped working")));
        QCOMPARE(input()->toPlainText(), QStringLiteral("My typed words"));
        // No microphone left: the button says so, and comes back with the device.
        QTRY_VERIFY_WITH_TIMEOUT(!mic()->isEnabled(), 10000);
        QVERIFY(mic()->toolTip().contains(QStringLiteral("No microphone")));
        QVERIFY(fakeMic({QStringLiteral("plug"), g_pulseDir}));
        QTRY_VERIFY_WITH_TIMEOUT(mic()->isEnabled(), 10000);
        player->waitForFinished(30000);
        composer()->clear();
        composer()->hideVoiceNotice();
        input()->clear();
    }

    void answersAreReadAloud() {
        AnswerSpeaker* speaker = window()->speaker();
        QCOMPARE(AnswerSpeaker::speakableText(QStringLiteral("Hello **world**.\n\n```cpp\nint x = 1;\n```\n\nBye.")),
                 QStringLiteral("Hello world.\n\nBye."));
        qInfo("speech: %s", speaker->available() ? qPrintable(QStringLiteral("engine ") + speaker->engineName())
                                                 : qPrintable(speaker->unavailableReason()));
        app_->settings->setReadAnswersAloud(true);
        window()->newConversation();
        input()->setPlainText(QStringLiteral("Say something."));
        QVERIFY(sendAndWait());
        const QString answer = window()->chatView()->lastMessage()->text();
        QCOMPARE(speaker->lastSpokenText(), AnswerSpeaker::speakableText(answer));
        // A new message stops the reading.
        input()->setPlainText(QStringLiteral("And again."));
        QSignalSpy done(window(), &MainWindow::answerFinished);
        QTest::mouseClick(child<QPushButton>(composer(), "sendButton"), Qt::LeftButton);
        QTRY_VERIFY_WITH_TIMEOUT(!speaker->isSpeaking() || done.count() > 0, 5000);
        QTRY_VERIFY_WITH_TIMEOUT(done.count() > 0, kLong);
        app_->settings->setReadAnswersAloud(false);
        speaker->stop();
    }

    void historyKeepsTheRecordingAcrossARestart() {
        QVERIFY(voiceChat_ != 0);
        app_.reset();
        app_ = std::make_unique<App>(dataDir_);
        window()->openConversation(voiceChat_);
        MessageWidget* user = window()->chatView()->messages().front();
        QCOMPARE(user->audio(), QList<StoredAudio>{sentClip_});
        const QString path = window()->audioLibrary()->pathOf(sentClip_.file);
        QCOMPARE(sentClip_.file, QStringLiteral("audio/%1.wav").arg(sha256Of(path)));
        auto* clip = child<QToolButton>(user, "messageAudioClip");
        QVERIFY(clip->isEnabled());
        QVERIFY(clip->text().contains(sentClip_.name));
        QTest::mouseClick(clip, Qt::LeftButton);
        QVERIFY(window()->audioPlayer()->isPlaying(sentClip_.file));
        QTest::mouseClick(clip, Qt::LeftButton);  // and stop
        QVERIFY(!window()->audioPlayer()->isPlaying(sentClip_.file));
        // A stored copy that is gone says so instead of failing.
        const qint64 lost = app_->store->createConversation(QStringLiteral("Lost recording"));
        QJsonObject meta;
        setAudioInMeta(meta, {StoredAudio{QStringLiteral("audio/%1.wav").arg(QString(64, QLatin1Char('0'))), QStringLiteral("gone.wav"), 1, 25, true}});
        app_->store->addMessage(lost, QStringLiteral("user"), QStringLiteral("Where did it go?"), meta);
        window()->openConversation(lost);
        auto* missing = child<QToolButton>(window()->chatView()->messages().front(), "messageAudioClip");
        QVERIFY(!missing->isEnabled());
        QVERIFY(missing->text().contains(QStringLiteral("not found")));
        loadModel(model_);
    }

    void deletingAChatDeletesItsRecordings() {
        window()->newConversation();
        const QString lone = writeWav(QStringLiteral("lone.wav"), 1.5, 440);
        QVERIFY(dropFiles(conversationArea(), {lone}));
        QVERIFY(waitForClips(1));
        const QString stored = window()->audioLibrary()->pathOf(composer()->audioClips().front().file);
        input()->setPlainText(QStringLiteral("What note is this?"));
        QVERIFY(sendAndWait());
        QVERIFY(QFileInfo::exists(stored));
        whenModal([](QWidget* box) {
            if (auto* m = qobject_cast<QMessageBox*>(box)) m->button(QMessageBox::Yes)->click();
        });
        QTest::mouseClick(child<QToolButton>(window(), "deleteChatButton"), Qt::LeftButton);
        QTRY_VERIFY(!QFileInfo::exists(stored));
        // The first voice chat keeps its recording.
        QVERIFY(QFileInfo::exists(window()->audioLibrary()->pathOf(sentClip_.file)));
    }

    void aModelThatCannotHearDisablesTheMic() {
        loadModel(gd::uitest::tinyModel(QStringLiteral("31b")));
        QVERIFY(!app_->engine->model()->audio);
        QVERIFY(!mic()->isEnabled());
        QCOMPARE(mic()->toolTip(), noAudioInputMessage());
        QVERIFY(mic()->toolTip().contains(QStringLiteral("E2B and E4B")));
        // The shortcut explains and offers the models that hear.
        input()->setFocus();
        QTest::keyClick(input(), Qt::Key_Space, Qt::ControlModifier | Qt::ShiftModifier);
        QVERIFY(!recorder()->isRecording());
        QCOMPARE(composer()->voiceNoticeText(), noAudioInputMessage());
        auto* action = child<QPushButton>(composer(), "voiceNoticeAction");
        QVERIFY(action->isVisible());
        QTest::mouseClick(action, Qt::LeftButton);
        auto* picker = window()->findChild<ModelPickerDialog*>();
        QVERIFY(picker);
        QVERIFY(picker->audioOnly());
        picker->reject();
        // A sound attached anyway is refused at send, and nothing is lost.
        window()->newConversation();
        input()->setPlainText(QStringLiteral("Hear this"));
        QVERIFY(dropFiles(conversationArea(), {questionWav()}));
        QVERIFY(waitForClips(1));
        QTest::mouseClick(child<QPushButton>(composer(), "sendButton"), Qt::LeftButton);
        QVERIFY(errorBanner()->isVisible());
        QCOMPARE(errorText()->text(), noAudioInputMessage());
        QCOMPARE(input()->toPlainText(), QStringLiteral("Hear this"));
        QCOMPARE(composer()->audioClips().size(), 1);
        QVERIFY(!app_->engine->isGenerating());
        dismissError();
        composer()->clear();
    }

    void noSoundServerMeansNoMicrophone() {
        // QMediaDevices connects to the sound server once per process: a child without one.
        QProcess p;
        QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
        env.insert(QStringLiteral("GD_VOICE_CHILD"), QStringLiteral("no-server"));
        env.insert(QStringLiteral("PULSE_SERVER"), QStringLiteral("unix:/nonexistent/gd-no-pulse"));
        p.setProcessEnvironment(env);
        p.setProcessChannelMode(QProcess::MergedChannels);
        p.start(QCoreApplication::applicationFilePath(), {});
        QVERIFY(p.waitForFinished(kLong));
        const QString out = QString::fromUtf8(p.readAll());
        qInfo("child: %s", qPrintable(out.trimmed().split(u'\n').filter(QStringLiteral("mic:")).join(u' ')));
        QVERIFY2(p.exitCode() == 0, qPrintable(out));
        QVERIFY2(out.contains(QStringLiteral("mic: disabled: No microphone was found")), qPrintable(out));
    }

    void accessibleNamesOnVoiceControls() {
        for (QWidget* w : window()->findChildren<QWidget*>()) {
            if (!qobject_cast<QAbstractButton*>(w)) continue;
            if (!w->isVisibleTo(window())) continue;
            QVERIFY2(!w->accessibleName().isEmpty() || !static_cast<QAbstractButton*>(w)->text().isEmpty(),
                     qPrintable(QStringLiteral("control %1 has no accessible name").arg(w->objectName())));
        }
    }

    void cleanupTestCase() { app_.reset(); }
};

// The child of noSoundServerMeansNoMicrophone: the app with PULSE_SERVER pointing nowhere.
static int runNoServerChild(int argc, char** argv) {
    QApplication app(argc, argv);
    App gui(gd::uitest::scratchDir(QStringLiteral("voice-no-server")));
    QCoreApplication::processEvents();
    QToolButton* mic = gui.window->composer()->recordButton()->micButton();
    std::printf("mic: %s: %s\n", mic->isEnabled() ? "enabled" : "disabled", qPrintable(mic->toolTip()));
    return mic->isEnabled() ? 1 : 0;
}

int main(int argc, char** argv) {
    if (qEnvironmentVariable("GD_VOICE_CHILD") == QLatin1String("no-server")) return runNoServerChild(argc, argv);
    // The fake microphone's server must exist before the application connects to one.
    if (FILE* p = popen(GD_SOURCE_DIR "/tests/ui/app/fake_microphone.sh start 2>&1", "r")) {
        char line[512] = {};
        QByteArray out;
        while (std::fgets(line, sizeof line, p)) out += line;
        const int status = pclose(p);
        out = out.trimmed();
        if (status == 0 && out.startsWith("/")) g_pulseDir = QString::fromLocal8Bit(out.split('\n').last());
        else g_pulseError = QString::fromLocal8Bit(out);
    }
    if (!g_pulseDir.isEmpty()) qputenv("PULSE_SERVER", ("unix:" + g_pulseDir + "/native").toLocal8Bit());
    int rc = 0;
    {
        QApplication app(argc, argv);
        app.setAttribute(Qt::AA_Use96Dpi, true);
        VoiceChatTest test;
        rc = QTest::qExec(&test, argc, argv);
    }
    if (!g_pulseDir.isEmpty()) QProcess::execute(QStringLiteral(GD_SOURCE_DIR "/tests/ui/app/fake_microphone.sh"), {QStringLiteral("stop"), g_pulseDir});
    return rc;
}

#include "tst_voice_chat.moc"
