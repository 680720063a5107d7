// gemmadesk-cli make-test-model: a random model with the exact Gemma 4 structure of a variant.
#include <chrono>
#include <cstdio>

#include "args.h"
#include "commands.h"
#include "format_util.h"
#include "testmodel/test_model.h"

namespace gd::cli {
namespace {

const char* kUsage =
    "usage: gemmadesk-cli make-test-model --variant e2b|e4b|26b-a4b|31b [--size tiny|full]\n"
    "                                     [--format gguf|safetensors] [--dtype TYPE] [--seed N]\n"
    "                                     [--out PATH] [--threads N] [--shard-size SIZE] [--repeat-rows]\n"
    "  --size       tiny (default): toy dimensions, same structure; full: the real shapes\n"
    "  --format     gguf (default): PATH.gguf plus mmproj-PATH.gguf; safetensors: a Hugging Face folder\n"
    "  --dtype      f32 (default), f16, bf16, q8_0, q4_0, q4_1, q5_0, q5_1, q2_k, q3_k, q4_k, q5_k, q6_k,\n"
    "               iq4_nl, iq4_xs (GGUF); f32, f16, bf16 (safetensors)\n"
    "  --seed       random seed (default 0); the same seed gives byte-identical files\n"
    "  --out        output file (GGUF) or folder (safetensors); default gemma4-VARIANT-SIZE-DTYPE\n"
    "  --threads    worker threads (default: all cores)\n"
    "  --shard-size safetensors shard size, e.g. 2GiB (default 4GiB for full models, one file for tiny)\n"
    "  --repeat-rows for speed benchmarks: each ~8 MiB piece of a tensor computes 32 random rows and repeats\n"
    "               them, so a full-size model is written at disk speed (the values mean nothing anyway)\n";

}  // namespace

int cmd_make_test_model(const Args& args) {
    TestModelOptions o;
    try {
        const ParsedArgs a(args, {"variant", "size", "format", "dtype", "seed", "out", "threads", "shard-size"}, {"help", "repeat-rows"});
        if (a.flag("help")) {
            std::printf("%s", kUsage);
            return 0;
        }
        if (!a.positional().empty()) throw UsageError("unexpected argument '" + a.positional()[0] + "'");
        const auto variant = a.value("variant");
        if (!variant) throw UsageError("--variant is required");
        const auto v = variant_from_name(*variant);
        if (!v) throw UsageError("unknown variant '" + *variant + "' (e2b, e4b, 26b-a4b, 31b)");
        o.variant = *v;
        const std::string size = a.value_or("size", "tiny");
        if (size != "tiny" && size != "full") throw UsageError("--size is tiny or full");
        o.size = size == "tiny" ? ModelSize::Tiny : ModelSize::Full;
        const std::string format = a.value_or("format", "gguf");
        if (format != "gguf" && format != "safetensors") throw UsageError("--format is gguf or safetensors");
        o.format = format == "gguf" ? TestModelFormat::Gguf : TestModelFormat::Safetensors;
        const std::string dtype = a.value_or("dtype", "f32");
        const auto t = dtype_from_name(dtype);
        if (!t) throw UsageError("unknown --dtype '" + dtype + "'");
        o.dtype = *t;
        o.seed = parse_uint(a.value_or("seed", "0"), "--seed");
        o.out = a.value_or("out", "");
        o.threads = static_cast<unsigned>(parse_uint(a.value_or("threads", "0"), "--threads"));
        if (auto s = a.value("shard-size")) o.shard_bytes = parse_bytes(*s);
        o.repeat_rows = a.flag("repeat-rows");
    } catch (const UsageError& e) {
        std::fprintf(stderr, "make-test-model: %s\n\n%s", e.what(), kUsage);
        return 2;
    }
    o.progress = [](const std::string& line) { std::fprintf(stderr, "%s\n", line.c_str()); };
    const auto t0 = std::chrono::steady_clock::now();
    const TestModelResult r = write_test_model(o);
    const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    std::printf("wrote %zu files, %s in %.1f s (%.0f MiB/s)\n", r.files.size(), human_bytes(r.bytes).c_str(), s,
                r.bytes / 1048576.0 / std::max(s, 1e-9));
    for (const auto& f : r.files) std::printf("  %s\n", f.c_str());
    return 0;
}

}  // namespace gd::cli
