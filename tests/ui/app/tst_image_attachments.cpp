// Images in the app end to end, with the real engine and the tiny model's vision tower: drop a PNG
// on the conversation, paste one from the clipboard, pick one in the Attach dialog; each card's
// slider shows the token count and resolution of the engine's sizing rule (gd::image_target_size)
// and its preview is exactly the reference resize; send, get an answer, find the images in the sent
// message and in the history (metadata and stored copy), across regenerate, edit and a restart.
// Bad files (corrupt, truncated, empty, not an image, a 60000×60000 decompression bomb) and a model
// without vision give a plain error and leave the message in the composer. An event-loop probe
// checks the UI never stalls over 50 ms while a 4K image is attached and encoded.
#include <QApplication>
#include <QClipboard>
#include <QComboBox>
#include <QDialogButtonBox>
#include <QDragEnterEvent>
#include <QDropEvent>
#include <QFileDialog>
#include <QLabel>
#include <QListWidget>
#include <QMessageBox>
#include <QMimeData>
#include <QPainter>
#include <QPlainTextEdit>
#include <QPushButton>
#include <QRandomGenerator>
#include <QSignalSpy>
#include <QSlider>
#include <QToolButton>
#include <QtEndian>
#include <QtTest>
#include "app_support.h"
#include "chat/chat_view.h"
#include "chat/composer.h"
#include "chat/image_attachment_card.h"
#include "chat/image_view_dialog.h"
#include "chat/message_widget.h"
#include "engine/engine_controller.h"
#include "engine/engine_errors.h"
#include "history/chat_store.h"
#include "images/image_jobs.h"
#include "images/image_library.h"
#include "images/stored_image.h"
#include "settings/app_settings.h"
#include "settings/settings_dialog.h"
#include "vision/image/image_decode.h"
#include "vision/image/image_preprocess.h"
#include "window/main_window.h"

using namespace gd::ui;
using gd::uitest::App;

namespace {
constexpr int kStallLimitMs = 50;   // the responsiveness bound
constexpr int kLong = 120000;       // generous waits: sanitizer builds on two cores are slow

template <typename T>
T* child(QObject* root, const char* name) {
    T* w = root->findChild<T*>(QString::fromLatin1(name));
    if (!w) qFatal("no widget named %s", name);
    return w;
}

// A picture with something to see: a gradient, a disc and a bar, plus mild noise when `noisy`
// (so a 4K PNG is as heavy to decode as a photo).
QImage testPicture(int width, int height, bool noisy = false) {
    QImage image(width, height, QImage::Format_RGB888);
    for (int y = 0; y < height; ++y) {
        uchar* row = image.scanLine(y);
        for (int x = 0; x < width; ++x) {
            const int n = noisy ? int(QRandomGenerator::global()->bounded(24)) : 0;
            row[3 * x + 0] = uchar(std::min(255, 255 * x / width + n));
            row[3 * x + 1] = uchar(std::min(255, 255 * y / height + n));
            row[3 * x + 2] = uchar(160 + n);
        }
    }
    QPainter p(&image);
    p.setRenderHint(QPainter::Antialiasing);
    p.setBrush(QColor(250, 210, 60));
    p.setPen(Qt::NoPen);
    p.drawEllipse(QPointF(width * 0.3, height * 0.35), height * 0.18, height * 0.18);
    p.setBrush(QColor(30, 120, 60));
    p.drawRect(QRectF(0, height * 0.7, width, height * 0.3));
    return image;
}

quint32 crc32(const QByteArray& data) {
    quint32 crc = 0xffffffffu;
    for (char ch : data) {
        crc ^= quint8(ch);
        for (int k = 0; k < 8; ++k) crc = (crc >> 1) ^ (0xedb88320u & (0u - (crc & 1u)));
    }
    return ~crc;
}

QByteArray pngChunk(const char* type, const QByteArray& data) {
    QByteArray out(4, '\0');
    qToBigEndian(quint32(data.size()), out.data());
    const QByteArray body = QByteArray(type) + data;
    out += body;
    QByteArray crc(4, '\0');
    qToBigEndian(crc32(body), crc.data());
    return out + crc;
}

// A valid PNG whose header says 60000×60000 RGB (10.8 GB of pixels) around a few bytes of data.
QByteArray pngBomb() {
    QByteArray ihdr(13, '\0');
    qToBigEndian(quint32(60000), ihdr.data());
    qToBigEndian(quint32(60000), ihdr.data() + 4);
    ihdr[8] = 8;  // bits per channel
    ihdr[9] = 2;  // RGB
    const QByteArray idat = qCompress(QByteArray(64 * 1024, '\0')).mid(4);  // (qCompress prefixes the length)
    return QByteArray("\x89PNG\r\n\x1a\n", 8) + pngChunk("IHDR", ihdr) + pngChunk("IDAT", idat) + pngChunk("IEND", {});
}

QString expectedDetail(int width, int height, int budget) {
    const gd::ImageTargetSize s = gd::image_target_size(height, width, budget);
    return QStringLiteral("%1 tokens · %2×%3").arg(s.soft_tokens()).arg(s.width).arg(s.height);
}

// Peak resident memory of this process, for the "bounded memory" checks.
qint64 peakRssKb() {
    QFile f(QStringLiteral("/proc/self/status"));
    if (!f.open(QIODevice::ReadOnly)) return 0;
    for (const QByteArray& line : f.readAll().split('\n'))
        if (line.startsWith("VmHWM:")) return line.mid(6).trimmed().split(' ').value(0).toLongLong();
    return 0;
}
}  // namespace

class ImageAttachmentsTest : public QObject {
    Q_OBJECT
private:
    QString dataDir_, model_, files_;
    std::unique_ptr<App> app_;
    gd::uitest::EventLoopProbe probe_;
    QString picture_;   // 640×480 PNG, the first attachment
    qint64 imageChat_ = 0;

    Composer* composer() const { return app_->window->composer(); }
    QPlainTextEdit* input() const { return child<QPlainTextEdit>(app_->window.get(), "messageInput"); }
    QLabel* errorText() const { return child<QLabel>(app_->window.get(), "errorText"); }
    QWidget* errorBanner() const { return child<QWidget>(app_->window.get(), "errorBanner"); }

    QString writeFile(const QString& name, const QByteArray& bytes) {
        const QString path = QDir(files_).filePath(name);
        QFile f(path);
        if (!f.open(QIODevice::WriteOnly) || f.write(bytes) != bytes.size()) qFatal("cannot write %s", qPrintable(path));
        return path;
    }
    QString writePng(const QString& name, const QImage& image) {
        const QString path = QDir(files_).filePath(name);
        if (!image.save(path, "PNG")) qFatal("cannot write %s", qPrintable(path));
        return path;
    }
    // A drag of `files` entering the conversation and dropped there, as a file manager does it.
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
    // The images of the first message of the chat the send tests share ({} when there is none, so
    // a failure earlier does not crash the tests after it).
    QList<StoredImage> firstMessageImages() const {
        const QList<StoredMessage> messages = app_->store->messages(imageChat_);
        return messages.isEmpty() ? QList<StoredImage>{} : imagesFromMeta(messages.front().meta);
    }
    QWidget* conversationArea() const { return app_->window->chatView()->viewport(); }
    bool waitForReady(int cards) {
        return QTest::qWaitFor([&] { return !composer()->imagesPending() && composer()->images().size() == cards; }, kLong);
    }
    // Clicks Send and waits for the answer; returns its message id (0 on failure). A probe given
    // runs from the moment the click has returned (the message is stored and shown, the engine
    // starts reading the images) to the end of the answer: the stalls of encoding and answering,
    // not of the send itself, which tst_main_window measures for every message.
    qint64 sendAndWait(gd::uitest::EventLoopProbe* probe = nullptr) {
        QSignalSpy done(app_->window.get(), &MainWindow::answerFinished);
        QSignalSpy failed(app_->window.get(), &MainWindow::answerFailed);
        QTest::mouseClick(child<QPushButton>(composer(), "sendButton"), Qt::LeftButton);
        if (probe) probe->start();
        const bool answered = QTest::qWaitFor([&] { return done.count() + failed.count() > 0; }, kLong);
        if (probe) probe->stop();
        if (!answered) return 0;
        if (!failed.isEmpty()) qWarning("answer failed: %s", qPrintable(failed.front().at(0).toString()));
        return done.isEmpty() ? 0 : done.front().at(0).toLongLong();
    }
    void dismissError() { QTest::mouseClick(child<QToolButton>(app_->window.get(), "dismissErrorButton"), Qt::LeftButton); }
    // Answers the next modal dialog (a QMessageBox question, the settings) from inside its exec().
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

    void setDefaultBudgetInSettings(int budget) {
        whenModal([budget](QWidget* dialog) {
            auto* combo = child<QComboBox>(dialog, "imageBudgetCombo");
            combo->setCurrentIndex(combo->findData(budget));
            child<QDialogButtonBox>(dialog, "settingsButtons")->button(QDialogButtonBox::Ok)->click();
        });
        app_->window->openSettings();
    }

private slots:
    void initTestCase() {
        // Qt's own file dialog, which a test can drive, also where the desktop would offer its own.
        QCoreApplication::setAttribute(Qt::AA_DontUseNativeDialogs);
        const QString home = gd::uitest::scratchDir(QStringLiteral("image-home"));
        qputenv("HOME", home.toUtf8());
        qputenv("HF_HOME", (home + QStringLiteral("/hf")).toUtf8());
        model_ = gd::uitest::tinyModel();
        files_ = gd::uitest::scratchDir(QStringLiteral("image-files"));
        dataDir_ = gd::uitest::scratchDir(QStringLiteral("image-app"));
        picture_ = writePng(QStringLiteral("garden.png"), testPicture(640, 480));
        app_ = std::make_unique<App>(dataDir_);
        app_->settings->setMaxAnswerTokens(24);
        QVERIFY(QTest::qWaitForWindowExposed(app_->window.get()));
        QSignalSpy loaded(app_->engine.get(), &EngineController::loaded);
        app_->window->loadModel({model_});
        QVERIFY(loaded.wait(kLong));
        QVERIFY2(app_->engine->model()->vision, "the tiny GGUF's mmproj (next to it) gives it a vision tower");
    }

    void dropOnTheConversationAttaches() {
        input()->setPlainText(QStringLiteral("What is in this picture?"));
        QVERIFY(!composer()->attachmentStrip()->isVisible());
        probe_.start();
        QVERIFY(dropFiles(conversationArea(), {picture_}));
        QVERIFY(composer()->attachmentStrip()->isVisible());
        QVERIFY(waitForReady(1));
        probe_.stop();
        qInfo("longest UI stall while attaching a 640x480 PNG: %lld ms", probe_.maxGapMs());
        QVERIFY2(probe_.maxGapMs() <= kStallLimitMs, qPrintable(QStringLiteral("UI stalled %1 ms attaching").arg(probe_.maxGapMs())));
        const StoredImage image = composer()->images().front();
        QCOMPARE(image.name, QStringLiteral("garden.png"));
        QCOMPARE(image.width, 640);
        QCOMPARE(image.height, 480);
        QCOMPARE(image.budget, 280);  // the settings' default
        QVERIFY(image.file.startsWith(QStringLiteral("images/")));
        QVERIFY2(QFileInfo::exists(QDir(dataDir_).filePath(image.file)), "a copy is stored in the data folder");
        QCOMPARE(input()->toPlainText(), QStringLiteral("What is in this picture?"));  // the text is untouched
    }

    void sliderShowsTheSizingRule() {
        QCOMPARE(composer()->imageCards().size(), 1);
        ImageAttachmentCard* card = composer()->imageCards().front();
        auto* slider = child<QSlider>(card, "imageBudgetSlider");
        auto* label = child<QLabel>(card, "imageBudgetLabel");
        QCOMPARE(slider->minimum(), 0);
        QCOMPARE(slider->maximum(), 4);
        QCOMPARE(label->text(), expectedDetail(640, 480, 280));
        for (int i = 0; i < 5; ++i) {
            const int budget = int(gd::kImageBudgets[i]);
            slider->setValue(i);
            QCOMPARE(card->budget(), budget);
            QCOMPARE(label->text(), expectedDetail(640, 480, budget));
            QCOMPARE(composer()->images().front().budget, budget);
        }
        // Keyboard: one step down from 1120 is 560.
        slider->setFocus();
        QTest::keyClick(slider, Qt::Key_Left);
        QCOMPARE(card->budget(), 560);
        QCOMPARE(label->text(), expectedDetail(640, 480, 560));
        slider->setValue(1);  // 140: sent like this
        QCOMPARE(label->text(), expectedDetail(640, 480, 140));
        QVERIFY(!slider->accessibleName().isEmpty());
        QVERIFY(!child<QToolButton>(card, "removeImageButton")->accessibleName().isEmpty());
    }

    void previewIsWhatTheModelSees() {
        QCOMPARE(composer()->imageCards().size(), 1);
        ImageAttachmentCard* card = composer()->imageCards().front();
        QTest::mouseClick(child<QToolButton>(card, "imageCardThumbnail"), Qt::LeftButton);
        auto* dialog = app_->window->findChild<ImageViewDialog*>(QStringLiteral("imageViewDialog"));
        QVERIFY(dialog);
        QTRY_VERIFY_WITH_TIMEOUT(!dialog->image().isNull(), kLong);
        const gd::ImageTargetSize size = gd::image_target_size(480, 640, 140);
        QCOMPARE(dialog->image().size(), QSize(int(size.width), int(size.height)));
        // Pixel for pixel the engine's resize of the decoded file.
        const QString stored = QDir(dataDir_).filePath(composer()->images().front().file);
        const QImage expected = toQImage(gd::resize_bicubic_antialias(gd::decode_image_file(stored.toStdString()), size.height, size.width));
        QCOMPARE(dialog->image().convertToFormat(QImage::Format_RGB888), expected);
        QVERIFY(child<QLabel>(dialog, "imageViewCaption")->text().contains(expectedDetail(640, 480, 140)));
        dialog->close();
    }

    void pasteFromTheClipboard() {
        QGuiApplication::clipboard()->setImage(testPicture(300, 900));
        input()->setFocus();
        QTest::keyClick(input(), Qt::Key_V, Qt::ControlModifier);
        QVERIFY(waitForReady(2));
        const StoredImage pasted = composer()->images().at(1);
        QCOMPARE(pasted.width, 300);
        QCOMPARE(pasted.height, 900);
        QVERIFY(pasted.file.endsWith(QStringLiteral(".png")));
        QCOMPARE(child<QLabel>(composer()->imageCards().at(1), "imageBudgetLabel")->text(), expectedDetail(300, 900, 280));
        QCOMPARE(input()->toPlainText(), QStringLiteral("What is in this picture?"));  // no text was pasted
        gd::uitest::screenshot(app_->window.get(), QStringLiteral("image-attach"));
    }

    void sendWithImagesAnswersAndStores() {
        QSignalSpy progress(app_->engine.get(), &EngineController::progress);
        const qint64 answer = sendAndWait(&probe_);
        QVERIFY(answer > 0);
        imageChat_ = app_->window->currentConversation();
        qInfo("longest UI stall while encoding two images and answering: %lld ms", probe_.maxGapMs());
        QVERIFY2(probe_.maxGapMs() <= kStallLimitMs, qPrintable(QStringLiteral("UI stalled %1 ms").arg(probe_.maxGapMs())));
        QVERIFY(progress.count() >= 2);  // "reading image 1 of 2…", "… 2 of 2…"
        QVERIFY(progress.front().at(1).toString().contains(QStringLiteral("1 of 2")));
        QVERIFY(composer()->images().isEmpty());
        QVERIFY(!composer()->attachmentStrip()->isVisible());
        QVERIFY(input()->toPlainText().isEmpty());

        const QList<StoredMessage> stored = app_->store->messages(imageChat_);
        QCOMPARE(stored.size(), 2);
        const QList<StoredImage> images = imagesFromMeta(stored[0].meta);
        QCOMPARE(images.size(), 2);
        QCOMPARE(images[0].name, QStringLiteral("garden.png"));
        QCOMPARE(images[0].budget, 140);
        QCOMPARE(images[0].width, 640);
        QCOMPARE(images[1].budget, 280);
        for (const StoredImage& image : images) QVERIFY(QFileInfo::exists(QDir(dataDir_).filePath(image.file)));
        QVERIFY(stored[0].meta.value(QStringLiteral("attachments")).toArray().at(0).toObject().value(QStringLiteral("kind")) == QStringLiteral("image"));
        // The images reached the model: the prompt holds their soft tokens.
        const qint64 softTokens = gd::image_target_size(480, 640, 140).soft_tokens() + gd::image_target_size(900, 300, 280).soft_tokens();
        QVERIFY2(stored[1].meta.value(QStringLiteral("prompt_tokens")).toInteger() > softTokens,
                 qPrintable(QStringLiteral("prompt of %1 tokens").arg(stored[1].meta.value(QStringLiteral("prompt_tokens")).toInteger())));

        // The sent message shows both images.
        MessageWidget* user = app_->window->chatView()->messages().front();
        QCOMPARE(user->images(), images);
        const QList<QToolButton*> thumbs = user->findChildren<QToolButton*>(QStringLiteral("messageImage"));
        QCOMPARE(thumbs.size(), 2);
        for (QToolButton* t : thumbs) QTRY_VERIFY_WITH_TIMEOUT(!t->icon().isNull(), kLong);
        gd::uitest::screenshot(app_->window.get(), QStringLiteral("image-answer"));
        // A click shows it larger.
        QTest::mouseClick(thumbs.front(), Qt::LeftButton);
        auto* dialog = app_->window->findChild<ImageViewDialog*>(QStringLiteral("imageViewDialog"));
        QVERIFY(dialog);
        QTRY_VERIFY_WITH_TIMEOUT(!dialog->image().isNull(), kLong);
        QCOMPARE(dialog->image().size(), QSize(640, 480));
        dialog->close();
    }

    void regenerateKeepsTheImages() {
        const QList<StoredMessage> before = app_->store->messages(imageChat_);
        QCOMPARE(before.size(), 2);
        MessageWidget* last = app_->window->chatView()->lastMessage();
        QSignalSpy done(app_->window.get(), &MainWindow::answerFinished);
        QTest::mouseClick(child<QToolButton>(last, "regenerateButton"), Qt::LeftButton);
        QTRY_VERIFY_WITH_TIMEOUT(done.count() > 0, kLong);
        const QList<StoredMessage> after = app_->store->messages(imageChat_);
        QCOMPARE(after.size(), 2);
        QCOMPARE(after[0].meta, before[0].meta);
        // The same prompt, images included.
        QCOMPARE(after[1].meta.value(QStringLiteral("prompt_tokens")), before[1].meta.value(QStringLiteral("prompt_tokens")));
        QCOMPARE(app_->window->chatView()->messages().front()->images().size(), 2);
    }

    void editKeepsTheImages() {
        const QList<StoredImage> images = firstMessageImages();
        QCOMPARE(images.size(), 2);
        MessageWidget* first = app_->window->chatView()->messages().front();
        QTest::mouseClick(child<QToolButton>(first, "editButton"), Qt::LeftButton);
        QCOMPARE(composer()->images(), images);
        QCOMPARE(composer()->imageCards().size(), 2);
        QCOMPARE(composer()->imageCards().front()->budget(), 140);
        // Drop the pasted one, keep the photo.
        QTest::mouseClick(child<QToolButton>(composer()->imageCards().at(1), "removeImageButton"), Qt::LeftButton);
        QCOMPARE(composer()->images().size(), 1);
        input()->setPlainText(QStringLiteral("Describe the colours"));
        QVERIFY(sendAndWait() > 0);
        const QList<StoredMessage> after = app_->store->messages(imageChat_);
        QCOMPARE(after.size(), 2);
        QCOMPARE(after[0].text, QStringLiteral("Describe the colours"));
        QCOMPARE(imagesFromMeta(after[0].meta), QList<StoredImage>{images[0]});
        QVERIFY(QFileInfo::exists(QDir(dataDir_).filePath(images[0].file)));
        // The pasted image is no longer in any message: its copy is deleted.
        QTRY_VERIFY(!QFileInfo::exists(QDir(dataDir_).filePath(images[1].file)));
    }

    void fourKImageKeepsTheUiResponsive() {
        const QString big = writePng(QStringLiteral("city-4k.png"), testPicture(3840, 2160, true));
        app_->window->newConversation();
        input()->setPlainText(QStringLiteral("Where is this?"));
        probe_.start();
        QVERIFY(dropFiles(composer(), {big}));  // (on the composer this time)
        QVERIFY(waitForReady(1));
        probe_.stop();
        qInfo("longest UI stall while attaching a 4K PNG: %lld ms", probe_.maxGapMs());
        QVERIFY2(probe_.maxGapMs() <= kStallLimitMs, qPrintable(QStringLiteral("UI stalled %1 ms attaching 4K").arg(probe_.maxGapMs())));
        QCOMPARE(child<QLabel>(composer()->imageCards().front(), "imageBudgetLabel")->text(), expectedDetail(3840, 2160, 280));
        QVERIFY(sendAndWait(&probe_) > 0);
        qInfo("longest UI stall while encoding a 4K PNG and answering: %lld ms", probe_.maxGapMs());
        QVERIFY2(probe_.maxGapMs() <= kStallLimitMs, qPrintable(QStringLiteral("UI stalled %1 ms encoding 4K").arg(probe_.maxGapMs())));

        // A follow-up in the same chat: the image stays in the conversation without being read or
        // encoded again, and its soft tokens come from the KV cache.
        QSignalSpy progress(app_->engine.get(), &EngineController::progress);
        QSignalSpy finished(app_->engine.get(), &EngineController::finished);
        input()->setPlainText(QStringLiteral("And what time of day is it?"));
        QVERIFY(sendAndWait() > 0);
        QCOMPARE(progress.count(), 0);
        QCOMPARE(finished.count(), 1);
        const auto summary = finished.front().at(1).value<GenerationSummary>();
        const qint64 softTokens = gd::image_target_size(2160, 3840, 280).soft_tokens();
        qInfo("follow-up: prompt %lld tokens, %lld prefilled", summary.promptTokens, summary.prefilledTokens);
        QVERIFY(summary.promptTokens > softTokens);
        QVERIFY(summary.prefilledTokens < summary.promptTokens - softTokens);
    }

    void attachDialogAddsFiles() {
        app_->window->newConversation();
        const QString second = writePng(QStringLiteral("second.png"), testPicture(200, 200));
        QTest::mouseClick(child<QToolButton>(composer(), "attachImageButton"), Qt::LeftButton);
        auto* dialog = composer()->findChild<QFileDialog*>(QStringLiteral("attachImageDialog"));
        QVERIFY(dialog);
        QVERIFY(dialog->nameFilters().front().contains(QStringLiteral("*.webp")));
        dialog->setDirectory(files_);
        dialog->selectFile(second);
        static_cast<QDialog*>(dialog)->accept();  // (public there) what the Open button does
        QVERIFY(waitForReady(1));
        QCOMPARE(composer()->images().front().name, QStringLiteral("second.png"));
        QCOMPARE(composer()->images().front().width, 200);
        composer()->clear();
    }

    void manyImagesScrollInsteadOfWideningTheWindow() {
        const int width = app_->window->width();
        composer()->attachFiles(QStringList(8, picture_));
        QVERIFY(waitForReady(8));
        QCoreApplication::processEvents();
        QCOMPARE(app_->window->width(), width);
        composer()->clear();
        QVERIFY(!composer()->attachmentStrip()->isVisible());
    }

    void badFilesGiveAPlainErrorAndKeepTheMessage() {
        QFile good(picture_);
        QVERIFY(good.open(QIODevice::ReadOnly));
        const QByteArray png = good.readAll();
        QByteArray noise(4096, '\0');
        for (char& c : noise) c = char(QRandomGenerator::global()->bounded(256));
        const QList<QPair<QString, QByteArray>> cases = {
            {QStringLiteral("corrupt.png"), QByteArray("\x89PNG\r\n\x1a\n", 8) + noise},
            {QStringLiteral("truncated.png"), png.left(png.size() / 3)},
            {QStringLiteral("empty.png"), QByteArray()},
            {QStringLiteral("notes.jpg"), QByteArray("These are my notes, not a picture.\n")},
            {QStringLiteral("bomb.png"), pngBomb()},
        };
        const QString question = QStringLiteral("Keep this question");
        input()->setPlainText(question);
        const qint64 peakBefore = peakRssKb();
        for (const auto& [name, bytes] : cases) {
            const QString path = writeFile(name, bytes);
            QVERIFY(dropFiles(conversationArea(), {path}));
            QTRY_VERIFY_WITH_TIMEOUT(!composer()->imagesPending(), kLong);
            QVERIFY2(errorBanner()->isVisible(), qPrintable(name));
            QVERIFY2(errorText()->text().contains(name), qPrintable(errorText()->text()));
            qInfo("%s: %s", qPrintable(name), qPrintable(errorText()->text()));
            QVERIFY(composer()->imageCards().isEmpty());
            QCOMPARE(input()->toPlainText(), question);
            dismissError();
        }
        const qint64 grownMb = (peakRssKb() - peakBefore) / 1024;
        qInfo("peak memory grew %lld MB while refusing the bad files", grownMb);
        QVERIFY2(grownMb < 200, qPrintable(QStringLiteral("peak memory grew %1 MB").arg(grownMb)));
        input()->clear();
    }

    void damagedStoredCopyFailsPlainlyAndKeepsTheMessage() {
        // The copy in the data folder is damaged after attaching (a disk error, a hand edit): the
        // engine's decoder refuses it on the engine thread, and the answer fails in plain words.
        app_->window->newConversation();
        const QString path = writePng(QStringLiteral("harbour.png"), testPicture(160, 120).mirrored());
        QVERIFY(dropFiles(conversationArea(), {path}));
        QVERIFY(waitForReady(1));
        const StoredImage image = composer()->images().front();
        QFile stored(QDir(dataDir_).filePath(image.file));
        QVERIFY(stored.open(QIODevice::WriteOnly | QIODevice::Truncate));
        stored.write(QByteArray("\x89PNG\r\n\x1a\n", 8) + QByteArray(100, 'x'));
        stored.close();
        input()->setPlainText(QStringLiteral("What boats are these?"));
        QSignalSpy failed(app_->window.get(), &MainWindow::answerFailed);
        QTest::mouseClick(child<QPushButton>(composer(), "sendButton"), Qt::LeftButton);
        QTRY_VERIFY_WITH_TIMEOUT(failed.count() > 0, kLong);
        const QString message = failed.front().at(0).toString();
        qInfo("damaged stored copy: %s", qPrintable(message));
        QVERIFY2(message.contains(QStringLiteral("harbour.png")), qPrintable(message));
        QVERIFY(errorBanner()->isVisible());
        QCOMPARE(errorText()->text(), message);
        // The question and its image are kept, in the chat and in the history.
        const QList<StoredMessage> stored2 = app_->store->messages(app_->window->currentConversation());
        QVERIFY(!stored2.isEmpty());
        QCOMPARE(stored2.front().text, QStringLiteral("What boats are these?"));
        QCOMPARE(imagesFromMeta(stored2.front().meta), QList<StoredImage>{image});
        QCOMPARE(app_->window->chatView()->messages().front()->images().size(), 1);
        QVERIFY(!app_->engine->isGenerating());
        dismissError();
        // A later message in the same chat is answered: the engine is not left broken.
        input()->setPlainText(QStringLiteral("Never mind, say hello"));
        QVERIFY(sendAndWait() > 0);
    }

    void deletingTheChatDeletesItsImages() {
        app_->window->newConversation();
        const QString lone = writePng(QStringLiteral("lone.png"), testPicture(120, 90));
        QVERIFY(dropFiles(conversationArea(), {lone}));
        QVERIFY(waitForReady(1));
        const QString stored = QDir(dataDir_).filePath(composer()->images().front().file);
        input()->setPlainText(QStringLiteral("And this one?"));
        QVERIFY(sendAndWait() > 0);
        QVERIFY(QFileInfo::exists(stored));
        whenModal([](QWidget* box) {
            if (auto* m = qobject_cast<QMessageBox*>(box)) m->button(QMessageBox::Yes)->click();
        });
        QTest::mouseClick(child<QToolButton>(app_->window.get(), "deleteChatButton"), Qt::LeftButton);
        QCOMPARE(app_->window->currentConversation(), 0);
        QVERIFY(!QFileInfo::exists(stored));
        // The first chat's photo is still in use there.
        const QList<StoredImage> kept = firstMessageImages();
        QCOMPARE(kept.size(), 1);
        QVERIFY(QFileInfo::exists(QDir(dataDir_).filePath(kept.front().file)));
    }

    void defaultBudgetComesFromSettings() {
        setDefaultBudgetInSettings(560);
        QCOMPARE(app_->settings->imageBudget(), 560);
        QVERIFY(dropFiles(conversationArea(), {picture_}));
        QVERIFY(waitForReady(1));
        QCOMPARE(composer()->images().front().budget, 560);
        QCOMPARE(child<QLabel>(composer()->imageCards().front(), "imageBudgetLabel")->text(), expectedDetail(640, 480, 560));
        composer()->clear();
        setDefaultBudgetInSettings(280);
    }

    void historyShowsImagesAfterARestart() {
        const qint64 conv = imageChat_;
        QVERIFY(conv != 0);
        app_.reset();
        app_ = std::make_unique<App>(dataDir_);
        app_->window->openConversation(conv);
        MessageWidget* user = app_->window->chatView()->messages().front();
        QCOMPARE(user->images().size(), 1);
        auto* thumb = child<QToolButton>(user, "messageImage");
        QTRY_VERIFY_WITH_TIMEOUT(!thumb->icon().isNull(), kLong);
        // A stored copy that is gone shows a placeholder, not a crash.
        const qint64 lost = app_->store->createConversation(QStringLiteral("Lost image"));
        QJsonObject meta;
        setImagesInMeta(meta, {StoredImage{QStringLiteral("images/%1.png").arg(QString(64, QLatin1Char('0'))), QStringLiteral("gone.png"), 10, 10, 280}});
        app_->store->addMessage(lost, QStringLiteral("user"), QStringLiteral("Where did it go?"), meta);
        app_->window->openConversation(lost);
        auto* missing = child<QToolButton>(app_->window->chatView()->messages().front(), "messageImage");
        QTRY_COMPARE_WITH_TIMEOUT(missing->text(), QStringLiteral("image not found"), kLong);
    }

    void modelWithoutVisionRefusesAndKeepsTheMessage() {
        // The text model alone, without the mmproj beside it.
        const QString dir = gd::uitest::scratchDir(QStringLiteral("text-only"));
        const QString textOnly = QDir(dir).filePath(QFileInfo(model_).fileName());
        QVERIFY(QFile::copy(model_, textOnly));
        QSignalSpy loaded(app_->engine.get(), &EngineController::loaded);
        app_->window->loadModel({textOnly});
        QVERIFY(loaded.wait(kLong));
        QVERIFY(!app_->engine->model()->vision);
        app_->window->newConversation();
        const int conversations = int(app_->store->conversations().size());
        input()->setPlainText(QStringLiteral("What is this?"));
        QVERIFY(dropFiles(conversationArea(), {picture_}));  // attaching is allowed
        QVERIFY(waitForReady(1));
        QTest::mouseClick(child<QPushButton>(composer(), "sendButton"), Qt::LeftButton);
        QVERIFY(errorBanner()->isVisible());
        QCOMPARE(errorText()->text(), noImageInputMessage());
        QCOMPARE(input()->toPlainText(), QStringLiteral("What is this?"));
        QCOMPARE(composer()->images().size(), 1);
        QCOMPARE(int(app_->store->conversations().size()), conversations);
        QVERIFY(!app_->engine->isGenerating());
    }

    void inMemoryHistoryKeepsImagesInATemporaryFolder() {
        // When the history file can't be opened the app runs on an in-memory store (main.cpp):
        // images still attach, into a temporary folder that goes away with the window.
        QString error;
        std::unique_ptr<ChatStore> memory = ChatStore::open(QStringLiteral(":memory:"), &error);
        QVERIFY2(memory, qPrintable(error));
        AppSettings settings(QDir(gd::uitest::scratchDir(QStringLiteral("memory-settings"))).filePath(QStringLiteral("settings.ini")));
        QString root;
        {
            MainWindow window(*memory, settings, *app_->engine, QStringLiteral("test: no history file"));
            root = window.imageLibrary()->root();
            QVERIFY(!root.isEmpty());
            QVERIFY(!root.startsWith(dataDir_));
            window.composer()->attachFiles({picture_});
            QTRY_VERIFY_WITH_TIMEOUT(window.composer()->images().size() == 1, kLong);
            QVERIFY(QFileInfo::exists(QDir(root).filePath(window.composer()->images().front().file)));
        }
        QVERIFY(!QFileInfo::exists(root));
    }

    void accessibleNamesOnImageControls() {
        for (QWidget* w : app_->window->findChildren<QWidget*>()) {
            if (!qobject_cast<QAbstractButton*>(w) && !qobject_cast<QSlider*>(w)) continue;
            if (!w->isVisibleTo(app_->window.get())) continue;
            QVERIFY2(!w->accessibleName().isEmpty() ||
                         (qobject_cast<QAbstractButton*>(w) && !static_cast<QAbstractButton*>(w)->text().isEmpty()),
                     qPrintable(QStringLiteral("control %1 has no accessible name").arg(w->objectName())));
        }
    }

    void cleanupTestCase() { app_.reset(); }
};

QTEST_MAIN(ImageAttachmentsTest)
#include "tst_image_attachments.moc"
