#include "images/image_jobs.h"

#include <QBuffer>
#include <QCoreApplication>
#include <QFile>
#include <QFileInfo>
#include <new>
#include "common/error.h"
#include "images/image_files.h"
#include "vision/image/image_decode.h"
#include "vision/image/image_preprocess.h"

namespace gd::ui {

namespace {

QString tr(const char* s) { return QCoreApplication::translate("ImageAttachments", s); }

// Why an image could not be used, in plain words, from the exception the engine threw.
QString explain(const std::exception& e) {
    if (dynamic_cast<const std::bad_alloc*>(&e)) return tr("there is not enough memory to open it.");
    return QString::fromStdString(e.what());
}

// "Could not attach NAME: DETAIL", without naming the file twice when the decoder's detail already
// names it (its messages do).
QString cannotAttach(const QString& name, const QString& detail) {
    if (detail.contains(name)) return tr("Could not attach the image: %1").arg(detail);
    return tr("Could not attach %1: %2").arg(name, detail);
}

// Every budget must give a usable size (an extremely thin strip may not), so the slider can offer
// all five without surprises at send time.
QString checkBudgets(int64_t height, int64_t width) {
    try {
        for (int64_t budget : gd::kImageBudgets) gd::image_target_size(height, width, budget);
    } catch (const std::exception& e) {
        return explain(e);
    }
    return {};
}

AttachResult fromDecoded(const QString& root, const QByteArray& bytes, const gd::RgbImage& rgb, const QString& name) {
    AttachResult r;
    if (QString why = checkBudgets(rgb.height, rgb.width); !why.isEmpty()) {
        r.error = cannotAttach(name, why);
        return r;
    }
    QString error;
    r.image.file = storeImageBytes(root, bytes, &error);
    if (r.image.file.isEmpty()) {
        r.error = cannotAttach(name, error);
        return r;
    }
    r.image.name = name;
    r.image.width = int(rgb.width);
    r.image.height = int(rgb.height);
    r.thumbnail = toQImage(rgb).scaled(kThumbnailSide, kThumbnailSide, Qt::KeepAspectRatio, Qt::SmoothTransformation);
    return r;
}

}  // namespace

QImage toQImage(const gd::RgbImage& image) {
    if (image.empty()) return {};
    // Wraps the pixels without copying (RGB888 rows need no padding with an explicit stride), then
    // copies: the RgbImage goes away with the job.
    const QImage view(image.pixels.data(), int(image.width), int(image.height), int(image.width * 3), QImage::Format_RGB888);
    return view.copy();
}

AttachResult attachFile(const QString& root, const QString& path) {
    AttachResult r;
    const QFileInfo info(path);
    const QString name = info.fileName();
    const gd::ImageLimits limits;
    // Refused before reading: a folder, nothing, or more bytes than any image we accept.
    if (info.isDir()) r.error = tr("%1 is a folder, not an image.").arg(name);
    else if (!info.exists()) r.error = tr("%1 does not exist (any more).").arg(path);
    else if (info.size() == 0) r.error = tr("Could not attach %1: the file is empty.").arg(name);
    else if (quint64(info.size()) > limits.max_file_bytes)
        r.error = tr("Could not attach %1: the file is larger than %2 MB.").arg(name).arg(limits.max_file_bytes >> 20);
    if (!r.error.isEmpty()) return r;
    QFile f(path);
    if (!f.open(QIODevice::ReadOnly)) {
        r.error = tr("Could not open %1: %2").arg(name, f.errorString());
        return r;
    }
    const QByteArray bytes = f.readAll();
    try {
        const gd::RgbImage rgb = gd::decode_image_bytes(reinterpret_cast<const uint8_t*>(bytes.constData()),
                                                        size_t(bytes.size()), name.toStdString(), limits);
        return fromDecoded(root, bytes, rgb, name);
    } catch (const std::exception& e) {
        r.error = cannotAttach(name, explain(e));
        return r;
    }
}

AttachResult attachImage(const QString& root, const QImage& image, const QString& name) {
    AttachResult r;
    if (image.isNull()) {
        r.error = tr("The clipboard holds no image.");
        return r;
    }
    QByteArray png;
    QBuffer buffer(&png);
    buffer.open(QIODevice::WriteOnly);
    if (!image.save(&buffer, "PNG")) {
        r.error = tr("Could not attach %1: it could not be converted to PNG.").arg(name);
        return r;
    }
    // Decoded back through the engine's decoder: the stored PNG is checked like any file, and the
    // sizes shown are the decoder's.
    try {
        const gd::RgbImage rgb = gd::decode_image_bytes(reinterpret_cast<const uint8_t*>(png.constData()),
                                                        size_t(png.size()), name.toStdString());
        return fromDecoded(root, png, rgb, name);
    } catch (const std::exception& e) {
        r.error = cannotAttach(name, explain(e));
        return r;
    }
}

RenderResult renderFitted(const QString& path, int side) {
    RenderResult r;
    try {
        const gd::RgbImage rgb = gd::decode_image_file(QFile::encodeName(path).toStdString());
        r.image = toQImage(rgb);
        if (r.image.width() > side || r.image.height() > side)
            r.image = r.image.scaled(side, side, Qt::KeepAspectRatio, Qt::SmoothTransformation);
    } catch (const std::exception& e) {
        r.error = explain(e);
    }
    return r;
}

RenderResult renderForModel(const QString& path, int budget) {
    RenderResult r;
    try {
        const gd::RgbImage rgb = gd::decode_image_file(QFile::encodeName(path).toStdString());
        const gd::ImageTargetSize size = gd::image_target_size(rgb.height, rgb.width, budget);
        r.image = toQImage(gd::resize_bicubic_antialias(rgb, size.height, size.width));
    } catch (const std::exception& e) {
        r.error = explain(e);
    }
    return r;
}

}  // namespace gd::ui
