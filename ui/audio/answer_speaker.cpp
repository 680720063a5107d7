#include "audio/answer_speaker.h"

#include <QTextDocument>
#include <QCoreApplication>
#include <QTextToSpeech>
#include <QVoice>
#include <utility>
#include "chat/markdown_segments.h"

namespace gd::ui {

AnswerSpeaker::AnswerSpeaker(QObject* parent) : QObject(parent) {}

AnswerSpeaker::~AnswerSpeaker() {
    if (!tts_) return;
    const QTextToSpeech::State state = tts_->state();
    if (state != QTextToSpeech::Speaking && state != QTextToSpeech::Paused) return;  // deleted with this
    // Deleted mid-utterance (a stopped answer runs on muted), Qt 6.4's flite engine crashes: its audio
    // thread tears down an output that the engine's destructor already deleted (seen in tst_voice_chat
    // when the window closed right after an answer). So the engine outlives this object until the
    // utterance ends, silently, and then deletes itself.
    QTextToSpeech* tts = tts_;
    tts_ = nullptr;
    tts->disconnect(this);
    tts->setVolume(0.0);
    tts->setParent(QCoreApplication::instance());
    connect(tts, &QTextToSpeech::stateChanged, tts, [tts](QTextToSpeech::State s) {
        if (s != QTextToSpeech::Speaking && s != QTextToSpeech::Paused) tts->deleteLater();
    });
}

QString AnswerSpeaker::speakableText(const QString& markdown) {
    QStringList parts;
    for (const MarkdownSegment& s : splitMarkdown(markdown)) {
        if (s.kind != MarkdownSegment::Kind::Prose) continue;
        QTextDocument doc;
        doc.setMarkdown(s.text);
        const QString plain = doc.toPlainText().trimmed();
        if (!plain.isEmpty()) parts.append(plain);
    }
    return parts.join(QStringLiteral("\n\n"));
}

bool AnswerSpeaker::ensureEngine() {
    if (tts_) return true;
    if (tried_) return false;
    tried_ = true;
    const QStringList engines = QTextToSpeech::availableEngines();
    if (engines.isEmpty()) {
        reason_ = tr("No speech engine is installed, so answers can't be read aloud (on Debian and Ubuntu: "
                     "sudo apt install qt6-speech-flite-plugin).");
        return false;
    }
    const QString engine = engines.contains(QStringLiteral("flite")) ? QStringLiteral("flite") : engines.front();
    tts_ = new QTextToSpeech(engine, this);
    if (tts_->state() == QTextToSpeech::Error) {
        reason_ = tr("The speech engine “%1” could not start: %2").arg(engine, tts_->errorString());
        delete tts_;
        tts_ = nullptr;
        return false;
    }
    connect(tts_, &QTextToSpeech::stateChanged, this, [this](QTextToSpeech::State state) {
        if (state != QTextToSpeech::Speaking && state != QTextToSpeech::Paused && !pending_.isEmpty()) {
            // The muted utterance has ended: the answer that waited is spoken now.
            const QString next = std::exchange(pending_, QString());
            QMetaObject::invokeMethod(this, [this, next] { if (tts_) sayNow(next); }, Qt::QueuedConnection);
            return;
        }
        if (muted_ && state == QTextToSpeech::Speaking) return;  // still the stopped one, silently
        if (state != QTextToSpeech::Speaking) muted_ = false;
        const bool now = state == QTextToSpeech::Speaking;
        if (state == QTextToSpeech::Error) emit failed(tr("Reading aloud failed: %1").arg(tts_->errorString()));
        if (now != speaking_) {
            speaking_ = now;
            emit speakingChanged(now);
        }
    });
    applyVoice();
    return true;
}

bool AnswerSpeaker::available() { return ensureEngine(); }

QString AnswerSpeaker::unavailableReason() {
    ensureEngine();
    return reason_;
}

QString AnswerSpeaker::engineName() { return ensureEngine() ? tts_->engine() : QString(); }

QStringList AnswerSpeaker::voiceNames() {
    QStringList names;
    if (!ensureEngine()) return names;
    for (const QVoice& v : tts_->availableVoices()) names.append(v.name());
    return names;
}

void AnswerSpeaker::setVoiceName(const QString& name) {
    voiceName_ = name;
    if (tts_) applyVoice();
}

void AnswerSpeaker::applyVoice() {
    if (voiceName_.isEmpty()) return;
    for (const QVoice& v : tts_->availableVoices())
        if (v.name() == voiceName_) {
            tts_->setVoice(v);
            return;
        }
}

void AnswerSpeaker::speak(const QString& markdown) {
    stop();
    lastText_ = speakableText(markdown);
    if (lastText_.isEmpty()) return;
    if (!ensureEngine()) {
        emit failed(reason_);
        return;
    }
    if (tts_->state() == QTextToSpeech::Speaking || tts_->state() == QTextToSpeech::Paused) pending_ = lastText_;
    else sayNow(lastText_);
}

void AnswerSpeaker::sayNow(const QString& text) {
    muted_ = false;
    tts_->setVolume(1.0);
    tts_->say(text);
}

void AnswerSpeaker::stop() {
    pending_.clear();
    if (!tts_ || tts_->state() != QTextToSpeech::Speaking || muted_) return;
    muted_ = true;
    tts_->setVolume(0.0);
    speaking_ = false;
    emit speakingChanged(false);
}

}  // namespace gd::ui
