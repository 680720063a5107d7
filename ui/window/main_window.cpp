#include "window/main_window.h"

#include <QAction>
#include <QCloseEvent>
#include <QDir>
#include <QFile>
#include <QFileDialog>
#include <QHBoxLayout>
#include <QInputDialog>
#include <QJsonObject>
#include <QKeySequence>
#include <QLabel>
#include <QLineEdit>
#include <QListWidget>
#include <QMenu>
#include <QMessageBox>
#include <QPlainTextEdit>
#include <QFileInfo>
#include <QLocale>
#include <QMediaDevices>
#include <QProgressBar>
#include <QPushButton>
#include <QShortcut>
#include <QSplitter>
#include <QStatusBar>
#include <QSet>
#include <QTextDocumentFragment>
#include <QTimer>
#include <QToolButton>
#include <QVBoxLayout>
#include "audio/answer_speaker.h"
#include "audio/audio_library.h"
#include "audio/audio_player.h"
#include "chat/audio_record_button.h"
#include "chat/chat_view.h"
#include "chat/composer.h"
#include "chat/message_widget.h"
#include "engine/engine_controller.h"
#include "engine/engine_errors.h"
#include "images/image_library.h"
#include "images/image_mime.h"
#include "history/chat_store.h"
#include "models/model_list_model.h"
#include "models/model_picker_dialog.h"
#include "settings/app_settings.h"
#include "settings/settings_dialog.h"

namespace gd::ui {

namespace {

constexpr int kConversationIdRole = Qt::UserRole;
constexpr int kMessageIdRole = Qt::UserRole + 1;

QString titleFrom(const QString& text, const QList<StoredImage>& images, const QList<StoredAudio>& audio) {
    QString t = text.simplified();
    if (t.isEmpty() && !images.isEmpty()) t = QObject::tr("Image: %1").arg(images.front().name);
    if (t.isEmpty() && !audio.isEmpty()) t = audio.front().recorded ? QObject::tr("Voice message") : QObject::tr("Sound: %1").arg(audio.front().name);
    if (t.size() > 48) t = t.left(45).trimmed() + QStringLiteral("…");
    return t.isEmpty() ? QObject::tr("New chat") : t;
}

QString finishNote(const QString& reason) {
    if (reason == QLatin1String("stopped") || reason == QLatin1String("cancelled")) return QObject::tr("stopped");
    if (reason == QLatin1String("length")) return QObject::tr("cut at the answer length limit");
    if (reason == QLatin1String("context_full")) return QObject::tr("the conversation filled the context");
    return {};
}

QString detailsFor(const GenerationSummary& s) {
    return QObject::tr("%1 tokens · %2 tokens/s · first token after %3 s")
        .arg(s.generatedTokens)
        .arg(s.tokensPerSecond, 0, 'f', 1)
        .arg(s.timeToFirstToken, 0, 'f', 2);
}

QJsonObject summaryToJson(const GenerationSummary& s) {
    return QJsonObject{{"finish_reason", s.finishReason},
                       {"prompt_tokens", s.promptTokens},
                       {"generated_tokens", s.generatedTokens},
                       {"tokens_per_second", s.tokensPerSecond},
                       {"time_to_first_token", s.timeToFirstToken}};
}

QToolButton* headerButton(QWidget* parent, const char* name, const QString& text, const QString& accessible) {
    auto* b = new QToolButton(parent);
    b->setObjectName(QString::fromLatin1(name));
    b->setText(text);
    b->setAccessibleName(accessible);
    b->setToolTip(accessible);
    b->setAutoRaise(true);
    return b;
}

}  // namespace

MainWindow::MainWindow(ChatStore& store, AppSettings& settings, EngineController& engine,
                       const QString& historyError, QWidget* parent)
    : QMainWindow(parent), store_(store), settings_(settings), engine_(engine) {
    setObjectName(QStringLiteral("mainWindow"));
    setWindowTitle(tr("Gemma Desk"));
    resize(1180, 780);
    // Images beside the history file; an in-memory history keeps this session's in a temporary folder.
    const bool onDisk = !store_.path().isEmpty() && !store_.path().startsWith(QLatin1Char(':'));
    images_ = new ImageLibrary(onDisk ? QFileInfo(store_.path()).absolutePath() : QString(), this);
    audio_ = new AudioLibrary(onDisk ? QFileInfo(store_.path()).absolutePath() : QString(), this);
    player_ = new AudioPlayer(*audio_, this);
    speaker_ = new AnswerSpeaker(this);
    speaker_->setVoiceName(settings_.speechVoice());
    mediaDevices_ = new QMediaDevices(this);
    buildUi();
    buildShortcuts();

    saveTimer_ = new QTimer(this);
    saveTimer_->setInterval(kSaveIntervalMs);
    connect(saveTimer_, &QTimer::timeout, this, [this] { saveStreaming(false); });

    connect(&engine_, &EngineController::loadProgress, this, [this](double f, const QString& stage) {
        loadProgress_->setValue(int(f * 1000));
        loadLabel_->setText(tr("Loading %1 (%2)…").arg(modelButton_->text(), stage));
    });
    connect(&engine_, &EngineController::loaded, this, &MainWindow::onLoaded);
    connect(&engine_, &EngineController::loadFailed, this, &MainWindow::onLoadFailed);
    connect(&engine_, &EngineController::delta, this, &MainWindow::onDelta);
    connect(&engine_, &EngineController::progress, this, &MainWindow::onProgress);
    connect(&engine_, &EngineController::finished, this, &MainWindow::onFinished);
    connect(&engine_, &EngineController::failed, this, &MainWindow::onFailed);
    connect(&engine_, &EngineController::busyChanged, this, &MainWindow::updateComposerState);

    const QByteArray geometry = settings_.windowState(QStringLiteral("geometry"));
    if (!geometry.isEmpty()) restoreGeometry(geometry);

    refreshConversationList();
    newConversation();
    updateComposerState();
    updateStatus();
    if (!historyError.isEmpty())
        showError(tr("Chat history is unavailable: %1 Chats in this session will not be saved.").arg(historyError));
}

MainWindow::~MainWindow() = default;

void MainWindow::buildUi() {
    auto* splitter = new QSplitter(this);
    splitter->setObjectName(QStringLiteral("mainSplitter"));
    splitter->setChildrenCollapsible(false);

    // --- sidebar: conversations and search ---
    auto* sidebar = new QWidget(splitter);
    sidebar->setObjectName(QStringLiteral("sidebar"));
    auto* side = new QVBoxLayout(sidebar);
    side->setContentsMargins(10, 12, 10, 10);
    side->setSpacing(8);
    auto* newChat = new QPushButton(tr("New chat"), sidebar);
    newChat->setObjectName(QStringLiteral("newChatButton"));
    newChat->setAccessibleName(tr("Start a new chat"));
    newChat->setToolTip(tr("New chat (Ctrl+N)"));
    side->addWidget(newChat);
    search_ = new QLineEdit(sidebar);
    search_->setObjectName(QStringLiteral("searchField"));
    search_->setAccessibleName(tr("Search all chats"));
    search_->setPlaceholderText(tr("Search all chats (Ctrl+F)"));
    search_->setClearButtonEnabled(true);
    side->addWidget(search_);
    conversations_ = new QListWidget(sidebar);
    conversations_->setObjectName(QStringLiteral("conversationList"));
    conversations_->setAccessibleName(tr("Chats"));
    conversations_->setContextMenuPolicy(Qt::CustomContextMenu);
    conversations_->setWordWrap(true);
    conversations_->setTextElideMode(Qt::ElideRight);
    side->addWidget(conversations_, 1);
    auto* listActions = new QHBoxLayout;
    auto* rename = headerButton(sidebar, "renameChatButton", tr("Rename"), tr("Rename the chat"));
    auto* remove = headerButton(sidebar, "deleteChatButton", tr("Delete"), tr("Delete the chat"));
    auto* exportButton = headerButton(sidebar, "exportChatButton", tr("Export"), tr("Export the chat"));
    exportButton->setPopupMode(QToolButton::InstantPopup);
    auto* exportMenu = new QMenu(exportButton);
    exportMenu->setObjectName(QStringLiteral("exportMenu"));
    exportMenu->addAction(tr("As Markdown…"), this, [this] { exportCurrent(QStringLiteral("md")); });
    exportMenu->addAction(tr("As JSON…"), this, [this] { exportCurrent(QStringLiteral("json")); });
    exportButton->setMenu(exportMenu);
    listActions->addWidget(rename);
    listActions->addWidget(remove);
    listActions->addStretch(1);
    listActions->addWidget(exportButton);
    side->addLayout(listActions);
    splitter->addWidget(sidebar);

    // --- main area: header, load progress, errors, chat, composer ---
    auto* main = new QWidget(splitter);
    main->setObjectName(QStringLiteral("mainArea"));
    auto* col = new QVBoxLayout(main);
    col->setContentsMargins(0, 0, 0, 0);
    col->setSpacing(0);

    auto* header = new QWidget(main);
    header->setObjectName(QStringLiteral("headerBar"));
    auto* hl = new QHBoxLayout(header);
    hl->setContentsMargins(16, 8, 12, 8);
    modelButton_ = new QPushButton(tr("Choose a model"), header);
    modelButton_->setObjectName(QStringLiteral("modelButton"));
    modelButton_->setAccessibleName(tr("Choose a model"));
    modelButton_->setToolTip(tr("Choose a model (Ctrl+O)"));
    hl->addWidget(modelButton_);
    hl->addStretch(1);
    auto* settingsButton = headerButton(header, "settingsButton", tr("Settings"), tr("Settings"));
    hl->addWidget(settingsButton);
    col->addWidget(header);

    loadPanel_ = new QWidget(main);
    loadPanel_->setObjectName(QStringLiteral("loadPanel"));
    auto* ll = new QHBoxLayout(loadPanel_);
    ll->setContentsMargins(16, 6, 12, 6);
    loadLabel_ = new QLabel(loadPanel_);
    loadLabel_->setObjectName(QStringLiteral("loadLabel"));
    loadProgress_ = new QProgressBar(loadPanel_);
    loadProgress_->setObjectName(QStringLiteral("loadProgress"));
    loadProgress_->setAccessibleName(tr("Model loading progress"));
    loadProgress_->setRange(0, 1000);
    loadProgress_->setTextVisible(false);
    auto* cancelLoad = new QPushButton(tr("Cancel"), loadPanel_);
    cancelLoad->setObjectName(QStringLiteral("cancelLoadButton"));
    cancelLoad->setAccessibleName(tr("Cancel loading the model"));
    ll->addWidget(loadLabel_);
    ll->addWidget(loadProgress_, 1);
    ll->addWidget(cancelLoad);
    loadPanel_->hide();
    col->addWidget(loadPanel_);

    errorBanner_ = new QWidget(main);
    errorBanner_->setObjectName(QStringLiteral("errorBanner"));
    auto* el = new QHBoxLayout(errorBanner_);
    el->setContentsMargins(16, 8, 8, 8);
    errorText_ = new QLabel(errorBanner_);
    errorText_->setObjectName(QStringLiteral("errorText"));
    errorText_->setWordWrap(true);
    errorText_->setTextInteractionFlags(Qt::TextSelectableByMouse);
    auto* dismiss = headerButton(errorBanner_, "dismissErrorButton", tr("Dismiss"), tr("Dismiss the message"));
    el->addWidget(errorText_, 1);
    el->addWidget(dismiss);
    errorBanner_->hide();
    col->addWidget(errorBanner_);

    chatView_ = new ChatView(main);
    col->addWidget(chatView_, 1);
    composer_ = new Composer(main);
    composer_->setImageLibrary(images_);
    composer_->setAudio(audio_, player_);
    composer_->setDefaultImageBudget(settings_.imageBudget());
    col->addWidget(composer_);
    // Images dropped on the conversation join the message being written.
    new ImageDropFilter(chatView_->viewport(), [this](const OfferedImages& offered) { composer_->attach(offered); });
    splitter->addWidget(main);
    splitter->setStretchFactor(0, 0);
    splitter->setStretchFactor(1, 1);
    splitter->setSizes({260, 920});
    setCentralWidget(splitter);

    // --- status bar ---
    auto addStatus = [this](const char* name, const QString& accessible) {
        auto* l = new QLabel(this);
        l->setObjectName(QString::fromLatin1(name));
        l->setAccessibleName(accessible);
        statusBar()->addPermanentWidget(l);
        return l;
    };
    statusModel_ = addStatus("statusModel", tr("Model"));
    statusDevice_ = addStatus("statusDevice", tr("Device"));
    statusSpeed_ = addStatus("statusSpeed", tr("Speed"));
    statusTtft_ = addStatus("statusTtft", tr("Time to first token"));
    statusContext_ = addStatus("statusContext", tr("Context used"));

    connect(newChat, &QPushButton::clicked, this, &MainWindow::newConversation);
    connect(search_, &QLineEdit::textChanged, this, &MainWindow::showSearchResults);
    connect(conversations_, &QListWidget::itemActivated, this, [this](QListWidgetItem* item) {
        const qint64 id = item->data(kConversationIdRole).toLongLong();
        openConversation(id);
        const qint64 message = item->data(kMessageIdRole).toLongLong();
        if (MessageWidget* w = message ? chatView_->findMessage(message) : nullptr)
            QTimer::singleShot(0, chatView_, [v = chatView_, w] { v->ensureWidgetVisible(w); });
    });
    connect(conversations_, &QListWidget::itemClicked, conversations_, &QListWidget::itemActivated);
    connect(conversations_, &QListWidget::customContextMenuRequested, this, [this, exportMenu](const QPoint& pos) {
        if (!conversations_->itemAt(pos)) return;
        QMenu menu(this);
        menu.addAction(tr("Rename…"), this, &MainWindow::renameCurrent);
        menu.addAction(tr("Delete…"), this, &MainWindow::deleteCurrent);
        menu.addMenu(exportMenu)->setText(tr("Export"));
        menu.exec(conversations_->viewport()->mapToGlobal(pos));
    });
    connect(rename, &QToolButton::clicked, this, &MainWindow::renameCurrent);
    connect(remove, &QToolButton::clicked, this, &MainWindow::deleteCurrent);
    connect(modelButton_, &QPushButton::clicked, this, &MainWindow::openModelPicker);
    connect(settingsButton, &QToolButton::clicked, this, &MainWindow::openSettings);
    connect(cancelLoad, &QPushButton::clicked, &engine_, &EngineController::cancelLoad);
    connect(dismiss, &QToolButton::clicked, errorBanner_, &QWidget::hide);
    connect(composer_, &Composer::sendRequested, this, &MainWindow::sendMessage);
    connect(composer_, &Composer::audioDiscarded, this, &MainWindow::releaseAudio, Qt::QueuedConnection);
    connect(composer_, &Composer::audioModelsRequested, this, &MainWindow::openAudioModelPicker);
    connect(composer_, &Composer::recordingStarted, this, [this] {
        // The microphone must not hear the app itself.
        speaker_->stop();
        player_->stop();
    });
    connect(mediaDevices_, &QMediaDevices::audioInputsChanged, this, &MainWindow::updateVoiceState);
    // Qt 6.4 on PulseAudio may miss the signal when a source goes away (see AudioRecorder): the list
    // is compared every second too, which costs a copy of a short cached list.
    auto* inputPoll = new QTimer(this);
    inputPoll->setInterval(1000);
    connect(inputPoll, &QTimer::timeout, this, [this] {
        QList<QByteArray> ids;
        for (const QAudioDevice& d : QMediaDevices::audioInputs()) ids.append(d.id());
        if (ids != knownInputs_) updateVoiceState();
    });
    inputPoll->start();
    connect(chatView_, &ChatView::readAloudRequested, this, [this](qint64 id) {
        if (id == speakingMessage_ && speaker_->isSpeaking()) {
            speaker_->stop();
            return;
        }
        if (MessageWidget* w = chatView_->findMessage(id)) readAloud(id, w->text());
    });
    connect(speaker_, &AnswerSpeaker::speakingChanged, this, [this](bool speaking) {
        if (MessageWidget* w = chatView_->findMessage(speakingMessage_)) w->setSpeaking(speaking);
    });
    connect(speaker_, &AnswerSpeaker::failed, this, [this](const QString& message) { statusBar()->showMessage(message, 10000); });
    connect(composer_, &Composer::stopRequested, this, &MainWindow::stopAnswer);
    connect(composer_, &Composer::attachFailed, this, &MainWindow::showError);
    // Queued: a composer cleared while sending discards its cards before the message that keeps
    // their files is stored.
    connect(composer_, &Composer::imagesDiscarded, this, &MainWindow::releaseImages, Qt::QueuedConnection);
    connect(chatView_, &ChatView::editRequested, this, [this](qint64 id) {
        if (MessageWidget* w = chatView_->findMessage(id)) composer_->beginEdit(id, w->text(), w->images(), w->audio());
    });
    connect(chatView_, &ChatView::regenerateRequested, this, [this](qint64) { regenerate(); });
}

void MainWindow::buildShortcuts() {
    auto add = [this](const QKeySequence& keys, auto slot) {
        auto* s = new QShortcut(keys, this);
        s->setContext(Qt::WindowShortcut);
        connect(s, &QShortcut::activated, this, slot);
    };
    add(QKeySequence(Qt::CTRL | Qt::Key_Return), [this] { composer_->submit(); });
    add(QKeySequence(Qt::Key_Escape), [this] {
        // Esc discards a recording first (the window's shortcut sees the key before the text box).
        if (composer_->recordButton()->isRecording()) composer_->recordButton()->cancel();
        else if (engine_.isGenerating()) stopAnswer();
    });
    add(QKeySequence(Qt::CTRL | Qt::Key_Period), [this] { stopAnswer(); });
    add(QKeySequence::New, [this] { newConversation(); });
    add(QKeySequence::Find, [this] { search_->setFocus(); search_->selectAll(); });
    add(QKeySequence::Open, [this] { openModelPicker(); });
    add(QKeySequence(Qt::CTRL | Qt::Key_Comma), [this] { openSettings(); });
}

// ---------------------------------------------------------------------------------------------
// Conversations

void MainWindow::refreshConversationList() {
    if (!search_->text().trimmed().isEmpty()) {
        showSearchResults(search_->text());
        return;
    }
    const QSignalBlocker block(conversations_);
    conversations_->clear();
    for (const ConversationSummary& c : store_.conversations()) {
        auto* item = new QListWidgetItem(c.title.isEmpty() ? tr("Untitled chat") : c.title, conversations_);
        item->setData(kConversationIdRole, c.id);
        item->setToolTip(tr("%1 · %n message(s)", nullptr, c.messageCount).arg(QLocale().toString(c.updated.toLocalTime(), QLocale::ShortFormat)));
        if (c.id == conversation_) conversations_->setCurrentItem(item);
    }
}

void MainWindow::showSearchResults(const QString& query) {
    if (query.trimmed().isEmpty()) {
        search_->blockSignals(true);
        search_->clear();
        search_->blockSignals(false);
        refreshConversationList();
        return;
    }
    const QSignalBlocker block(conversations_);
    conversations_->clear();
    const QList<SearchHit> hits = store_.search(query);
    QSet<qint64> listed;  // one entry per chat: its most relevant match
    for (const SearchHit& h : hits) {
        if (listed.contains(h.conversationId)) continue;
        listed.insert(h.conversationId);
        // The store marks matches with <b> in HTML-escaped text; the list shows plain text.
        const QString snippet = QTextDocumentFragment::fromHtml(h.snippet).toPlainText();
        auto* item = new QListWidgetItem(QStringLiteral("%1\n%2").arg(h.title, snippet.simplified()), conversations_);
        item->setData(kConversationIdRole, h.conversationId);
        item->setData(kMessageIdRole, h.messageId);
    }
    if (hits.isEmpty()) {
        auto* none = new QListWidgetItem(tr("No chat mentions “%1”.").arg(query.trimmed()), conversations_);
        none->setFlags(Qt::NoItemFlags);
    }
}

void MainWindow::newConversation() {
    conversation_ = 0;
    composer_->cancelEdit();
    chatView_->clear();
    chatView_->setWelcome(tr("Gemma Desk"),
                          engine_.model() ? tr("Ask %1 anything. Everything stays on this computer.").arg(engine_.model()->name)
                                          : tr("Choose a model to start: **Ctrl+O** opens the model picker, which finds the "
                                               "Gemma 4 files already on this computer or downloads one."));
    conversations_->clearSelection();
    updateComposerState();
    composer_->input()->setFocus();
}

void MainWindow::openConversation(qint64 id) {
    if (id == conversation_ && !chatView_->messages().isEmpty()) return;
    showConversation(id);
}

void MainWindow::showConversation(qint64 id) {
    conversation_ = id;
    composer_->cancelEdit();
    chatView_->clear();
    for (const StoredMessage& m : store_.messages(id)) {
        if (m.role == QLatin1String("system")) continue;
        MessageWidget* w = chatView_->appendMessage(m.id, m.role, m.text, m.thinking);
        w->setImages(*images_, imagesFromMeta(m.meta));
        w->setAudio(*audio_, *player_, audioFromMeta(m.meta));
        if (m.id == streamingMessage_) {
            w->setText(streamText_);
            w->setThinking(streamThinking_);
            w->setStatus(tr("writing…"));
        } else if (!m.complete) {
            w->setStatus(tr("interrupted"));
        } else {
            const QString note = finishNote(m.meta.value(QStringLiteral("finish_reason")).toString());
            w->setStatus(note);
        }
    }
    chatView_->updateActions(engine_.isGenerating());
    updateComposerState();
    // Select it in the list; a chat the list does not show yet (just created) is added by a refresh,
    // deferred because this may run inside the list's own click handler.
    bool listed = false;
    for (int i = 0; i < conversations_->count(); ++i)
        if (conversations_->item(i)->data(kConversationIdRole).toLongLong() == id) {
            const QSignalBlocker block(conversations_);
            conversations_->setCurrentRow(i);
            listed = true;
            break;
        }
    if (!listed) QTimer::singleShot(0, this, &MainWindow::refreshConversationList);
}

void MainWindow::renameCurrent() {
    const qint64 id = conversation_;
    if (!id) return;
    const auto c = store_.conversation(id);
    bool ok = false;
    const QString title = QInputDialog::getText(this, tr("Rename chat"), tr("Name"), QLineEdit::Normal,
                                                c ? c->title : QString(), &ok);
    if (!ok || title.trimmed().isEmpty()) return;
    store_.renameConversation(id, title.trimmed());
    refreshConversationList();
}

void MainWindow::deleteCurrent() {
    const qint64 id = conversation_;
    if (!id) return;
    if (QMessageBox::question(this, tr("Delete chat"), tr("Delete this chat and all its messages?")) != QMessageBox::Yes)
        return;
    if (id == streamingConversation_) stopAnswer();
    QStringList files, clips;  // the chat's images and sounds, deleted with it unless another message has them too
    for (const StoredMessage& m : store_.messages(id)) {
        for (const StoredImage& image : imagesFromMeta(m.meta)) files.append(image.file);
        for (const StoredAudio& clip : audioFromMeta(m.meta)) clips.append(clip.file);
    }
    player_->stop();
    speaker_->stop();
    store_.deleteConversation(id);
    releaseImages(files);
    releaseAudio(clips);
    newConversation();
    refreshConversationList();
}

void MainWindow::exportCurrent(const QString& format) {
    if (!conversation_) return;
    const auto c = store_.conversation(conversation_);
    const QString suggested = (c ? c->title : tr("chat")).left(60).replace(QLatin1Char('/'), QLatin1Char('-')) + QLatin1Char('.') + format;
    const QString path = QFileDialog::getSaveFileName(this, tr("Export chat"), suggested,
                                                      format == QLatin1String("md") ? tr("Markdown (*.md)") : tr("JSON (*.json)"));
    if (path.isEmpty()) return;
    QFile f(path);
    const QByteArray bytes = format == QLatin1String("md") ? store_.exportMarkdown(conversation_).toUtf8()
                                                           : store_.exportJson(conversation_);
    if (!f.open(QIODevice::WriteOnly | QIODevice::Truncate) || f.write(bytes) != bytes.size())
        showError(tr("Could not write %1: %2").arg(path, f.errorString()));
}

// ---------------------------------------------------------------------------------------------
// Models and settings

void MainWindow::loadModel(const QStringList& paths, qint64 context, qint64 gpuLayers, int gpu, const QString& quantize) {
    if (paths.isEmpty()) return;
    if (engine_.isGenerating()) stopAnswer();
    errorBanner_->hide();
    LoadRequest request;
    request.paths = paths;
    request.threads = settings_.threads();
    request.context = context > 0 ? context : settings_.contextLength();
    request.gpuLayers = gpuLayers;
    request.gpu = gpu;
    request.quantize = quantize;
    modelButton_->setText(QFileInfo(paths.front()).fileName());
    loadProgress_->setValue(0);
    loadLabel_->setText(tr("Loading %1…").arg(modelButton_->text()));
    loadPanel_->show();
    engine_.load(request);
    updateComposerState();
    updateStatus();
}

void MainWindow::onLoaded(const ModelInfo& info) {
    loadPanel_->hide();
    modelButton_->setText(info.name);
    modelButton_->setToolTip(tr("%1 · %2 · %3 — choose another model (Ctrl+O)").arg(info.name, info.variant, info.quantization));
    settings_.setLastModelPaths(engine_.lastLoadRequest().paths);
    if (chatView_->messages().isEmpty())
        chatView_->setWelcome(tr("Gemma Desk"), tr("Ask %1 anything. Everything stays on this computer.").arg(info.name));
    updateComposerState();
    updateStatus();
}

void MainWindow::onLoadFailed(const QString& message, bool cancelled) {
    loadPanel_->hide();
    modelButton_->setText(tr("Choose a model"));
    if (!cancelled) showError(message);
    else statusBar()->showMessage(message, 4000);
    updateComposerState();
    updateStatus();
}

ModelPickerDialog* MainWindow::openAudioModelPicker() {
    ModelPickerDialog* picker = openModelPicker();
    picker->setAudioOnly(true);
    return picker;
}

ModelPickerDialog* MainWindow::openModelPicker() {
    if (picker_) {
        picker_->raise();
        return picker_;
    }
    picker_ = new ModelPickerDialog(settings_, engine_.lastLoadRequest().paths, this);
    picker_->setAttribute(Qt::WA_DeleteOnClose);
    connect(picker_, &ModelPickerDialog::modelChosen, this,
            [this](const LoadRequest& c) { loadModel(c.paths, c.context, c.gpuLayers, c.gpu, c.quantize); });
    picker_->open();
    return picker_;
}

void MainWindow::openSettings() {
    SettingsDialog dialog(settings_, engine_.model(), this, speaker_);
    if (dialog.exec() != QDialog::Accepted) return;
    composer_->setDefaultImageBudget(settings_.imageBudget());
    speaker_->setVoiceName(settings_.speechVoice());
    if (!settings_.readAnswersAloud()) speaker_->stop();
    updateVoiceState();
    if (dialog.reloadNeeded() && engine_.model()) loadModel(engine_.lastLoadRequest().paths);
}

// ---------------------------------------------------------------------------------------------
// Sending and streaming

void MainWindow::sendMessage(const QString& text, const QList<StoredImage>& images, const QList<StoredAudio>& audio) {
    if ((text.trimmed().isEmpty() && images.isEmpty() && audio.isEmpty()) || engine_.isGenerating() || !engine_.model()) return;
    if (!images.isEmpty() && !engine_.model()->vision) {
        // Nothing is stored or cleared: the message waits in the composer for another model, or
        // for its images to be removed.
        showError(noImageInputMessage());
        return;
    }
    if (!audio.isEmpty() && !engine_.model()->audio) {
        showError(noAudioInputMessage());  // (the same: the recording waits in the composer)
        return;
    }
    speaker_->stop();  // a new question: the last answer is not read on over it
    if (conversation_ == 0) {
        conversation_ = store_.createConversation(titleFrom(text, images, audio));
        chatView_->clear();
    }
    QStringList replacedImages, replacedAudio;
    if (const qint64 edited = composer_->editingMessageId()) {
        // Edit-and-resend: the edited message and everything after it are replaced.
        for (const StoredMessage& m : store_.messages(conversation_))
            if (m.id >= edited) {
                for (const StoredImage& image : imagesFromMeta(m.meta)) replacedImages.append(image.file);
                for (const StoredAudio& clip : audioFromMeta(m.meta)) replacedAudio.append(clip.file);
            }
        store_.deleteMessagesFrom(conversation_, edited);
        composer_->cancelEdit();
        showConversation(conversation_);
    }
    QJsonObject meta;
    setImagesInMeta(meta, images);
    setAudioInMeta(meta, audio);
    const qint64 id = store_.addMessage(conversation_, QStringLiteral("user"), text, meta);
    if (id == 0) {
        // Not saved (disk full, database locked): the text and its images stay in the composer, and
        // their stored copies stay too, so nothing is lost and the user can send again.
        showError(tr("Could not save your message: %1").arg(store_.lastError()));
        return;
    }
    MessageWidget* sent = chatView_->appendMessage(id, QStringLiteral("user"), text);
    sent->setImages(*images_, images);
    sent->setAudio(*audio_, *player_, audio);
    composer_->clear();
    releaseImages(replacedImages);
    releaseAudio(replacedAudio);
    startAnswer(conversation_);
    refreshConversationList();
}

void MainWindow::regenerate() {
    if (engine_.isGenerating() || !engine_.model() || !conversation_) return;
    const QList<StoredMessage> messages = store_.messages(conversation_);
    if (messages.isEmpty() || messages.back().role != QLatin1String("assistant")) return;
    store_.deleteMessagesFrom(conversation_, messages.back().id);
    showConversation(conversation_);
    startAnswer(conversation_);
}

void MainWindow::startAnswer(qint64 conversationId) {
    GenerateRequest request;
    request.system = settings_.systemPrompt();
    request.thinking = settings_.thinking();
    request.sampling = settings_.sampling(engine_.model()->defaults);
    request.maxTokens = settings_.maxAnswerTokens();
    const QList<StoredMessage> messages = store_.messages(conversationId);
    for (const StoredMessage& m : messages) {
        if (m.role != QLatin1String("user") && m.role != QLatin1String("assistant")) continue;
        ChatTurn turn{m.role, m.text, {}};
        // A model without image input gets the conversation's words only (a new message with
        // images was refused in sendMessage); the images stay shown in the chat.
        if (engine_.model()->vision) turn.images = turnImages(imagesFromMeta(m.meta));
        if (engine_.model()->audio) turn.audio = turnAudio(audioFromMeta(m.meta));
        request.turns.append(turn);
    }
    QJsonObject meta{{"model", engine_.model()->name}};
    streamingConversation_ = conversationId;
    streamingMessage_ = store_.addMessage(conversationId, QStringLiteral("assistant"), QString(), meta, false);
    streamText_.clear();
    streamThinking_.clear();
    streamDirty_ = false;
    MessageWidget* w = chatView_->appendMessage(streamingMessage_, QStringLiteral("assistant"), QString());
    w->setStatus(tr("writing…"));
    chatView_->updateActions(true);
    request_ = engine_.generate(request);
    saveTimer_->start();
    updateComposerState();
}

void MainWindow::stopAnswer() { engine_.stop(); }

void MainWindow::onDelta(quint64 id, const QString& answer, const QString& thinking) {
    if (id != request_) return;
    streamText_ += answer;
    streamThinking_ += thinking;
    streamDirty_ = true;
    if (conversation_ == streamingConversation_)
        if (MessageWidget* w = chatView_->findMessage(streamingMessage_)) {
            w->setStatus(tr("writing…"));  // (after "reading the image…")
            w->appendDelta(answer, thinking);
            chatView_->scrollToBottomIfFollowing();
        }
}

void MainWindow::onProgress(quint64 id, const QString& stage) {
    if (id != request_ || conversation_ != streamingConversation_) return;
    if (MessageWidget* w = chatView_->findMessage(streamingMessage_)) w->setStatus(stage);
}

QList<ImageAttachment> MainWindow::turnImages(const QList<StoredImage>& images) const {
    QList<ImageAttachment> out;
    // All of them, also a copy gone missing ("" for a name that is not ours): the worker decides
    // (see TurnImages: the message being answered fails plainly, an earlier one goes on without it).
    for (const StoredImage& image : images) out.append(ImageAttachment{images_->pathOf(image.file), image.name, image.budget});
    return out;
}

void MainWindow::releaseImages(const QStringList& files) {
    QSet<QString> inComposer;
    for (const StoredImage& image : composer_->images()) inComposer.insert(image.file);
    for (const QString& file : QSet<QString>(files.begin(), files.end()))
        if (!inComposer.contains(file) && !store_.anyMetaContains(file)) images_->remove(file);
}

QList<AudioAttachment> MainWindow::turnAudio(const QList<StoredAudio>& clips) const {
    QList<AudioAttachment> out;
    for (const StoredAudio& clip : clips) out.append(AudioAttachment{audio_->pathOf(clip.file), clip.name});
    return out;
}

void MainWindow::releaseAudio(const QStringList& files) {
    QSet<QString> inComposer;
    for (const StoredAudio& clip : composer_->audioClips()) inComposer.insert(clip.file);
    for (const QString& file : QSet<QString>(files.begin(), files.end()))
        if (!inComposer.contains(file) && !store_.anyMetaContains(file)) {
            if (player_->isPlaying(file)) player_->stop();
            audio_->remove(file);
        }
}

void MainWindow::readAloud(qint64 messageId, const QString& markdown) {
    if (speakingMessage_ && speakingMessage_ != messageId)
        if (MessageWidget* w = chatView_->findMessage(speakingMessage_)) w->setSpeaking(false);
    speakingMessage_ = messageId;
    speaker_->speak(markdown);  // (the button follows speakingChanged)
}

void MainWindow::updateVoiceState() {
    const QList<QAudioDevice> inputs = QMediaDevices::audioInputs();
    knownInputs_.clear();
    for (const QAudioDevice& d : inputs) knownInputs_.append(d.id());
    QAudioDevice device;
    const QByteArray wanted = settings_.microphoneId();
    for (const QAudioDevice& d : inputs)
        if (!wanted.isEmpty() && d.id() == wanted) device = d;
    if (device.isNull()) device = QMediaDevices::defaultAudioInput();
    if (device.isNull() && !inputs.isEmpty()) device = inputs.front();
    composer_->recordButton()->setDevice(device);
    if (inputs.isEmpty() || device.isNull())
        composer_->setVoiceUnavailable(tr("No microphone was found. Connect one (or check the system's sound "
                                          "settings); this button turns on when it appears."));
    else if (engine_.isLoading()) composer_->setVoiceUnavailable(tr("The model is loading…"));
    else if (!engine_.model()) composer_->setVoiceUnavailable(tr("Choose a model first (Ctrl+O)."));
    else if (!engine_.model()->audio) composer_->setVoiceUnavailable(noAudioInputMessage(), true);
    else composer_->setVoiceUnavailable({});
}

void MainWindow::saveStreaming(bool complete) {
    if (!streamingMessage_ || (!streamDirty_ && !complete)) return;
    QJsonObject meta{{"model", engine_.model() ? engine_.model()->name : QString()}};
    if (complete && lastSummary_) {
        const QJsonObject s = summaryToJson(*lastSummary_);
        for (auto it = s.begin(); it != s.end(); ++it) meta.insert(it.key(), it.value());
    }
    store_.updateMessage(streamingMessage_, streamText_, streamThinking_, complete, meta);
    streamDirty_ = false;
}

void MainWindow::onFinished(quint64 id, const GenerationSummary& summary) {
    if (id != request_) return;
    lastSummary_ = summary;
    saveTimer_->stop();
    saveStreaming(true);
    const qint64 message = streamingMessage_;
    if (conversation_ == streamingConversation_)
        if (MessageWidget* w = chatView_->findMessage(message)) {
            w->setStatus(finishNote(summary.finishReason));
            w->setDetails(detailsFor(summary));
            // Spoken replies: a finished answer (not one the user stopped), its prose only.
            const bool whole = summary.finishReason == QLatin1String("stop") || summary.finishReason == QLatin1String("length");
            if (settings_.readAnswersAloud() && whole) readAloud(message, streamText_);
        }
    streamingMessage_ = 0;
    streamingConversation_ = 0;
    chatView_->updateActions(false);
    updateComposerState();
    updateStatus();
    refreshConversationList();
    emit answerFinished(message, summary.finishReason);
}

void MainWindow::onFailed(quint64 id, const QString& message) {
    if (id != request_) return;
    saveTimer_->stop();
    lastSummary_.reset();
    saveStreaming(true);
    if (conversation_ == streamingConversation_)
        if (MessageWidget* w = chatView_->findMessage(streamingMessage_)) w->setStatus(tr("failed"));
    streamingMessage_ = 0;
    streamingConversation_ = 0;
    chatView_->updateActions(false);
    showError(message);
    updateComposerState();
    emit answerFailed(message);
}

// ---------------------------------------------------------------------------------------------
// State shown

void MainWindow::updateComposerState() {
    const bool generating = engine_.isGenerating();
    composer_->setBusy(generating);
    if (engine_.isLoading()) composer_->setSendEnabled(false, tr("The model is loading…"));
    else if (!engine_.model()) composer_->setSendEnabled(false, tr("Choose a model first (Ctrl+O)."));
    else composer_->setSendEnabled(true);
    updateVoiceState();
}

void MainWindow::updateStatus() {
    const auto& m = engine_.model();
    statusModel_->setText(m ? tr("%1 · %2 · %3").arg(m->name, m->variant, m->quantization)
                            : engine_.isLoading() ? tr("Loading…") : tr("No model"));
    statusDevice_->setText(m ? m->device : QString());
    if (lastSummary_ && m) {
        statusSpeed_->setText(tr("%1 tokens/s").arg(lastSummary_->tokensPerSecond, 0, 'f', 1));
        statusTtft_->setText(tr("first token %1 s").arg(lastSummary_->timeToFirstToken, 0, 'f', 2));
        statusContext_->setText(tr("context %1 / %2").arg(lastSummary_->contextUsed).arg(lastSummary_->contextSize));
    } else {
        statusSpeed_->clear();
        statusTtft_->clear();
        statusContext_->setText(m ? tr("context 0 / %1").arg(m->context) : QString());
    }
}

void MainWindow::showError(const QString& message) {
    errorText_->setText(message);
    errorBanner_->show();
}

void MainWindow::closeEvent(QCloseEvent* event) {
    // The answer being written is saved as it stands; the worker stops within one token.
    if (streamingMessage_) {
        engine_.stop();
        saveStreaming(false);
    }
    settings_.setWindowState(QStringLiteral("geometry"), saveGeometry());
    settings_.sync();
    QMainWindow::closeEvent(event);
}

}  // namespace gd::ui
