#include "engine/turn_images.h"

#include <QFile>
#include <QSet>
#include "common/error.h"
#include "engine/engine.h"
#include "engine/engine_errors.h"
#include "vision/image/image_decode.h"

namespace gd::ui {

bool hasImages(const QList<ChatTurn>& turns) {
    for (const ChatTurn& t : turns)
        if (!t.images.isEmpty()) return true;
    return false;
}

namespace {

// Reads and decodes a stored image, errors naming it as the user knows it (not by its hash name).
gd::RgbImage decodeStored(const ImageAttachment& a) {
    const gd::ImageLimits limits;
    QFile f(a.path);
    if (a.path.isEmpty() || !f.exists()) throw ImageInputError(describeMissingImage(a.name));
    if (quint64(f.size()) > limits.max_file_bytes)
        throw ImageInputError(describeImageError(gd::FormatError("the file is larger than any image the app opens"), a.name));
    if (!f.open(QIODevice::ReadOnly))
        throw ImageInputError(describeImageError(gd::FormatError(f.errorString().toStdString()), a.name));
    const QByteArray bytes = f.readAll();
    return gd::decode_image_bytes(reinterpret_cast<const uint8_t*>(bytes.constData()), size_t(bytes.size()),
                                  a.name.toStdString(), limits);
}

}  // namespace

std::vector<gd::ChatMessage> TurnImages::toMessages(gd::Model& model, const QList<ChatTurn>& turns,
                                                    const std::atomic<bool>* cancel, const Progress& progress) {
    int total = 0, done = 0;
    for (const ChatTurn& t : turns)
        for (const ImageAttachment& a : t.images) total += cache_.count({a.path, a.budget}) ? 0 : 1;

    std::vector<gd::ChatMessage> out;
    out.reserve(size_t(turns.size()));
    for (qsizetype i = 0; i < turns.size(); ++i) {
        const ChatTurn& t = turns[i];
        // The message being answered fails on an image it can't read; an earlier one, answered
        // before (or failed then, in plain words), goes on without it, so one damaged file does
        // not fail every later answer of the chat.
        const bool latest = i == turns.size() - 1;
        gd::ChatMessage m;
        m.role = t.role.toStdString();
        for (const ImageAttachment& a : t.images) {
            const QPair<QString, int> key{a.path, a.budget};
            std::shared_ptr<const gd::MediaEmbedding> media;
            if (auto it = cache_.find(key); it != cache_.end()) media = it->second;
            if (!media) {
                if (progress) progress(++done, total);
                try {
                    media = model.encode_image(decodeStored(a), a.budget, cancel);
                } catch (const gd::Cancelled&) {
                    throw;
                } catch (const ImageInputError&) {
                    if (latest) throw;
                    continue;
                } catch (const std::exception& e) {
                    if (latest) throw ImageInputError(describeImageError(e, a.name));
                    continue;
                }
                cache_[key] = media;
            }
            m.content.push_back(gd::ChatItem{gd::ChatItem::Kind::Image, {}, media});
        }
        // A message of images alone has no text item (an empty one would only add nothing).
        if (!t.text.isEmpty() || m.content.empty())
            m.content.push_back(gd::ChatItem{gd::ChatItem::Kind::Text, t.text.toStdString(), nullptr});
        out.push_back(std::move(m));
    }
    return out;
}

void TurnImages::retainOnly(const QList<ChatTurn>& turns) {
    QSet<QPair<QString, int>> used;
    for (const ChatTurn& t : turns)
        for (const ImageAttachment& a : t.images) used.insert({a.path, a.budget});
    for (auto it = cache_.begin(); it != cache_.end();)
        it = used.contains(it->first) ? std::next(it) : cache_.erase(it);
}

}  // namespace gd::ui
