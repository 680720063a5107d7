#include "download/blob_hasher.h"

namespace gd::ui {

BlobHasher::BlobHasher(const HubFile& file)
    : gitBlob_(!file.isLfs()),
      size_(file.size),
      expected_(file.expectedHash().toLower()),
      hash_(gitBlob_ ? QCryptographicHash::Sha1 : QCryptographicHash::Sha256) {
    reset();
}

void BlobHasher::reset() {
    hash_.reset();
    bytes_ = 0;
    if (gitBlob_) {
        // git hashes a blob's header with the content; the header needs the final size up front,
        // which the listing gives.
        const QByteArray header = "blob " + QByteArray::number(size_) + '\0';
        hash_.addData(header);
    }
}

void BlobHasher::addData(QByteArrayView data) {
    hash_.addData(data);
    bytes_ += static_cast<quint64>(data.size());
}

QString BlobHasher::resultHex() const {
    return QString::fromLatin1(hash_.result().toHex());
}

bool BlobHasher::matches() const {
    // A listing without any hash leaves only the size to check.
    return bytes_ == size_ && (expected_.isEmpty() || resultHex() == expected_);
}

}  // namespace gd::ui
