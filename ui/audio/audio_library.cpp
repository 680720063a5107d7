#include "audio/audio_library.h"

#include <QCoreApplication>
#include <QDir>
#include <QFile>
#include <QTemporaryDir>
#include "audio/audio_files.h"

namespace gd::ui {

AudioLibrary::AudioLibrary(const QString& root, QObject* parent) : QObject(parent), root_(root) {
    qRegisterMetaType<StoredAudio>();
    if (root_.isEmpty()) {
        temp_ = std::make_unique<QTemporaryDir>(QDir::temp().filePath(QStringLiteral("gemmadesk-audio-XXXXXX")));
        root_ = temp_->isValid() ? temp_->path() : QDir::tempPath();
    }
    // Two at a time, like images: decoding takes a core, the UI and the engine keep theirs.
    pool_.setMaxThreadCount(2);
    pool_.setObjectName(QStringLiteral("audio"));
}

AudioLibrary::~AudioLibrary() {
    // Jobs deliver through queued calls on this object: none may run once it is gone.
    pool_.clear();
    pool_.waitForDone();
}

template <typename Result>
void AudioLibrary::run(std::function<Result()> job, std::function<void(const Result&)> deliver) {
    pool_.start([this, job = std::move(job), deliver = std::move(deliver)] {
        Result result = job();
        QMetaObject::invokeMethod(this, [deliver, result = std::move(result)] { deliver(result); }, Qt::QueuedConnection);
    });
}

QString AudioLibrary::pathOf(const QString& file) const { return storedAudioPath(root_, file); }

void AudioLibrary::deliverAttach(quint64 ticket, const AudioAttachResult& r) {
    if (!r.error.isEmpty()) emit attachFailed(ticket, r.error);
    else emit attached(ticket, r.clip);
}

quint64 AudioLibrary::attachFile(const QString& path) {
    const quint64 ticket = nextTicket_++;
    run<AudioAttachResult>([root = root_, path] { return gd::ui::attachAudioFile(root, path); },
                           [this, ticket](const AudioAttachResult& r) { deliverAttach(ticket, r); });
    return ticket;
}

quint64 AudioLibrary::attachRecording(std::vector<float> samples, int rate, const QString& name) {
    const quint64 ticket = nextTicket_++;
    // The samples move into the job (ten minutes at 48 kHz are 115 MB of floats: never copied).
    auto shared = std::make_shared<std::vector<float>>(std::move(samples));
    run<AudioAttachResult>([root = root_, shared, rate, name] { return gd::ui::attachRecording(root, *shared, rate, name); },
                           [this, ticket](const AudioAttachResult& r) { deliverAttach(ticket, r); });
    return ticket;
}

quint64 AudioLibrary::decodeForPlayback(const QString& file) {
    const quint64 ticket = nextTicket_++;
    const QString path = pathOf(file);
    run<AudioPlaybackResult>(
        [path] {
            if (path.isEmpty() || !QFile::exists(path)) {
                AudioPlaybackResult r;
                r.error = QCoreApplication::translate("AudioAttachments", "the recording is no longer in the app's audio folder.");
                return r;
            }
            return gd::ui::decodeForPlayback(path);
        },
        [this, ticket](const AudioPlaybackResult& r) { emit decoded(ticket, r.pcm16, r.error); });
    return ticket;
}

void AudioLibrary::remove(const QString& file) {
    const QString path = pathOf(file);
    if (!path.isEmpty()) QFile::remove(path);
}

}  // namespace gd::ui
