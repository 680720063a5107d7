#include "download/file_transfer.h"

#include "download/blob_hasher.h"
#include "download/chunked_file_hasher.h"
#include "download/disk_space.h"
#include "download/hub_client.h"
#include "download/hub_get.h"

#include <QDir>
#include <QFileInfo>
#include <QRegularExpression>

namespace gd::ui {
namespace {

// "bytes 1000-4999/5000" → 1000; -1 when it cannot be read.
qint64 contentRangeStart(const QByteArray& header) {
  static const QRegularExpression re(QStringLiteral("^\\s*bytes\\s+(\\d+)-(\\d+)/(\\d+|\\*)\\s*$"),
                                     QRegularExpression::CaseInsensitiveOption);
  const auto m = re.match(QString::fromLatin1(header));
  return m.hasMatch() ? m.captured(1).toLongLong() : -1;
}

}  // namespace

FileTransfer::FileTransfer(HubClient* client, const QString& repo, const PlannedFile& file,
                           const QString& modelFolder, QObject* parent)
    : QObject(parent),
      m_client(client),
      m_repo(repo),
      m_file(file),
      m_finalPath(QDir(modelFolder).filePath(file.localPath)) {
  m_part.setFileName(partPath());
}

FileTransfer::~FileTransfer() { stop(); }

void FileTransfer::start() {
  stopNetwork();
  m_rangeRestarts = 0;
  const QFileInfo final(m_finalPath);
  // A complete-looking file with no record of having been verified (copied in by the user, or the
  // record was lost): hash it once rather than download gigabytes again.
  if (!m_finalChecked && final.exists() && static_cast<quint64>(final.size()) == m_file.remote.size) {
    m_finalChecked = true;
    m_finalHasher = std::make_unique<BlobHasher>(m_file.remote);
    emit checking();
    hashOnDisk(m_finalPath, m_file.remote.size, m_finalHasher.get(), [this](bool ok) {
      const bool good = ok && m_finalHasher->matches();
      m_finalHasher.reset();
      if (good) {
        m_onDisk = m_file.remote.size;
        emit succeeded(false);
        return;
      }
      QFile::remove(m_finalPath);
      resumeFromPart();
    });
    return;
  }
  resumeFromPart();
}

void FileTransfer::resumeFromPart() {
  const QFileInfo part(partPath());
  quint64 onDisk = part.exists() ? static_cast<quint64>(part.size()) : 0;
  if (onDisk > m_file.remote.size) {
    // Longer than the file can be: left over from another version of it.
    QFile::remove(partPath());
    onDisk = 0;
  }
  // After a pause in this session the hash state already covers exactly the bytes on disk.
  if (m_hasher && m_hasher->bytesHashed() == onDisk) {
    request(onDisk);
    return;
  }
  m_hasher = std::make_unique<BlobHasher>(m_file.remote);
  if (onDisk == 0) {
    request(0);
    return;
  }
  emit checking();
  hashOnDisk(partPath(), onDisk, m_hasher.get(), [this, onDisk](bool ok) {
    if (!ok) {
      QFile::remove(partPath());
      m_hasher->reset();
      request(0);
      return;
    }
    request(onDisk);
  });
}

void FileTransfer::hashOnDisk(const QString& path, quint64 bytes, BlobHasher* hasher,
                              std::function<void(bool)> done) {
  if (m_chunked) m_chunked->deleteLater();
  m_chunked = new ChunkedFileHasher(path, bytes, hasher, this);
  connect(m_chunked, &ChunkedFileHasher::progressed, this, [this](quint64 n) { emit progressed(n, 0); });
  connect(m_chunked, &ChunkedFileHasher::finished, this, [this, done = std::move(done)](bool ok) {
    m_chunked->deleteLater();
    m_chunked = nullptr;
    done(ok);
  });
  m_chunked->start();
}

void FileTransfer::request(quint64 offset) {
  m_onDisk = offset;
  if (offset == m_file.remote.size) {
    finish();
    return;
  }
  if (!QDir().mkpath(QFileInfo(m_finalPath).path())) {
    fail({DownloadMessages::cannotWrite(m_finalPath, QDir::toNativeSeparators(QFileInfo(m_finalPath).path())),
          false});
    return;
  }
  // Unbuffered, so a full disk shows up on the write that hits it, not on a later flush.
  if (!m_part.isOpen() && !m_part.open(QIODevice::WriteOnly | QIODevice::Append | QIODevice::Unbuffered)) {
    fail({DownloadMessages::cannotWrite(partPath(), m_part.errorString()), false});
    return;
  }
  if (offset == 0 && m_part.size() != 0) m_part.resize(0);
  m_accepting = false;
  m_get = new HubGet(m_client, m_client->fileUrl(m_repo, m_file.remote.path),
                     offset > 0 ? std::optional<quint64>(offset) : std::nullopt, this);
  connect(m_get, &HubGet::responseStarted, this, &FileTransfer::onResponse);
  connect(m_get, &HubGet::readyRead, this, &FileTransfer::onData);
  connect(m_get, &HubGet::finished, this, &FileTransfer::onDone);
  emit transferring();
  m_get->start();
}

void FileTransfer::onResponse(int status) {
  if (status == 206) {
    if (contentRangeStart(m_get->header("Content-Range")) != static_cast<qint64>(m_onDisk)) {
      restartFromZero(status);
      return;
    }
    m_accepting = true;
  } else if (status == 200) {
    if (m_onDisk > 0) {
      // The server ignored the Range and sends the whole file: start over from byte zero.
      m_part.resize(0);
      m_hasher->reset();
      m_onDisk = 0;
      emit progressed(0, 0);
    }
    m_accepting = true;
  } else if (status == 416) {
    // "Range not satisfiable": the .part does not belong to the file the hub has now.
    restartFromZero(status);
  }
  // Any other status is an error page; onDone reports it.
}

void FileTransfer::restartFromZero(int status) {
  stopNetwork();
  if (++m_rangeRestarts > 1) {
    fail({DownloadMessages::refused(m_client->host(), status), false});
    return;
  }
  m_part.resize(0);
  m_hasher->reset();
  request(0);
}

void FileTransfer::onData() {
  if (!m_get) return;
  const QByteArray data = m_get->readAll();
  if (!m_accepting || data.isEmpty()) return;
  if (m_onDisk + static_cast<quint64>(data.size()) > m_file.remote.size) {
    // More bytes than the listing promised: not the file the hash belongs to.
    stopNetwork();
    m_part.close();
    QFile::remove(partPath());
    m_hasher.reset();
    fail({DownloadMessages::damaged(m_file.localPath), false});
    return;
  }
  const qint64 written = m_part.write(data);
  if (written != data.size()) {
    stopNetwork();
    const HttpFailure failure = writeFailure();
    m_part.close();
    m_hasher.reset();  // a short write leaves the .part ahead of the hash; rehash on resume
    fail(failure);
    return;
  }
  m_hasher->addData(data);
  m_onDisk += static_cast<quint64>(data.size());
  emit progressed(m_onDisk, static_cast<quint64>(data.size()));
}

void FileTransfer::onDone() {
  if (!m_get) return;
  onData();  // anything still buffered
  if (!m_get) return;  // onData failed
  const int status = m_get->httpStatus();
  const QNetworkReply::NetworkError error = m_get->error();
  stopNetwork();
  if (error != QNetworkReply::NoError || (status != 200 && status != 206)) {
    m_part.close();
    fail(classifyHttpFailure(error, status, m_client->host(), m_file.localPath, false));
    return;
  }
  if (m_onDisk < m_file.remote.size) {
    // The connection ended early without an error: worth another try from where it stopped.
    m_part.close();
    fail({DownloadMessages::interrupted(m_client->host()), true});
    return;
  }
  finish();
}

void FileTransfer::finish() {
  m_part.close();
  if (!m_hasher || !m_hasher->matches()) {
    QFile::remove(partPath());
    m_hasher.reset();
    fail({DownloadMessages::damaged(m_file.localPath), false});
    return;
  }
  emit checking();
  QFile::remove(m_finalPath);
  if (!QFile::rename(partPath(), m_finalPath)) {
    fail({DownloadMessages::cannotWrite(m_finalPath, m_part.errorString()), false});
    return;
  }
  m_hasher.reset();
  m_onDisk = m_file.remote.size;
  emit succeeded(true);
}

void FileTransfer::fail(const HttpFailure& failure) { emit failed(failure); }

void FileTransfer::stop() {
  stopNetwork();
  if (m_chunked) {
    m_chunked->stop();
    m_chunked->deleteLater();
    m_chunked = nullptr;
  }
  m_finalHasher.reset();
  m_finalChecked = false;
  m_part.close();
}

void FileTransfer::discard() {
  stop();
  m_hasher.reset();
  QFile::remove(partPath());
  m_onDisk = 0;
}

void FileTransfer::stopNetwork() {
  if (!m_get) return;
  m_get->abort();
  m_get->deleteLater();
  m_get = nullptr;
  m_accepting = false;
}

HttpFailure FileTransfer::writeFailure() const {
  const DiskSpace space = probeDiskSpace(QFileInfo(m_finalPath).path());
  // Less than a network chunk left: the disk filled up under us.
  if (space.known && space.available < (1u << 20)) return {DownloadMessages::diskFull(space.volume), false};
  return {DownloadMessages::cannotWrite(partPath(), m_part.errorString()), false};
}

}  // namespace gd::ui
