// gemmadesk-cli bench --model PATH [-p 512] [-n 128] [--threads N] [--repetitions R] [--json]
// Prefill speed on a p-token prompt, generation speed over n tokens (greedy, no stop tokens), time to
// first token and peak memory, plus the bytes of weights one generated token reads, which with the
// measured speed gives the memory bandwidth achieved (the physical limit of decoding).
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <nlohmann/json.hpp>

#include "commands.h"
#include "engine_options.h"
#include "format_util.h"

namespace gd::cli {

namespace {
// Bytes of weights read to generate one token: every text weight except the per-layer-embedding
// table (one row per token); on MoE layers only the routed experts' share.
uint64_t bytes_per_generated_token(const Model& m) {
    const TextConfig& c = m.config().text;
    uint64_t b = 0;
    for (const ModelTensor& t : m.files().tensors()) {
        if (t.spec.in_mmproj || t.spec.part == Part::PleTable) continue;
        if (t.spec.name.find("_exps.weight") != std::string::npos && c.num_experts > 0) {
            b += t.view.nbytes / static_cast<uint64_t>(c.num_experts) * static_cast<uint64_t>(c.top_k_experts);
        } else {
            b += t.view.nbytes;
        }
    }
    return b;
}

std::vector<int32_t> bench_prompt(const Model& m, int64_t n) {
    // Deterministic ordinary tokens (ids past the special and byte tokens of the vocabulary).
    const int64_t V = m.config().text.vocab_size, lo = std::min<int64_t>(V / 2, 1000);
    std::vector<int32_t> ids;
    const int32_t bos = m.tokenizer().bos_id();
    if (bos >= 0) ids.push_back(bos);
    uint64_t x = 12345;
    while (static_cast<int64_t>(ids.size()) < n) {
        x = x * 6364136223846793005ull + 1442695040888963407ull;
        ids.push_back(static_cast<int32_t>(lo + static_cast<int64_t>((x >> 33) % static_cast<uint64_t>(V - lo))));
    }
    return ids;
}
}  // namespace

int cmd_bench(const Args& args) {
    static const char* usage =
        "usage: gemmadesk-cli bench --model PATH [-p N] [-n N] [--threads N] [--repetitions R] [--json]\n"
        "  -p N  prompt tokens (default 512)   -n N  generated tokens (default 128)\n";
    std::vector<std::string> fixed;  // accept llama-bench's short -p / -n / -t / -r
    for (const std::string& s : args) {
        if (s == "-p") fixed.push_back("--prompt-tokens");
        else if (s == "-n") fixed.push_back("--gen-tokens");
        else if (s == "-t") fixed.push_back("--threads");
        else if (s == "-r") fixed.push_back("--repetitions");
        else fixed.push_back(s);
    }
    const ParsedArgs a(fixed, options_union({kModelOptions, {"prompt-tokens", "gen-tokens", "repetitions"}}), {"json", "help"});
    if (a.flag("help")) {
        std::printf("%s%s", usage, kModelOptionsHelp);
        return 0;
    }
    const int64_t p = static_cast<int64_t>(parse_uint(a.value_or("prompt-tokens", "512"), "-p"));
    const int64_t n = static_cast<int64_t>(parse_uint(a.value_or("gen-tokens", "128"), "-n"));
    const int reps = std::max(1, static_cast<int>(parse_uint(a.value_or("repetitions", "1"), "--repetitions")));
    if (p < 1) throw UsageError("-p must be at least 1");
    auto model = load_model(a, a.flag("json"));
    const std::vector<int32_t> prompt = bench_prompt(*model, p);

    GenerateOptions g;
    g.sampling.temperature = 0;
    g.max_tokens = n;
    g.stop_ids = {-1};  // never stop early
    Session session(model, std::min<int64_t>(model->config().text.max_position_embeddings, p + n + 1));
    {  // warm-up: first-touch of buffers and caches
        GenerateOptions w = g;
        w.max_tokens = 2;
        session.generate(std::vector<int32_t>(prompt.begin(), prompt.begin() + std::min<int64_t>(p, 8)), w);
        session.reset();
    }
    double pp = 0, tg = 0, ttft = 0;
    GenerationStats last;
    for (int r = 0; r < reps; ++r) {
        session.reset();
        const GenerationResult res = session.generate(prompt, g);
        pp += res.stats.prompt_tokens_per_second();
        tg += res.stats.generated_tokens_per_second();
        ttft += res.stats.time_to_first_token;
        last = res.stats;
    }
    pp /= reps;
    tg /= reps;
    ttft /= reps;
    const uint64_t bpt = bytes_per_generated_token(*model);
    const double gbps = tg * static_cast<double>(bpt) / 1e9;
    const std::string backend = model->placement();
    if (a.flag("json")) {
        nlohmann::json j = {{"model", *a.value("model")}, {"variant", describe(model->config())}, {"backend", backend},
                            {"prompt_tokens", p}, {"gen_tokens", n}, {"repetitions", reps},
                            {"prompt_tokens_per_second", pp}, {"gen_tokens_per_second", tg},
                            {"time_to_first_token_ms", ttft * 1000}, {"peak_rss_bytes", last.peak_rss_bytes},
                            {"kv_cache_bytes", last.kv_cache_bytes}, {"weight_bytes_per_token", bpt},
                            {"achieved_gb_per_s", gbps}, {"load_seconds", model->load_seconds()}};
        std::printf("%s\n", j.dump().c_str());
        return 0;
    }
    std::printf("model    %s\n         %s\nbackend  %s\n", a.value("model")->c_str(), describe(model->config()).c_str(), backend.c_str());
    std::printf("| test   |   tokens/s | notes\n|--------|-----------:|------\n");
    std::printf("| pp%-4lld | %10.2f | time to first token %.0f ms\n", static_cast<long long>(p), pp, ttft * 1000);
    std::printf("| tg%-4lld | %10.2f | %s of weights per token -> %.2f GB/s\n", static_cast<long long>(n), tg,
                human_bytes(bpt).c_str(), gbps);
    std::printf("peak RSS %s, KV cache %s, load %.2f s\n", human_bytes(last.peak_rss_bytes).c_str(),
                human_bytes(last.kv_cache_bytes).c_str(), model->load_seconds());
    return 0;
}

}  // namespace gd::cli
