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

  HubClient* hub() const { return m_hub; }
  // A Hugging Face access token, for models whose license has to be accepted first.
  void setToken(const QString& token);
  // Tests replace how free space is measured.
  void setDiskSpaceProbe(DiskSpaceProbe probe) { m_probe = std::move(probe); }
  // How often a transient failure (dropped connection, 5xx) is retried, and the first wait; each
  // further wait doubles.
  void setRetryPolicy(int maxRetries, int firstDelayMs);

  State state() const { return m_state; }
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

  HubClient* m_hub;
  DiskSpaceProbe m_probe;
  int m_maxRetries = 3;
  int m_firstDelayMs = 1000;

  State m_state = State::Idle;
  HubOffering m_offering;
  QString m_folder;
  bool m_downloading = false;  // a start() is in progress (as opposed to a size query)
  QList<Planned> m_files;
  QString m_modelFile;
  int m_current = -1;
  QPointer<FileTransfer> m_transfer;
  int m_retries = 0;
  QTimer m_retryTimer;

  QHash<QString, QList<HubFile>> m_listings;          // repo → listing, for this session
  QHash<QString, QPointer<HubListingJob>> m_listing;  // repo → job in flight
  QHash<QString, QList<HubOffering>> m_sizeQueries;   // repo → offerings waiting for a size
  quint64 m_receivedAtFailure = 0;
  std::function<void()> m_retryAction;

  // Speed over the last few seconds: (elapsed ms, bytes received so far).
  QElapsedTimer m_clock;
  QList<QPair<qint64, quint64>> m_samples;
  quint64 m_received = 0;
  qint64 m_lastProgressMs = -1;
};

}  // namespace gd::ui
