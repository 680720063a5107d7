#include "download/disk_space.h"

#include <QDir>
#include <QFileInfo>
#include <QStorageInfo>

#include <algorithm>

namespace gd::ui {

DiskSpace probeDiskSpace(const QString& path) {
    QString existing = QDir::cleanPath(QFileInfo(path).absoluteFilePath());
    while (!QFileInfo::exists(existing)) {
        const QString parent = QFileInfo(existing).path();
        if (parent == existing) break;
        existing = parent;
    }
    QStorageInfo storage(existing);
    storage.refresh();
    DiskSpace space;
    if (!storage.isValid() || !storage.isReady()) return space;
    space.known = true;
    space.available = static_cast<quint64>(std::max<qint64>(0, storage.bytesAvailable()));
    space.volume = storage.rootPath();
    return space;
}

quint64 spaceNeeded(quint64 remaining) {
    return remaining + remaining / 20;
}

}  // namespace gd::ui
