#include "engine/turn_audio.h"

#include <QFile>
#include <QSet>
#include <algorithm>
#include "audio/io/audio_decode.h"
#include "common/error.h"
#include "engine/engine.h"
#include "engine/engine_errors.h"

namespace gd::ui {

bool hasAudio(const QList<ChatTurn>& turns) {
    for (const ChatTurn& t : turns)
        if (!t.audio.isEmpty()) return true;
    return false;
}

namespace {

// Decodes a stored clip, errors naming it as the user knows it (not by its hash name).
std::vector<float> decodeStored(const AudioAttachment& a) {
    if (a.path.isEmpty() || !QFile::exists(a.path)) throw AudioInputError(describeMissingAudio(a.name));
    return gd::decode_audio_file(QFile::encodeName(a.path).toStdString()).samples;
}

}  // namespace

void TurnAudio::addTo(std::vector<gd::ChatMessage>& messages, gd::Model& model, const QList<ChatTurn>& turns,
                      const std::atomic<bool>* cancel, const Progress& progress) {
    int total = 0, done = 0;
    for (const ChatTurn& t : turns)
        for (const AudioAttachment& a : t.audio) total += cache_.count(a.path) ? 0 : 1;

    for (qsizetype i = 0; i < turns.size() && size_t(i) < messages.size(); ++i) {
        const ChatTurn& t = turns[i];
        if (t.audio.isEmpty()) continue;
        // As with images: the message being answered fails on a sound it can't read; an earlier
        // one goes on without it, so one damaged file does not fail every later answer.
        const bool latest = i == turns.size() - 1;
        std::vector<gd::ChatItem> items;
        for (const AudioAttachment& a : t.audio) {
            std::shared_ptr<const gd::MediaEmbedding> media;
            if (auto it = cache_.find(a.path); it != cache_.end()) media = it->second;
            if (!media) {
                if (progress) progress(++done, total);
                try {
                    media = model.encode_audio(decodeStored(a), cancel);
                } catch (const gd::Cancelled&) {
                    throw;
                } catch (const AudioInputError&) {
                    if (latest) throw;
                    continue;
                } catch (const std::exception& e) {
                    if (latest) throw AudioInputError(describeAudioError(e, a.name));
                    continue;
                }
                cache_[a.path] = media;
            }
            items.push_back(gd::ChatItem{gd::ChatItem::Kind::Audio, {}, media});
        }
        if (items.empty()) continue;
        std::vector<gd::ChatItem>& content = messages[size_t(i)].content;
        // A voice message without words: the empty text item TurnImages adds is not needed.
        std::erase_if(content, [](const gd::ChatItem& c) { return c.kind == gd::ChatItem::Kind::Text && c.text.empty(); });
        auto firstText = std::find_if(content.begin(), content.end(),
                                      [](const gd::ChatItem& c) { return c.kind == gd::ChatItem::Kind::Text; });
        content.insert(firstText, items.begin(), items.end());
    }
}

void TurnAudio::retainOnly(const QList<ChatTurn>& turns) {
    QSet<QString> used;
    for (const ChatTurn& t : turns)
        for (const AudioAttachment& a : t.audio) used.insert(a.path);
    for (auto it = cache_.begin(); it != cache_.end();)
        it = used.contains(it->first) ? std::next(it) : cache_.erase(it);
}

qint64 TurnAudio::tokensOf(const QList<ChatTurn>& turns) const {
    qint64 tokens = 0;
    for (const ChatTurn& t : turns)
        for (const AudioAttachment& a : t.audio)
            if (auto it = cache_.find(a.path); it != cache_.end() && it->second) tokens += it->second->tokens;
    return tokens;
}

}  // namespace gd::ui
