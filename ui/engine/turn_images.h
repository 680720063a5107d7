#pragma once
// The images of a conversation's turns as the engine takes them: each stored file decoded and run
// through the vision tower at its budget, on the engine thread. Embeddings are kept while their turn
// is in the conversation, so a conversation rebuilt after an edit, a regenerate or a thinking reply
// does not encode its images again (and its soft tokens, identical, still match the KV cache).
#include <QList>
#include <QPair>
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

bool hasImages(const QList<ChatTurn>& turns);

class TurnImages {
public:
    // Called before each image that must be encoded: (1-based index, how many).
    using Progress = std::function<void(int index, int total)>;

    // `turns` as engine messages: a user turn's images first, then its text. Throws ImageInputError
    // (a sentence for the user) when an image of the last turn (the one being answered) can't be
    // read; an earlier turn's unreadable image is left out. gd::Cancelled when *cancel is set.
    std::vector<gd::ChatMessage> toMessages(gd::Model& model, const QList<ChatTurn>& turns,
                                            const std::atomic<bool>* cancel, const Progress& progress);
    // Forgets the embeddings that none of `turns` uses.
    void retainOnly(const QList<ChatTurn>& turns);
    void clear() { cache_.clear(); }

private:
    std::map<QPair<QString, int>, std::shared_ptr<const gd::MediaEmbedding>> cache_;  // (path, budget)
};

}  // namespace gd::ui
