// gemmadesk-bench: the benchmark subcommands of gemmadesk-cli (bench, make-test-model, devices) in a
// binary that links no image or audio file decoders, for GPU machines that have none of the app's
// libraries (scripts/bench/run_bench.sh runs it there).
#include <cstdio>
#include <exception>
#include <string>

#include "args.h"
#include "commands.h"

int main(int argc, char** argv) {
    const std::string name = argc > 1 ? argv[1] : "";
    int (*run)(const gd::cli::Args&) = nullptr;
    if (name == "bench") run = gd::cli::cmd_bench;
    else if (name == "make-test-model") run = gd::cli::cmd_make_test_model;
    else if (name == "devices") run = gd::cli::cmd_devices;
    if (!run) {
        std::fprintf(stderr, "usage: gemmadesk-bench bench|make-test-model|devices [options] (--help: a command's options)\n");
        return 2;
    }
    try {
        return run(gd::cli::Args(argv + 2, argv + argc));
    } catch (const gd::cli::UsageError& e) {
        std::fprintf(stderr, "%s: %s (see gemmadesk-bench %s --help)\n", name.c_str(), e.what(), name.c_str());
        return 2;
    } catch (const std::exception& e) {
        std::fprintf(stderr, "error: %s\n", e.what());
        return 1;
    }
}
