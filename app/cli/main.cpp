// gemmadesk-cli: the Gemma Desk engine from the command line, for scripting, tests and benchmarks.
#include <cstdio>
#include <cstring>
#include <exception>
#include <string>

#include "args.h"
#include "commands.h"

namespace {

struct Command {
    const char* name;
    int (*run)(const gd::cli::Args&);
    const char* summary;
};

const Command kCommands[] = {
    {"inspect", gd::cli::cmd_inspect, "describe model files: variant, parameters, tensor types, memory"},
    {"make-test-model", gd::cli::cmd_make_test_model, "write a random model with the exact Gemma 4 structure"},
    {"devices", gd::cli::cmd_devices, "list the compute devices this machine has"},
    {"models", gd::cli::cmd_models, "the Gemma 4 models already on this machine and whether they fit"},
    {"plan", gd::cli::cmd_plan, "the variant, weight type, context and GPU/CPU split that fit this machine"},
    {"quantize", gd::cli::cmd_quantize, "re-encode a GGUF model's matrices as q8_0, q4_k, ..."},
    {"tokenize", gd::cli::cmd_tokenize, "the token ids of a text under a model's tokenizer"},
    {"generate", gd::cli::cmd_generate, "generate text from a prompt, a chat turn (with images and audio) or token ids"},
    {"encode", gd::cli::cmd_encode, "an image or audio clip through its tower: the soft tokens the text model receives"},
    {"transcribe", gd::cli::cmd_transcribe, "speech to text: an audio file's transcript (E2B, E4B)"},
    {"chat", gd::cli::cmd_chat, "an interactive chat in the terminal"},
    {"score", gd::cli::cmd_score, "teacher-forced next-token log-probabilities of a token sequence"},
    {"bench", gd::cli::cmd_bench, "prompt and generation speed, time to first token, peak memory"},
};

void usage(FILE* out) {
    std::fprintf(out, "usage: gemmadesk-cli <command> [options]\n\ncommands:\n");
    for (const auto& c : kCommands) std::fprintf(out, "  %-16s %s\n", c.name, c.summary);
    std::fprintf(out, "\n'gemmadesk-cli <command> --help' shows a command's options.\n");
}

}  // namespace

int main(int argc, char** argv) {
    if (argc < 2) {
        usage(stderr);
        return 2;
    }
    const std::string name = argv[1];
    if (name == "--help" || name == "-h" || name == "help") {
        usage(stdout);
        return 0;
    }
    for (const auto& c : kCommands) {
        if (name == c.name) {
            gd::cli::Args args(argv + 2, argv + argc);
            try {
                return c.run(args);
            } catch (const gd::cli::UsageError& e) {
                std::fprintf(stderr, "%s: %s (see gemmadesk-cli %s --help)\n", c.name, e.what(), c.name);
                return 2;
            } catch (const std::exception& e) {
                std::fprintf(stderr, "error: %s\n", e.what());
                return 1;
            }
        }
    }
    std::fprintf(stderr, "gemmadesk-cli: unknown command '%s'\n\n", name.c_str());
    usage(stderr);
    return 2;
}
