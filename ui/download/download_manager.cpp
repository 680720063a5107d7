#include "download/download_manager.h"

#include "download/file_transfer.h"
#include "download/hub_client.h"
#include "download/hub_listing_job.h"

#include <QDir>
#include <QFileInfo>
#include <QJsonDocument>
#include <QJsonObject>
#include <QSaveFile>

namespace gd::ui {
namespace {

// Hidden record of the files this app verified, so a later start skips them without rehashing
// gigabytes: relative path → the hash the hub listed.
constexpr auto kRecordName = ".gemmadesk-download.json";
constexpr qint64 kProgressIntervalMs = 100;
constexpr qint64 kSpeedWindowMs = 3000;

}  // namespace

DownloadManager::DownloadManager(QObject* parent)
    : QObject(parent), hub_(new HubClient(this)), probe_(probeDiskSpace) {
    retryTimer_.setSingleShot(true);
    connect(&retryTimer_, &QTimer::timeout, this, [this] {
        if (auto action = std::exchange(retryAction_, nullptr)) action();
    });
}

DownloadManager::~DownloadManager() {
    // Before the HubClient (and with it the network manager) goes away.
    retryTimer_.stop();
    delete transfer_;
    for (const auto& job : std::as_const(listing_)) delete job;
}

void DownloadManager::setToken(const QString& token) {
    hub_->setToken(token);
}

void DownloadManager::setRetryPolicy(int maxRetries, int firstDelayMs) {
    maxRetries_ = std::max(0, maxRetries);
    firstDelayMs_ = std::max(0, firstDelayMs);
}

bool DownloadManager::busy() const {
    return state_ == State::Listing || state_ == State::Downloading || state_ == State::Paused ||
           state_ == State::Verifying;
}

QString DownloadManager::modelFolder(const QString& root, const QString& repo) {
    QString name = repo;
    name.replace(QLatin1Char('/'), QStringLiteral("--"));
    return QDir(root).filePath(name);
}

bool DownloadManager::start(const HubOffering& offering, const QString& destinationRoot) {
    if (busy()) return false;
    retryTimer_.stop();
    retryAction_ = nullptr;
    offering_ = offering;
    folder_ = modelFolder(destinationRoot, offering.repo);
    files_.clear();
    modelFile_.clear();
    current_ = -1;
    retries_ = 0;
    received_ = 0;
    receivedAtFailure_ = 0;
    samples_.clear();
    lastProgressMs_ = -1;
    clock_.restart();
    downloading_ = true;
    setState(State::Listing);
    if (listings_.contains(offering.repo)) {
        // Listed earlier this session (the size query): no second request. Planned from the event
        // loop so start() never emits before it returns.
        const QString repo = offering.repo;
        QTimer::singleShot(0, this, [this, repo] {
            if (state_ == State::Listing && offering_.repo == repo) plan(listings_.value(repo));
        });
    } else {
        list(offering.repo);
    }
    return true;
}

void DownloadManager::querySize(const HubOffering& offering) {
    if (listings_.contains(offering.repo)) {
        QTimer::singleShot(0, this, [this, offering] {
            const FileSelection sel = selectFiles(offering, listings_.value(offering.repo));
            if (sel.error.isEmpty())
                emit sizeListed(offering.id, totalSize(sel.files));
            else
                emit sizeFailed(offering.id, sel.error);
        });
        return;
    }
    sizeQueries_[offering.repo].append(offering);
    list(offering.repo);
}

void DownloadManager::list(const QString& repo) {
    if (listing_.value(repo)) return;  // already on its way; its answer serves every asker
    auto* job = new HubListingJob(hub_, repo, this);
    listing_.insert(repo, job);
    connect(job, &HubListingJob::listed, this,
            [this, repo](const QList<HubFile>& files) { onListed(repo, files); });
    connect(job, &HubListingJob::failed, this,
            [this, repo](const HttpFailure& failure) { onListingFailed(repo, failure); });
    job->start();
}

void DownloadManager::onListed(const QString& repo, const QList<HubFile>& files) {
    if (auto job = listing_.take(repo)) job->deleteLater();
    listings_.insert(repo, files);
    for (const HubOffering& o : sizeQueries_.take(repo)) {
        const FileSelection sel = selectFiles(o, files);
        if (sel.error.isEmpty())
            emit sizeListed(o.id, totalSize(sel.files));
        else
            emit sizeFailed(o.id, sel.error);
    }
    if (downloading_ && state_ == State::Listing && offering_.repo == repo) plan(files);
}

void DownloadManager::onListingFailed(const QString& repo, const HttpFailure& failure) {
    if (auto job = listing_.take(repo)) job->deleteLater();
    for (const HubOffering& o : sizeQueries_.take(repo)) emit sizeFailed(o.id, failure.message);
    if (!(downloading_ && state_ == State::Listing && offering_.repo == repo)) return;
    if (failure.transient && retries_ < maxRetries_) {
        ++retries_;
        retryLater([this, repo] {
            if (state_ == State::Listing) list(repo);
        });
        return;
    }
    fail(failure.message);
}

void DownloadManager::plan(const QList<HubFile>& listing) {
    const FileSelection sel = selectFiles(offering_, listing);
    if (!sel.error.isEmpty()) {
        fail(sel.error);
        return;
    }
    modelFile_ = sel.modelFile;
    const QHash<QString, QString> record = readRecord();
    quint64 remaining = 0;
    files_.clear();
    for (const PlannedFile& f : sel.files) {
        const QString finalPath = QDir(folder_).filePath(f.localPath);
        const QFileInfo final(finalPath);
        Planned p{f, false};
        p.complete = final.exists() && static_cast<quint64>(final.size()) == f.remote.size &&
                     record.value(f.localPath) == f.remote.expectedHash();
        if (!p.complete && !(final.exists() && static_cast<quint64>(final.size()) == f.remote.size)) {
            const QFileInfo part(finalPath + QStringLiteral(".part"));
            const quint64 have = part.exists() ? static_cast<quint64>(part.size()) : 0;
            remaining += have <= f.remote.size ? f.remote.size - have : f.remote.size;
        }
        files_.append(p);
    }
    // Refused before any file is requested, with the numbers the user needs to act on it.
    const DiskSpace space = probe_(folder_);
    if (remaining > 0 && space.known && space.available < spaceNeeded(remaining)) {
        fail(DownloadMessages::notEnoughSpace(spaceNeeded(remaining), space.available, space.volume));
        return;
    }
    setState(State::Downloading);
    emitProgress(true);
    nextFile();
}

void DownloadManager::nextFile() {
    while (++current_ < files_.size() && files_[current_].complete) {
    }
    if (current_ >= files_.size()) {
        downloading_ = false;
        emitProgress(true);
        setState(State::Finished);
        emit finished(modelPath());
        return;
    }
    auto* transfer = new FileTransfer(hub_, offering_.repo, files_[current_].file, folder_, this);
    transfer_ = transfer;
    connect(transfer, &FileTransfer::checking, this, [this] { setState(State::Verifying); });
    connect(transfer, &FileTransfer::transferring, this, [this] { setState(State::Downloading); });
    connect(transfer, &FileTransfer::progressed, this, [this](quint64, quint64 received) {
        received_ += received;
        emitProgress(false);
    });
    connect(transfer, &FileTransfer::succeeded, this, &DownloadManager::onFileSucceeded);
    connect(transfer, &FileTransfer::failed, this, &DownloadManager::onFileFailed);
    retries_ = 0;
    receivedAtFailure_ = received_;
    emit fileStarted(transfer->finalPath(), files_[current_].file.remote.size);
    transfer->start();
}

void DownloadManager::onFileSucceeded(bool) {
    Planned& p = files_[current_];
    p.complete = true;
    recordComplete(p.file);
    const QString path = transfer_->finalPath();
    transfer_->deleteLater();
    transfer_ = nullptr;
    emit fileFinished(path);
    emitProgress(true);
    nextFile();
}

void DownloadManager::onFileFailed(const HttpFailure& failure) {
    // A connection that moved bytes since the last failure earns a fresh set of retries: a long
    // download over a flaky line should not die on its fourth hiccup in an hour.
    if (received_ > receivedAtFailure_) retries_ = 0;
    receivedAtFailure_ = received_;
    if (failure.transient && retries_ < maxRetries_) {
        ++retries_;
        retryLater([this] {
            if (transfer_ && (state_ == State::Downloading || state_ == State::Verifying)) transfer_->start();
        });
        return;
    }
    fail(failure.message);
}

void DownloadManager::retryLater(std::function<void()> action) {
    retryAction_ = std::move(action);
    retryTimer_.start(firstDelayMs_ << std::min(retries_ - 1, 10));
}

void DownloadManager::pause() {
    if (state_ != State::Downloading && state_ != State::Verifying) return;
    retryTimer_.stop();
    if (transfer_) transfer_->stop();
    setState(State::Paused);
    emitProgress(true);
}

void DownloadManager::resume() {
    if (state_ != State::Paused) return;
    retries_ = 0;
    setState(State::Downloading);
    clock_.restart();
    samples_.clear();
    if (transfer_)
        transfer_->start();
    else if (retryAction_)
        retryTimer_.start(0);
}

void DownloadManager::cancel() {
    if (!busy() && state_ != State::Failed) return;
    retryTimer_.stop();
    retryAction_ = nullptr;
    if (transfer_) {
        transfer_->discard();
        transfer_->deleteLater();
        transfer_ = nullptr;
    }
    for (const Planned& p : std::as_const(files_))
        if (!p.complete) QFile::remove(QDir(folder_).filePath(p.file.localPath) + QStringLiteral(".part"));
    downloading_ = false;
    setState(State::Cancelled);
}

void DownloadManager::fail(const QString& message) {
    retryTimer_.stop();
    retryAction_ = nullptr;
    if (transfer_) {
        transfer_->stop();  // the .part stays: pressing Download again continues from it
        transfer_->deleteLater();
        transfer_ = nullptr;
    }
    downloading_ = false;
    setState(State::Failed);
    emit failed(message);
}

void DownloadManager::setState(State state) {
    if (state_ == state) return;
    state_ = state;
    emit stateChanged(state);
}

quint64 DownloadManager::bytesDone() const {
    quint64 done = 0;
    for (const Planned& p : files_)
        if (p.complete) done += p.file.remote.size;
    if (transfer_) done += transfer_->bytesOnDisk();
    return done;
}

void DownloadManager::emitProgress(bool force) {
    const qint64 now = clock_.isValid() ? clock_.elapsed() : 0;
    if (!force && lastProgressMs_ >= 0 && now - lastProgressMs_ < kProgressIntervalMs) return;
    lastProgressMs_ = now;
    samples_.append({now, received_});
    while (samples_.size() > 2 && now - samples_.first().first > kSpeedWindowMs) samples_.removeFirst();
    double speed = 0;
    const qint64 span = now - samples_.first().first;
    if (state_ == State::Downloading && span > 0)
        speed = double(samples_.last().second - samples_.first().second) * 1000.0 / double(span);
    quint64 total = 0;
    for (const Planned& p : std::as_const(files_)) total += p.file.remote.size;
    emit progress(bytesDone(), total, speed);
}

QString DownloadManager::modelPath() const {
    return offering_.format == HubFormat::Gguf ? QDir(folder_).filePath(modelFile_) : folder_;
}

QString DownloadManager::recordPath() const {
    return QDir(folder_).filePath(QLatin1String(kRecordName));
}

QHash<QString, QString> DownloadManager::readRecord() const {
    QHash<QString, QString> record;
    QFile file(recordPath());
    if (!file.open(QIODevice::ReadOnly)) return record;
    const QJsonObject files =
        QJsonDocument::fromJson(file.readAll()).object().value(QLatin1String("files")).toObject();
    for (auto it = files.begin(); it != files.end(); ++it) record.insert(it.key(), it.value().toString());
    return record;
}

void DownloadManager::recordComplete(const PlannedFile& file) {
    QJsonObject files;
    const QHash<QString, QString> record = readRecord();
    for (auto it = record.begin(); it != record.end(); ++it) files.insert(it.key(), it.value());
    files.insert(file.localPath, file.remote.expectedHash());
    QJsonObject root;
    root.insert(QLatin1String("repo"), offering_.repo);
    root.insert(QLatin1String("files"), files);
    // Written after every file, atomically, so a crash later in the download keeps what is done.
    QSaveFile out(recordPath());
    if (out.open(QIODevice::WriteOnly)) {
        out.write(QJsonDocument(root).toJson());
        out.commit();
    }
}

}  // namespace gd::ui
