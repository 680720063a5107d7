#pragma once
// The sounds of a conversation's turns as the engine takes them: each stored file decoded to 16 kHz
// mono (gd::decode_audio_file, FFmpeg's resampler) and run through the audio tower, on the engine
// thread. Like TurnImages, embeddings are kept while their turn is in the conversation, so a
// conversation rebuilt after an edit or a regenerate does not encode its recordings again (and
// their soft tokens, identical, still match the KV cache).
#include <QList>
#include <QString>
#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <vector>
#include "chat/chat_format.h"
#include "engine/engine_types.h"

namespace gd {
class Model;
struct MediaEmbedding;
}  // namespace gd

namespace gd::ui {

bool hasAudio(const QList<ChatTurn>& turns);

class TurnAudio {
public:
    // Called before each clip that must be encoded: (1-based index, how many).
    using Progress = std::function<void(int index, int total)>;

    // Puts the sounds of turns[i] into messages[i] (one message per turn, as TurnImages makes them),
    // after its images and before its text; an empty text item left beside a sound is dropped.
    // Throws AudioInputError (a sentence for the user) when a sound of the last turn can't be read;
    // an earlier turn's unreadable sound is left out. gd::Cancelled when *cancel is set.
    void addTo(std::vector<gd::ChatMessage>& messages, gd::Model& model, const QList<ChatTurn>& turns,
               const std::atomic<bool>* cancel, const Progress& progress);
    // Forgets the embeddings that none of `turns` uses.
    void retainOnly(const QList<ChatTurn>& turns);
    void clear() { cache_.clear(); }
    // Soft tokens of the clips of `turns` that are encoded (for the answer's summary).
    qint64 tokensOf(const QList<ChatTurn>& turns) const;

private:
    std::map<QString, std::shared_ptr<const gd::MediaEmbedding>> cache_;  // by stored path
};

}  // namespace gd::ui
