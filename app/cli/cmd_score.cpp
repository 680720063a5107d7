// gemmadesk-cli score --model PATH --ids 2,105,... [--top-logprobs K] --json
// Teacher forcing: for every position i, the most likely tokens after ids[0..i] with their natural
// log-probabilities (log-softmax over the whole vocabulary of the softcapped f32 logits).
#include <cstdio>
#include <nlohmann/json.hpp>

#include "commands.h"
#include "engine_options.h"

namespace gd::cli {

int cmd_score(const Args& args) {
    static const char* usage =
        "usage: gemmadesk-cli score --model PATH --ids ID,ID,... [--top-logprobs K] [--json]\n";
    const ParsedArgs a(args, options_union({kModelOptions, {"ids", "top-logprobs"}}), {"json", "help"});
    if (a.flag("help")) {
        std::printf("%s%s", usage, kModelOptionsHelp);
        return 0;
    }
    const auto ids_arg = a.value("ids");
    if (!ids_arg) throw UsageError("--ids is required");
    const std::vector<int32_t> ids = parse_ids(*ids_arg);
    const int k = static_cast<int>(parse_uint(a.value_or("top-logprobs", "5"), "--top-logprobs"));
    auto model = load_model(a, a.flag("json"));
    Session session(model, std::max<int64_t>(static_cast<int64_t>(ids.size()), 1));
    const auto scores = session.score(ids, k);
    if (a.flag("json")) {
        nlohmann::json positions = nlohmann::json::array();
        for (const PositionScore& p : scores) {
            nlohmann::json top = nlohmann::json::array();
            for (const auto& [id, lp] : p.top) top.push_back({id, lp});
            positions.push_back({{"top", top}});
        }
        std::printf("%s\n", nlohmann::json{{"ids", ids}, {"positions", positions}}.dump().c_str());
        return 0;
    }
    const Tokenizer& tok = model->tokenizer();
    for (size_t i = 0; i < scores.size(); ++i) {
        std::printf("%4zu %8d %-16s ->", i, ids[i], nlohmann::json(tok.piece(ids[i])).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace).c_str());
        for (const auto& [id, lp] : scores[i].top) std::printf("  %d (%.4f)", id, lp);
        std::printf("\n");
    }
    return 0;
}

}  // namespace gd::cli
