// gemmadesk-cli bench --model PATH [-p 512[,4096]] [-n 128] [-r R] [--images LIST] [--audio SECONDS]
//                     [--ttft-image BUDGET] [--ceilings | --bandwidth GB/s] [--json] [model options]
// Speed through the engine the app uses (bench_measure.h): prefill at each prompt length, batch-1
// decode, image and audio encoding, time to first token for an image and a question, peak memory,
// and the decode roofline (copy bandwidth / bytes of weights read per token).
#include <cstdio>
#include <nlohmann/json.hpp>

#include "bench_measure.h"
#include "commands.h"
#include "engine_options.h"
#include "format_util.h"

namespace gd::cli {

namespace {

const char* kUsage =
    "usage: gemmadesk-cli bench --model PATH [-p N[,N...]] [-n N] [-r R] [--images LIST] [--audio SECONDS]\n"
    "                           [--ttft-image BUDGET] [--ceilings | --bandwidth GB/s] [--json]\n"
    "  -p LIST            prompt lengths, each prefilled on an empty cache (default 512)\n"
    "  -n N               tokens decoded after the first prompt (default 128)\n"
    "  -r R               repetitions of every timing; the mean is reported (default 1)\n"
    "  --images LIST      vision tower time at these budgets (70,140,280,560,1120; 'all' for all five)\n"
    "  --audio SECONDS    audio tower time on a clip this long (E2B/E4B; 30 for one whole piece)\n"
    "  --ttft-image N     time to first token for an image of N soft tokens and a 50-token question\n"
    "  --ceilings         first measure the backend's copy bandwidth and bf16 product speed\n"
    "  --bandwidth GB/s   take this as the copy ceiling instead (for the decode roofline)\n";

std::vector<int64_t> parse_list(const std::string& s, const std::string& what) {
    std::vector<int64_t> v;
    size_t i = 0;
    while (i <= s.size()) {
        const size_t j = std::min(s.find(',', i), s.size());
        v.push_back(static_cast<int64_t>(parse_uint(s.substr(i, j - i), what)));
        i = j + 1;
    }
    return v;
}

nlohmann::json result_json(const BenchResult& r) {
    nlohmann::json prefill = nlohmann::json::array(), images = nlohmann::json::array();
    for (const auto& p : r.prefill)
        prefill.push_back({{"tokens", p.tokens}, {"tokens_per_second", p.tokens_per_second}, {"first_token_ms", p.first_token_ms}});
    for (const auto& e : r.images) images.push_back({{"budget", e.budget}, {"tokens", e.tokens}, {"ms", e.ms}});
    nlohmann::json j = {{"prefill", prefill},
                        {"gen_tokens_per_second", r.decode_tokens_per_second},
                        {"images", images},
                        {"weight_bytes_per_token", r.traffic.weight_bytes},
                        {"expert_bytes_per_token", r.traffic.expert_bytes},
                        {"one_device", r.one_device},
                        {"peak_rss_bytes", r.peak_rss_bytes},
                        {"backend_bytes", r.backend_bytes},
                        {"gpu_used_bytes", r.gpu_used_bytes},
                        {"achieved_gb_per_s", r.decode_tokens_per_second * static_cast<double>(r.traffic.weight_bytes) / 1e9}};
    // The first prompt length under the old names, for scripts written against them.
    j["prompt_tokens_per_second"] = r.prefill.front().tokens_per_second;
    j["time_to_first_token_ms"] = r.prefill.front().first_token_ms;
    if (r.audio) j["audio"] = {{"seconds", r.audio->budget / 1000.0}, {"tokens", r.audio->tokens}, {"ms", r.audio->ms}};
    if (r.ttft_image_ms) j["ttft_image"] = {{"ms", *r.ttft_image_ms}, {"prompt_tokens", r.ttft_image_prompt_tokens}};
    if (r.ceilings)
        j["ceilings"] = {{"copy_gb_per_s", r.ceilings->copy_bytes_per_second / 1e9},
                         {"bf16_tflops", r.ceilings->bf16_flops_per_second / 1e12},
                         {"bf16_sampled_error", r.ceilings->gemm_max_error}};
    if (r.roofline_tokens_per_second() > 0) {
        j["roofline_tokens_per_second"] = r.roofline_tokens_per_second();
        j["roofline_fraction"] = r.roofline_fraction();
    }
    return j;
}

void print_table(const BenchResult& r) {
    std::printf("| test            |        value | notes\n|-----------------|-------------:|------\n");
    for (const auto& p : r.prefill)
        std::printf("| pp%-13lld | %8.1f t/s | first token after %.0f ms\n", static_cast<long long>(p.tokens),
                    p.tokens_per_second, p.first_token_ms);
    std::printf("| tg              | %8.2f t/s | %s of weights per token -> %.2f GB/s", r.decode_tokens_per_second,
                human_bytes(r.traffic.weight_bytes).c_str(),
                r.decode_tokens_per_second * static_cast<double>(r.traffic.weight_bytes) / 1e9);
    if (r.roofline_tokens_per_second() > 0)
        std::printf("; roofline %.1f t/s, %.0f%% of it", r.roofline_tokens_per_second(), 100 * r.roofline_fraction());
    std::printf("\n");
    for (const auto& e : r.images)
        std::printf("| image %-9lld | %9.1f ms | %lld soft tokens\n", static_cast<long long>(e.budget), e.ms,
                    static_cast<long long>(e.tokens));
    if (r.audio)
        std::printf("| audio %5.1f s   | %9.1f ms | %lld soft tokens\n", r.audio->budget / 1000.0, r.audio->ms,
                    static_cast<long long>(r.audio->tokens));
    if (r.ttft_image_ms)
        std::printf("| ttft image      | %9.1f ms | encode + %lld-token prompt + first token\n", *r.ttft_image_ms,
                    static_cast<long long>(r.ttft_image_prompt_tokens));
    if (r.ceilings)
        std::printf("ceilings: copy %.1f GB/s (read + written), bf16 product %.2f TFLOP/s\n",
                    r.ceilings->copy_bytes_per_second / 1e9, r.ceilings->bf16_flops_per_second / 1e12);
    std::printf("peak RSS %s, backend weights + peak buffers %s", human_bytes(r.peak_rss_bytes).c_str(),
                human_bytes(r.backend_bytes).c_str());
    if (r.gpu_used_bytes) std::printf(", GPU memory in use %s", human_bytes(r.gpu_used_bytes).c_str());
    std::printf("\n");
    if (!r.one_device) std::printf("(layers split between GPU and CPU: no single-device roofline)\n");
}

}  // namespace

int cmd_bench(const Args& args) {
    std::vector<std::string> fixed;  // accept llama-bench's short -p / -n / -t / -r
    for (const std::string& s : args) {
        if (s == "-p") fixed.push_back("--prompt-tokens");
        else if (s == "-n") fixed.push_back("--gen-tokens");
        else if (s == "-t") fixed.push_back("--threads");
        else if (s == "-r") fixed.push_back("--repetitions");
        else fixed.push_back(s);
    }
    const ParsedArgs a(fixed,
                       options_union({kModelOptions, {"prompt-tokens", "gen-tokens", "repetitions", "images", "audio",
                                                      "ttft-image", "bandwidth"}}),
                       {"json", "help", "ceilings"});
    if (a.flag("help")) {
        std::printf("%s%s", kUsage, kModelOptionsHelp);
        return 0;
    }
    BenchRequest r;
    r.prompt_lengths = parse_list(a.value_or("prompt-tokens", "512"), "-p");
    for (const int64_t p : r.prompt_lengths)
        if (p < 1 || p > (int64_t{1} << 30)) throw UsageError("-p: every prompt length must be 1 to 2^30");
    r.gen_tokens = static_cast<int64_t>(parse_uint(a.value_or("gen-tokens", "128"), "-n"));
    if (r.gen_tokens > (int64_t{1} << 30)) throw UsageError("-n: too many tokens");
    const uint64_t reps = parse_uint(a.value_or("repetitions", "1"), "-r");
    if (reps < 1 || reps > 1000) throw UsageError("-r: 1 to 1000 repetitions");
    r.repetitions = static_cast<int>(reps);
    if (auto im = a.value("images")) {
        r.image_budgets = *im == "all" ? std::vector<int64_t>{70, 140, 280, 560, 1120} : parse_list(*im, "--images");
        for (const int64_t b : r.image_budgets)
            if (b < 1 || b > 1120) throw UsageError("--images: budgets are 1..1120 soft tokens");
    }
    if (auto s = a.value("audio")) {
        r.audio_seconds = parse_double(*s, "--audio");
        if (!(r.audio_seconds >= 0.1 && r.audio_seconds <= 600)) throw UsageError("--audio: 0.1 to 600 seconds");
    }
    if (auto t = a.value("ttft-image")) {
        r.ttft_image_budget = static_cast<int64_t>(parse_uint(*t, "--ttft-image"));
        if (r.ttft_image_budget < 1 || r.ttft_image_budget > 1120) throw UsageError("--ttft-image: 1..1120 soft tokens");
    }
    r.ceilings = a.flag("ceilings");
    if (auto bw = a.value("bandwidth")) {
        r.bandwidth = parse_double(*bw, "--bandwidth") * 1e9;
        if (!(r.bandwidth > 0)) throw UsageError("--bandwidth: GB/s, more than 0");
    }
    const auto model = load_model(a, a.flag("json"), r.context_needed());
    const BenchResult res = run_bench(model, r);
    if (a.flag("json")) {
        nlohmann::json j = result_json(res);
        j["model"] = *a.value("model");
        j["variant"] = describe(model->config());
        j["backend"] = model->placement();
        j["gen_tokens"] = r.gen_tokens;
        j["repetitions"] = r.repetitions;
        j["load_seconds"] = model->load_seconds();
        std::printf("%s\n", j.dump().c_str());
        return 0;
    }
    std::printf("model    %s\n         %s\nbackend  %s (loaded in %.2f s)\n", a.value("model")->c_str(),
                describe(model->config()).c_str(), model->placement().c_str(), model->load_seconds());
    print_table(res);
    return 0;
}

}  // namespace gd::cli
