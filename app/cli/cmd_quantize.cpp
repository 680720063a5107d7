// gemmadesk-cli quantize: a GGUF model's matrices re-encoded as q8_0, q4_k, ... (the load-time
// quantization of the fit planner, saved as a file).
#include <chrono>
#include <cstdio>

#include "args.h"
#include "catalog/model_quantizer.h"
#include "commands.h"
#include "format_util.h"

namespace gd::cli {
namespace {

const char* kUsage =
    "usage: gemmadesk-cli quantize IN.gguf OUT.gguf --type TYPE [--threads N] [--no-mmproj] [--quiet]\n"
    "  IN           a Gemma 4 GGUF text model (f32, f16 or bf16 matrices; already quantized tensors are kept)\n"
    "  OUT          the quantized model; the mmproj (towers) file beside IN is copied unchanged to\n"
    "               mmproj-OUT beside it\n"
    "  --type       q8_0, q4_k, q4_0, q4_1, q5_0, q5_1, q2_k, q3_k, q5_k, q6_k, iq4_nl, iq4_xs, f16\n"
    "               (rows that are not whole blocks fall back as llama.cpp does: q4_k -> q5_0 -> ... -> f16)\n"
    "  --threads N  worker threads (default: all cores)\n"
    "  --no-mmproj  do not copy the mmproj file\n"
    "  --quiet      no progress on stderr\n";

}  // namespace

int cmd_quantize(const Args& args) {
    const ParsedArgs a(args, {"type", "threads"}, {"no-mmproj", "quiet", "help"});
    if (a.flag("help")) {
        std::printf("%s", kUsage);
        return 0;
    }
    if (a.positional().size() != 2) throw UsageError("give the input and the output file (" + std::to_string(a.positional().size()) + " given)");
    const auto type = a.value("type");
    if (!type) throw UsageError("--type is required");
    const auto t = dtype_from_name(*type);
    if (!t || !can_quantize_to(*t)) throw UsageError("cannot quantize to '" + *type + "'");
    QuantizeOptions o;
    o.input = a.positional()[0];
    o.output = a.positional()[1];
    o.type = *t;
    o.threads = static_cast<unsigned>(parse_uint(a.value_or("threads", "0"), "--threads"));
    o.copy_mmproj = !a.flag("no-mmproj");
    if (!a.flag("quiet"))
        o.progress = [](double f, const std::string& stage) {
            std::fprintf(stderr, "\r%s %3.0f%%", stage.c_str(), 100 * f);
            if (f >= 1.0) std::fprintf(stderr, "\n");
            return true;
        };
    const auto t0 = std::chrono::steady_clock::now();
    const QuantizeResult r = quantize_model(o);
    const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    std::printf("quantized %llu tensors to %s (kept %llu): %s -> %s in %.1f s\n",
                static_cast<unsigned long long>(r.quantized_tensors), dtype_name(o.type),
                static_cast<unsigned long long>(r.kept_tensors), human_bytes(r.input_bytes).c_str(),
                human_bytes(r.output_bytes).c_str(), s);
    for (const auto& f : r.files) std::printf("  %s\n", f.c_str());
    for (const auto& n : r.notes) std::printf("note: %s\n", n.c_str());
    return 0;
}

}  // namespace gd::cli
