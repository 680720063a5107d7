#pragma once
// Reads answers aloud with Qt TextToSpeech. The offline "flite" engine is chosen when it is
// installed (speech-dispatcher may be present without a running daemon, and a cloud engine would
// send the answer off the machine); otherwise the first engine Qt offers; with none, speaking is
// unavailable and says why. The engine is created on first use: the app starts no synthesizer
// unless the user asks for one.
//
// Qt 6.4's flite engine crashes when it speaks again after QTextToSpeech::stop(), and when it is
// deleted after one (it deletes its audio output twice; seen under ASan in tst_voice_chat). So this
// class never calls stop(): stopping mutes the utterance, which runs on silently (flite speaks one
// answer in seconds), and the next answer waits for it to end. To the user it stops at once. For the
// same reason an engine still speaking when this object goes outlives it until the utterance ends.
//
// What is spoken: the answer's prose as plain text, without markdown marks and without code blocks
// (read character by character they help nobody); the thinking text is never passed in.
#include <QObject>
#include <QString>
#include <QStringList>

class QTextToSpeech;

namespace gd::ui {

class AnswerSpeaker : public QObject {
    Q_OBJECT
public:
    explicit AnswerSpeaker(QObject* parent = nullptr);
    ~AnswerSpeaker() override;

    // Whether speech works here; when not, a sentence saying why (created on the first call).
    bool available();
    QString unavailableReason();
    QString engineName();
    QStringList voiceNames();                 // of the engine, for Settings
    void setVoiceName(const QString& name);   // "" = the engine's default

    void speak(const QString& markdown);      // stops what is being spoken first
    void stop();
    bool isSpeaking() const { return speaking_; }
    QString lastSpokenText() const { return lastText_; }

    // The answer as it should be heard (see above).
    static QString speakableText(const QString& markdown);

signals:
    void speakingChanged(bool speaking);
    void failed(const QString& message);

private:
    bool ensureEngine();
    void sayNow(const QString& text);
    void applyVoice();

    QTextToSpeech* tts_ = nullptr;
    bool tried_ = false;
    QString reason_, voiceName_, lastText_;
    bool speaking_ = false;
    bool muted_ = false;             // the utterance going on was stopped (see above)
    QString pending_;                // what to say once the muted utterance has ended
};

}  // namespace gd::ui
