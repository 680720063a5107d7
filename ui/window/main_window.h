#pragma once
// The main window: conversations on the left (new, rename, delete, export, full-text search), the
// chat on the right (streamed markdown answers, thinking collapsed, stop, regenerate,
// edit-and-resend), the model and settings in the header, load progress with cancel, and a status
// bar with model, device, speed, time to first token and context used.
//
// Images attached to a message are copied into <data folder>/images/ (see ImageLibrary) and listed
// in the message's metadata; a copy no message or composer refers to any more is deleted. Sounds
// (recordings, audio files) work the same way in <data folder>/audio/ (see AudioLibrary).
//
// Voice: the microphone in the composer is usable when a microphone exists (followed live through
// QMediaDevices) and the loaded model hears (E2B, E4B); otherwise its tooltip says why. Answers are
// read aloud when Settings say so (AnswerSpeaker), and reading stops when a new message is sent.
//
// Every message is written to the history store when sent; a streaming answer is saved at least
// every second (kSaveIntervalMs) and marked complete at the end, so a crash loses at most the last
// second of it.
#include <QMainWindow>
#include <QPointer>
#include <memory>
#include "engine/engine_types.h"
#include "audio/stored_audio.h"
#include "images/stored_image.h"

class QLabel;
class QMediaDevices;
class QLineEdit;
class QListWidget;
class QListWidgetItem;
class QProgressBar;
class QPushButton;
class QTimer;
class QToolButton;

namespace gd::ui {

class AnswerSpeaker;
class AppSettings;
class AudioLibrary;
class AudioPlayer;
class ChatStore;
class ChatView;
class Composer;
class EngineController;
class ImageLibrary;
class MessageWidget;
class ModelPickerDialog;

class MainWindow : public QMainWindow {
    Q_OBJECT
public:
    static constexpr int kSaveIntervalMs = 500;  // streaming saves, well inside the one-second promise

    // `historyError`: why the history database could not be opened ("" when it could); the window
    // then runs on the in-memory store it is given and says so.
    MainWindow(ChatStore& store, AppSettings& settings, EngineController& engine,
               const QString& historyError = {}, QWidget* parent = nullptr);
    ~MainWindow() override;

    // Actions the UI offers, callable by tests and the command line.
    // `context`: tokens to open the model with (the picker's plan); 0 = the settings' context length.
    // `gpuLayers` and `gpu`: the plan's placement (LoadRequest); -1 = as many layers as fit.
    void loadModel(const QStringList& paths, qint64 context = 0, qint64 gpuLayers = -1, int gpu = 0,
                   const QString& quantize = {});
    // Sends `text` with `images` and `audio` (attached in the composer). Refused, leaving the
    // composer as it is, when the model takes no images (or hears no sound).
    void sendMessage(const QString& text, const QList<StoredImage>& images = {}, const QList<StoredAudio>& audio = {});
    void stopAnswer();
    void newConversation();
    void openConversation(qint64 id);
    void regenerate();
    ModelPickerDialog* openModelPicker();
    ModelPickerDialog* openAudioModelPicker();   // the picker showing only models that hear
    void openSettings();

    qint64 currentConversation() const { return conversation_; }
    qint64 streamingMessage() const { return streamingMessage_; }
    ChatView* chatView() const { return chatView_; }
    Composer* composer() const { return composer_; }
    ImageLibrary* imageLibrary() const { return images_; }
    AudioLibrary* audioLibrary() const { return audio_; }
    AudioPlayer* audioPlayer() const { return player_; }
    AnswerSpeaker* speaker() const { return speaker_; }

signals:
    void answerFinished(qint64 messageId, const QString& finishReason);
    void answerFailed(const QString& message);

protected:
    void closeEvent(QCloseEvent* event) override;

private:
    void buildUi();
    void buildShortcuts();
    void refreshConversationList();
    void showSearchResults(const QString& query);
    void showConversation(qint64 id);
    void startAnswer(qint64 conversationId);
    void saveStreaming(bool complete);
    void updateComposerState();
    void updateStatus();
    void showError(const QString& message);
    void renameCurrent();
    void deleteCurrent();
    void exportCurrent(const QString& format);
    QList<ImageAttachment> turnImages(const QList<StoredImage>& images) const;  // for the engine
    // Deletes the stored copies among `files` that no message and no composer card refers to.
    void releaseImages(const QStringList& files);
    QList<AudioAttachment> turnAudio(const QList<StoredAudio>& clips) const;
    void releaseAudio(const QStringList& files);
    void updateVoiceState();     // whether the microphone can be used, and which one
    void readAloud(qint64 messageId, const QString& markdown);

    void onLoaded(const ModelInfo& info);
    void onLoadFailed(const QString& message, bool cancelled);
    void onDelta(quint64 id, const QString& answer, const QString& thinking);
    void onProgress(quint64 id, const QString& stage);
    void onFinished(quint64 id, const GenerationSummary& summary);
    void onFailed(quint64 id, const QString& message);

    ChatStore& store_;
    AppSettings& settings_;
    EngineController& engine_;
    ImageLibrary* images_ = nullptr;
    AudioLibrary* audio_ = nullptr;
    AudioPlayer* player_ = nullptr;
    AnswerSpeaker* speaker_ = nullptr;
    QMediaDevices* mediaDevices_ = nullptr;
    qint64 speakingMessage_ = 0;         // the answer being read aloud
    QList<QByteArray> knownInputs_;      // microphone ids last seen (see updateVoiceState)

    qint64 conversation_ = 0;            // shown conversation (0 = a new one, not stored yet)
    // The answer being generated: its request, conversation, stored message and text so far.
    quint64 request_ = 0;
    qint64 streamingConversation_ = 0;
    qint64 streamingMessage_ = 0;
    QString streamText_, streamThinking_;
    bool streamDirty_ = false;
    QTimer* saveTimer_ = nullptr;
    std::optional<GenerationSummary> lastSummary_;

    QListWidget* conversations_ = nullptr;
    QLineEdit* search_ = nullptr;
    QPushButton* modelButton_ = nullptr;
    QWidget* loadPanel_ = nullptr;
    QProgressBar* loadProgress_ = nullptr;
    QLabel* loadLabel_ = nullptr;
    QWidget* errorBanner_ = nullptr;
    QLabel* errorText_ = nullptr;
    ChatView* chatView_ = nullptr;
    Composer* composer_ = nullptr;
    QLabel* statusModel_ = nullptr;
    QLabel* statusDevice_ = nullptr;
    QLabel* statusSpeed_ = nullptr;
    QLabel* statusTtft_ = nullptr;
    QLabel* statusContext_ = nullptr;
    QPointer<ModelPickerDialog> picker_;
};

}  // namespace gd::ui
