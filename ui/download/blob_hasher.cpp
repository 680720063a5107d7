#include "download/blob_hasher.h"

namespace gd::ui {

BlobHasher::BlobHasher(const HubFile& file)
    : m_gitBlob(!file.isLfs()),
      m_size(file.size),
      m_expected(file.expectedHash().toLower()),
      m_hash(m_gitBlob ? QCryptographicHash::Sha1 : QCryptographicHash::Sha256) {
  reset();
}

void BlobHasher::reset() {
  m_hash.reset();
  m_bytes = 0;
  if (m_gitBlob) {
    // git hashes a blob's header with the content; the header needs the final size up front,
    // which the listing gives.
    const QByteArray header = "blob " + QByteArray::number(m_size) + '\0';
    m_hash.addData(header);
  }
}

void BlobHasher::addData(QByteArrayView data) {
  m_hash.addData(data);
  m_bytes += static_cast<quint64>(data.size());
}

QString BlobHasher::resultHex() const { return QString::fromLatin1(m_hash.result().toHex()); }

bool BlobHasher::matches() const {
  // A listing without any hash leaves only the size to check.
  return m_bytes == m_size && (m_expected.isEmpty() || resultHex() == m_expected);
}

}  // namespace gd::ui
