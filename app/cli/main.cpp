// gemmadesk-cli: the Gemma Desk engine from the command line, for scripting, tests and benchmarks.
#include <cstdio>
#include <cstring>
#include <exception>
#include <string>

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
