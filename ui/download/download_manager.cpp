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
    : QObject(parent), m_hub(new HubClient(this)), m_probe(probeDiskSpace) {
  m_retryTimer.setSingleShot(true);
  connect(&m_retryTimer, &QTimer::timeout, this, [this] {
    if (auto action = std::exchange(m_retryAction, nullptr)) action();
  });
}

DownloadManager::~DownloadManager() {
  // Before the HubClient (and with it the network manager) goes away.
  m_retryTimer.stop();
  delete m_transfer;
  for (const auto& job : std::as_const(m_listing)) delete job;
}

void DownloadManager::setToken(const QString& token) { m_hub->setToken(token); }

void DownloadManager::setRetryPolicy(int maxRetries, int firstDelayMs) {
  m_maxRetries = std::max(0, maxRetries);
  m_firstDelayMs = std::max(0, firstDelayMs);
}

bool DownloadManager::busy() const {
  return m_state == State::Listing || m_state == State::Downloading || m_state == State::Paused ||
         m_state == State::Verifying;
}

QString DownloadManager::modelFolder(const QString& root, const QString& repo) {
  QString name = repo;
  name.replace(QLatin1Char('/'), QStringLiteral("--"));
  return QDir(root).filePath(name);
}

bool DownloadManager::start(const HubOffering& offering, const QString& destinationRoot) {
  if (busy()) return false;
  m_retryTimer.stop();
  m_retryAction = nullptr;
  m_offering = offering;
  m_folder = modelFolder(destinationRoot, offering.repo);
  m_files.clear();
  m_modelFile.clear();
  m_current = -1;
  m_retries = 0;
  m_received = 0;
  m_receivedAtFailure = 0;
  m_samples.clear();
  m_lastProgressMs = -1;
  m_clock.restart();
  m_downloading = true;
  setState(State::Listing);
  if (m_listings.contains(offering.repo)) {
    // Listed earlier this session (the size query): no second request. Planned from the event
    // loop so start() never emits before it returns.
    const QString repo = offering.repo;
    QTimer::singleShot(0, this, [this, repo] {
      if (m_state == State::Listing && m_offering.repo == repo) plan(m_listings.value(repo));
    });
  } else {
    list(offering.repo);
  }
  return true;
}

void DownloadManager::querySize(const HubOffering& offering) {
  if (m_listings.contains(offering.repo)) {
    QTimer::singleShot(0, this, [this, offering] {
      const FileSelection sel = selectFiles(offering, m_listings.value(offering.repo));
      if (sel.error.isEmpty())
        emit sizeListed(offering.id, totalSize(sel.files));
      else
        emit sizeFailed(offering.id, sel.error);
    });
    return;
  }
  m_sizeQueries[offering.repo].append(offering);
  list(offering.repo);
}

void DownloadManager::list(const QString& repo) {
  if (m_listing.value(repo)) return;  // already on its way; its answer serves every asker
  auto* job = new HubListingJob(m_hub, repo, this);
  m_listing.insert(repo, job);
  connect(job, &HubListingJob::listed, this, [this, repo](const QList<HubFile>& files) { onListed(repo, files); });
  connect(job, &HubListingJob::failed, this,
          [this, repo](const HttpFailure& failure) { onListingFailed(repo, failure); });
  job->start();
}

void DownloadManager::onListed(const QString& repo, const QList<HubFile>& files) {
  if (auto job = m_listing.take(repo)) job->deleteLater();
  m_listings.insert(repo, files);
  for (const HubOffering& o : m_sizeQueries.take(repo)) {
    const FileSelection sel = selectFiles(o, files);
    if (sel.error.isEmpty())
      emit sizeListed(o.id, totalSize(sel.files));
    else
      emit sizeFailed(o.id, sel.error);
  }
  if (m_downloading && m_state == State::Listing && m_offering.repo == repo) plan(files);
}

void DownloadManager::onListingFailed(const QString& repo, const HttpFailure& failure) {
  if (auto job = m_listing.take(repo)) job->deleteLater();
  for (const HubOffering& o : m_sizeQueries.take(repo)) emit sizeFailed(o.id, failure.message);
  if (!(m_downloading && m_state == State::Listing && m_offering.repo == repo)) return;
  if (failure.transient && m_retries < m_maxRetries) {
    ++m_retries;
    retryLater([this, repo] {
      if (m_state == State::Listing) list(repo);
    });
    return;
  }
  fail(failure.message);
}

void DownloadManager::plan(const QList<HubFile>& listing) {
  const FileSelection sel = selectFiles(m_offering, listing);
  if (!sel.error.isEmpty()) {
    fail(sel.error);
    return;
  }
  m_modelFile = sel.modelFile;
  const QHash<QString, QString> record = readRecord();
  quint64 remaining = 0;
  m_files.clear();
  for (const PlannedFile& f : sel.files) {
    const QString finalPath = QDir(m_folder).filePath(f.localPath);
    const QFileInfo final(finalPath);
    Planned p{f, false};
    p.complete = final.exists() && static_cast<quint64>(final.size()) == f.remote.size &&
                 record.value(f.localPath) == f.remote.expectedHash();
    if (!p.complete && !(final.exists() && static_cast<quint64>(final.size()) == f.remote.size)) {
      const QFileInfo part(finalPath + QStringLiteral(".part"));
      const quint64 have = part.exists() ? static_cast<quint64>(part.size()) : 0;
      remaining += have <= f.remote.size ? f.remote.size - have : f.remote.size;
    }
    m_files.append(p);
  }
  // Refused before any file is requested, with the numbers the user needs to act on it.
  const DiskSpace space = m_probe(m_folder);
  if (remaining > 0 && space.known && space.available < spaceNeeded(remaining)) {
    fail(DownloadMessages::notEnoughSpace(spaceNeeded(remaining), space.available, space.volume));
    return;
  }
  setState(State::Downloading);
  emitProgress(true);
  nextFile();
}

void DownloadManager::nextFile() {
  while (++m_current < m_files.size() && m_files[m_current].complete) {
  }
  if (m_current >= m_files.size()) {
    m_downloading = false;
    emitProgress(true);
    setState(State::Finished);
    emit finished(modelPath());
    return;
  }
  auto* transfer = new FileTransfer(m_hub, m_offering.repo, m_files[m_current].file, m_folder, this);
  m_transfer = transfer;
  connect(transfer, &FileTransfer::checking, this, [this] { setState(State::Verifying); });
  connect(transfer, &FileTransfer::transferring, this, [this] { setState(State::Downloading); });
  connect(transfer, &FileTransfer::progressed, this, [this](quint64, quint64 received) {
    m_received += received;
    emitProgress(false);
  });
  connect(transfer, &FileTransfer::succeeded, this, &DownloadManager::onFileSucceeded);
  connect(transfer, &FileTransfer::failed, this, &DownloadManager::onFileFailed);
  m_retries = 0;
  m_receivedAtFailure = m_received;
  emit fileStarted(transfer->finalPath(), m_files[m_current].file.remote.size);
  transfer->start();
}

void DownloadManager::onFileSucceeded(bool) {
  Planned& p = m_files[m_current];
  p.complete = true;
  recordComplete(p.file);
  const QString path = m_transfer->finalPath();
  m_transfer->deleteLater();
  m_transfer = nullptr;
  emit fileFinished(path);
  emitProgress(true);
  nextFile();
}

void DownloadManager::onFileFailed(const HttpFailure& failure) {
  // A connection that moved bytes since the last failure earns a fresh set of retries: a long
  // download over a flaky line should not die on its fourth hiccup in an hour.
  if (m_received > m_receivedAtFailure) m_retries = 0;
  m_receivedAtFailure = m_received;
  if (failure.transient && m_retries < m_maxRetries) {
    ++m_retries;
    retryLater([this] {
      if (m_transfer && (m_state == State::Downloading || m_state == State::Verifying)) m_transfer->start();
    });
    return;
  }
  fail(failure.message);
}

void DownloadManager::retryLater(std::function<void()> action) {
  m_retryAction = std::move(action);
  m_retryTimer.start(m_firstDelayMs << std::min(m_retries - 1, 10));
}

void DownloadManager::pause() {
  if (m_state != State::Downloading && m_state != State::Verifying) return;
  m_retryTimer.stop();
  if (m_transfer) m_transfer->stop();
  setState(State::Paused);
  emitProgress(true);
}

void DownloadManager::resume() {
  if (m_state != State::Paused) return;
  m_retries = 0;
  setState(State::Downloading);
  m_clock.restart();
  m_samples.clear();
  if (m_transfer)
    m_transfer->start();
  else if (m_retryAction)
    m_retryTimer.start(0);
}

void DownloadManager::cancel() {
  if (!busy() && m_state != State::Failed) return;
  m_retryTimer.stop();
  m_retryAction = nullptr;
  if (m_transfer) {
    m_transfer->discard();
    m_transfer->deleteLater();
    m_transfer = nullptr;
  }
  for (const Planned& p : std::as_const(m_files))
    if (!p.complete) QFile::remove(QDir(m_folder).filePath(p.file.localPath) + QStringLiteral(".part"));
  m_downloading = false;
  setState(State::Cancelled);
}

void DownloadManager::fail(const QString& message) {
  m_retryTimer.stop();
  m_retryAction = nullptr;
  if (m_transfer) {
    m_transfer->stop();  // the .part stays: pressing Download again continues from it
    m_transfer->deleteLater();
    m_transfer = nullptr;
  }
  m_downloading = false;
  setState(State::Failed);
  emit failed(message);
}

void DownloadManager::setState(State state) {
  if (m_state == state) return;
  m_state = state;
  emit stateChanged(state);
}

quint64 DownloadManager::bytesDone() const {
  quint64 done = 0;
  for (const Planned& p : m_files)
    if (p.complete) done += p.file.remote.size;
  if (m_transfer) done += m_transfer->bytesOnDisk();
  return done;
}

void DownloadManager::emitProgress(bool force) {
  const qint64 now = m_clock.isValid() ? m_clock.elapsed() : 0;
  if (!force && m_lastProgressMs >= 0 && now - m_lastProgressMs < kProgressIntervalMs) return;
  m_lastProgressMs = now;
  m_samples.append({now, m_received});
  while (m_samples.size() > 2 && now - m_samples.first().first > kSpeedWindowMs) m_samples.removeFirst();
  double speed = 0;
  const qint64 span = now - m_samples.first().first;
  if (m_state == State::Downloading && span > 0)
    speed = double(m_samples.last().second - m_samples.first().second) * 1000.0 / double(span);
  quint64 total = 0;
  for (const Planned& p : std::as_const(m_files)) total += p.file.remote.size;
  emit progress(bytesDone(), total, speed);
}

QString DownloadManager::modelPath() const {
  return m_offering.format == HubFormat::Gguf ? QDir(m_folder).filePath(m_modelFile) : m_folder;
}

QString DownloadManager::recordPath() const { return QDir(m_folder).filePath(QLatin1String(kRecordName)); }

QHash<QString, QString> DownloadManager::readRecord() const {
  QHash<QString, QString> record;
  QFile file(recordPath());
  if (!file.open(QIODevice::ReadOnly)) return record;
  const QJsonObject files = QJsonDocument::fromJson(file.readAll()).object().value(QLatin1String("files")).toObject();
  for (auto it = files.begin(); it != files.end(); ++it) record.insert(it.key(), it.value().toString());
  return record;
}

void DownloadManager::recordComplete(const PlannedFile& file) {
  QJsonObject files;
  const QHash<QString, QString> record = readRecord();
  for (auto it = record.begin(); it != record.end(); ++it) files.insert(it.key(), it.value());
  files.insert(file.localPath, file.remote.expectedHash());
  QJsonObject root;
  root.insert(QLatin1String("repo"), m_offering.repo);
  root.insert(QLatin1String("files"), files);
  // Written after every file, atomically, so a crash later in the download keeps what is done.
  QSaveFile out(recordPath());
  if (out.open(QIODevice::WriteOnly)) {
    out.write(QJsonDocument(root).toJson());
    out.commit();
  }
}

}  // namespace gd::ui
