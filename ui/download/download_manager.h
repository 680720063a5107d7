#pragma once
// Downloads one offering (a set of hub files) into "<root>/<org>--<name>/": lists the repository,
// checks disk space, then fetches the files one after another with pause, resume, cancel, retry
// with backoff and hash verification. No network object exists until the first start() or
// querySize().

#include "download/disk_space.h"
#include "download/download_messages.h"
#include "download/hub_catalog.h"
#include "download/hub_listing.h"

#include <QElapsedTimer>
#include <QHash>
#include <QObject>
#include <QPointer>
#include <QTimer>

namespace gd::ui {

class FileTransfer;
class HubClient;
class HubListingJob;

class DownloadManager : public QObject {
    Q_OBJECT
public:
    enum class State { Idle, Listing, Downloading, Paused, Verifying, Finished, Failed, Cancelled };
    Q_ENUM(State)

    explicit DownloadManager(QObject* parent = nullptr);
    ~DownloadManager() override;

    HubClient* hub() const { return hub_; }
    // A Hugging Face access token, for models whose license has to be accepted first.
    void setToken(const QString& token);
    // Tests replace how free space is measured.
    void setDiskSpaceProbe(DiskSpaceProbe probe) { probe_ = std::move(probe); }
    // How often a transient failure (dropped connection, 5xx) is retried, and the first wait; each
    // further wait doubles.
    void setRetryPolicy(int maxRetries, int firstDelayMs);

    State state() const { return state_; }
    bool busy() const;

    // "<root>/<org>--<name>" for "org/name".
    static QString modelFolder(const QString& root, const QString& repo);

    // Starts (or, when .part files exist, continues) a download. False when one is already running.
    bool start(const HubOffering& offering, const QString& destinationRoot);
    void pause();
    void resume();
    // Stops and deletes the .part files; finished files stay.
    void cancel();

    // Lists the offering's repository (once per session) and reports its download size.
    void querySize(const HubOffering& offering);

signals:
    void progress(quint64 bytesDone, quint64 bytesTotal, double bytesPerSecond);
    void fileStarted(const QString& path, quint64 bytes);
    void fileFinished(const QString& path);
    void stateChanged(gd::ui::DownloadManager::State state);
    void failed(const QString& message);
    // The folder (safetensors) or the text model's .gguf (GGUF; its mmproj lies beside it).
    void finished(const QString& modelPath);
    void sizeListed(const QString& offeringId, quint64 bytes);
    void sizeFailed(const QString& offeringId, const QString& message);

private:
    struct Planned {
        PlannedFile file;
        bool complete = false;
    };

    void setState(State state);
    void list(const QString& repo);
    void onListed(const QString& repo, const QList<HubFile>& files);
    void onListingFailed(const QString& repo, const HttpFailure& failure);
    void plan(const QList<HubFile>& files);
    void nextFile();
    void onFileSucceeded(bool downloaded);
    void onFileFailed(const HttpFailure& failure);
    void retryLater(std::function<void()> action);
    QString modelPath() const;
    void fail(const QString& message);
    void emitProgress(bool force);
    void recordComplete(const PlannedFile& file);
    QHash<QString, QString> readRecord() const;
    QString recordPath() const;
    quint64 bytesDone() const;

    HubClient* hub_;
    DiskSpaceProbe probe_;
    int maxRetries_ = 3;
    int firstDelayMs_ = 1000;

    State state_ = State::Idle;
    HubOffering offering_;
    QString folder_;
    bool downloading_ = false;  // a start() is in progress (as opposed to a size query)
    QList<Planned> files_;
    QString modelFile_;
    int current_ = -1;
    QPointer<FileTransfer> transfer_;
    int retries_ = 0;
    QTimer retryTimer_;

    QHash<QString, QList<HubFile>> listings_;          // repo → listing, for this session
    QHash<QString, QPointer<HubListingJob>> listing_;  // repo → job in flight
    QHash<QString, QList<HubOffering>> sizeQueries_;   // repo → offerings waiting for a size
    quint64 receivedAtFailure_ = 0;
    std::function<void()> retryAction_;

    // Speed over the last few seconds: (elapsed ms, bytes received so far).
    QElapsedTimer clock_;
    QList<QPair<qint64, quint64>> samples_;
    quint64 received_ = 0;
    qint64 lastProgressMs_ = -1;
};

}  // namespace gd::ui
