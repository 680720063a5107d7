#pragma once
// Free space where a download will land, asked before the first byte is requested.

#include <QString>

#include <functional>

namespace gd::ui {

struct DiskSpace {
    bool known = false;     // false: the volume could not be asked; the download goes ahead
    quint64 available = 0;  // bytes this user may still write
    QString volume;         // what to call it in a message: its mount point / drive
};

using DiskSpaceProbe = std::function<DiskSpace(const QString& path)>;

// QStorageInfo on `path`, or on its nearest existing parent when the folder is not created yet.
DiskSpace probeDiskSpace(const QString& path);

// What a download of `remaining` bytes needs: 5% more, for the file system's own overhead and so
// the disk is not filled to the last byte.
quint64 spaceNeeded(quint64 remaining);

}  // namespace gd::ui
