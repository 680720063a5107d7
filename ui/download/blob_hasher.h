#pragma once
// The hash the hub publishes for a file, computed incrementally as bytes arrive: sha256 of the
// content for LFS files, git's blob sha1 (sha1 of "blob <size>\0" + content) for small ones.

#include "download/hub_listing.h"

#include <QByteArrayView>
#include <QCryptographicHash>
#include <QString>

namespace gd::ui {

class BlobHasher {
public:
    explicit BlobHasher(const HubFile& file);
    BlobHasher(const BlobHasher&) = delete;
    BlobHasher& operator=(const BlobHasher&) = delete;

    // Back to zero bytes, for a download that has to start over.
    void reset();
    void addData(QByteArrayView data);
    quint64 bytesHashed() const { return bytes_; }
    QString resultHex() const;
    // True when the bytes fed so far are the whole file the hub listed (right size, right hash).
    bool matches() const;

private:
    bool gitBlob_;
    quint64 size_;
    QString expected_;
    quint64 bytes_ = 0;
    QCryptographicHash hash_;
};

}  // namespace gd::ui
