// gemmadesk-cli tokenize --model PATH TEXT : the token ids of a text under a model's tokenizer, as
// transformers gives them (special-token strings in the text become their ids). For scripts and for
// checking prompts: --json prints exactly {"ids":[...]}, otherwise one token per line with its piece.
#include <cstdio>
#include <iostream>
#include <iterator>
#include <nlohmann/json.hpp>

#include "args.h"
#include "commands.h"
#include "common/error.h"
#include "format/hf_folder.h"
#include "model/model_files.h"
#include "tokenizer/tokenizer.h"

namespace gd::cli {
namespace {

const char* kUsage =
    "usage: gemmadesk-cli tokenize --model PATH [--bos] [--no-special] [--json] (TEXT | --file FILE)\n"
    "  --model      a GGUF model file or a Hugging Face model folder\n"
    "  --bos        put the BOS token first (chat prompts written with <bos> already have it)\n"
    "  --no-special special-token strings such as <bos> or <|turn> are plain text\n"
    "  --json       print {\"ids\":[...]} only\n"
    "  --file       read the text from FILE ('-' for standard input) instead of the argument\n";

constexpr uint64_t kMaxTextBytes = 64ull << 20;

std::string read_input(const std::string& file) {
    if (file != "-") return read_text_file(file, kMaxTextBytes);
    std::string text((std::istreambuf_iterator<char>(std::cin)), std::istreambuf_iterator<char>());
    if (text.size() > kMaxTextBytes) throw Error("standard input: more than 64 MiB of text");
    return text;
}

// A piece as a JSON string, so spaces, newlines and control characters are visible.
std::string quoted(const std::string& piece) {
    return nlohmann::json(piece).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace

int cmd_tokenize(const Args& args) {
    ParsedArgs a = [&] {
        try {
            return ParsedArgs(args, {"model", "file"}, {"bos", "no-special", "json", "help"});
        } catch (const UsageError& e) {
            std::fprintf(stderr, "tokenize: %s\n%s", e.what(), kUsage);
            std::exit(2);
        }
    }();
    if (a.flag("help")) {
        std::printf("%s", kUsage);
        return 0;
    }
    const auto model = a.value("model");
    const auto file = a.value("file");
    if (!model || a.positional().size() != (file ? 0u : 1u)) {
        std::fprintf(stderr, "tokenize: give --model PATH and one TEXT (quote it) or --file FILE\n%s", kUsage);
        return 2;
    }
    const std::string text = file ? read_input(*file) : a.positional()[0];

    const Tokenizer tok = load_tokenizer(ModelFiles::open({*model}, /*find_mmproj=*/false));
    std::vector<int32_t> ids;
    if (a.flag("bos")) {
        if (tok.bos_id() < 0) throw ModelError(*model + ": the tokenizer has no BOS token");
        ids.push_back(tok.bos_id());
    }
    const auto body = tok.encode(text, !a.flag("no-special"));
    ids.insert(ids.end(), body.begin(), body.end());

    if (a.flag("json")) {
        std::printf("%s\n", nlohmann::json{{"ids", ids}}.dump().c_str());
        return 0;
    }
    std::printf("%zu tokens (%s, vocabulary of %zu)\n", ids.size(), tok.kind().c_str(), tok.vocab_size());
    for (int32_t id : ids) std::printf("%8d  %s\n", id, quoted(tok.piece(id)).c_str());
    return 0;
}

}  // namespace gd::cli
