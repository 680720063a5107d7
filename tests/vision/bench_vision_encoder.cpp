// Benchmark of the vision tower on the CPU backend (not a test): the full-size E2B/E4B tower (768
// wide, 16 layers, clipped linears) and the 26B/31B tower (1152 wide, 27 layers, standardised), with
// random bf16 weights, encoding a square image at each soft-token budget.
//
//   bench_vision_encoder [--threads N] [--towers small,large] [--budgets 70,140,...] [--dir PATH]
//
// The towers are written once as a Hugging Face folder (a tiny text model, which the tower does not
// use, plus the full-size tower: ~0.3 GB / ~1.1 GB of bf16) under --dir (default $TMPDIR or /tmp),
// then loaded the way the app loads them. The image is 1000x1000 pixels, sized by the reference rule
// (image_target_size); its pixel values do not matter to the timing. Build it in Release.
//
// Reported per budget: wall time of one encode (the best of three up to budget 280), the cores it kept busy (process
// CPU time / wall time: below --threads when other processes shared the machine), the arithmetic done (multiply-adds x
// 2), GFLOP/s of wall and of CPU time, the share the attention alone takes (timed separately with the same shapes), and
// the process's peak RSS.
#include <sys/resource.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <random>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "backend/backend.h"
#include "common/error.h"
#include "format/quant/quant.h"
#include "format/safetensors.h"
#include "model/hf_config.h"
#include "model/model_files.h"
#include "model/tensor_names.h"
#include "model/variants.h"
#include "testmodel/random_weights.h"
#include "vision/encoder/vision_encoder.h"
#include "vision/image/image_preprocess.h"

namespace {

using namespace gd;
namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }

// CPU time of the whole process (all threads), seconds: with wall time, shows whether other
// processes took the cores during a run (cpu / wall < threads).
double process_cpu_seconds() {
    rusage u{};
    getrusage(RUSAGE_SELF, &u);
    return static_cast<double>(u.ru_utime.tv_sec + u.ru_stime.tv_sec) +
           1e-6 * static_cast<double>(u.ru_utime.tv_usec + u.ru_stime.tv_usec);
}

double peak_rss_mib() {
    rusage u{};
    getrusage(RUSAGE_SELF, &u);
    return static_cast<double>(u.ru_maxrss) / 1024.0;  // ru_maxrss is in KiB on Linux
}

// The tiny test model of `variant` with the full-size vision tower and no audio tower.
ModelConfig bench_config(Variant variant) {
    ModelConfig c = preset_config(variant, ModelSize::Tiny);
    c.vision = preset_config(variant, ModelSize::Full).vision;
    c.audio.reset();
    return c;
}

// Writes the folder (config.json + model.safetensors, bf16, the test models' random values) unless a
// previous run left a complete one.
std::string write_tower(const std::string& dir, Variant variant) {
    const ModelConfig c = bench_config(variant);
    const fs::path path = fs::path(dir) / (std::string("gd-bench-vision-") + variant_name(variant));
    const nlohmann::json config = config_to_hf_json(c);
    if (fs::exists(path / "model.safetensors") && fs::exists(path / "config.json")) {
        try {
            const std::string path_str = path.string();
            ModelFiles::open({path_str});
            return path.string();
        } catch (const Error&) {
            // stale or partial: written again below
        }
    }
    fs::create_directories(path);
    std::vector<ExpectedTensor> tensors = expected_tensors(c);
    std::vector<std::unique_ptr<WeightInit>> inits;
    std::vector<SafetensorsWriteTensor> out;
    for (const ExpectedTensor& t : tensors) {
        if (t.gguf_only) continue;
        inits.push_back(std::make_unique<WeightInit>(t, 1, c));
        const WeightInit* init = inits.back().get();
        const uint64_t row = t.shape.empty() ? 1 : t.shape.back();
        out.push_back(
            {t.hf_name, DType::BF16, t.shape, nullptr, [init, row](uint8_t* dst, uint64_t row0, uint64_t nrows) {
                 std::vector<float> v(row);
                 for (uint64_t r = 0; r < nrows; ++r) {
                     init->fill((row0 + r) * row, v.data(), row);
                     quantize_row(DType::BF16, v.data(), dst + r * row * 2, row);
                 }
             }});
    }
    write_safetensors((path / "model.safetensors").string(), out, {{"format", "pt"}}, 2);
    std::FILE* f = std::fopen((path / "config.json").string().c_str(), "w");
    if (!f) throw Error("cannot write " + (path / "config.json").string());
    const std::string text = config.dump(2);
    std::fwrite(text.data(), 1, text.size(), f);
    std::fclose(f);
    return path.string();
}

PatchedImage square_image(int64_t budget) {
    PatchedImage im;
    im.size = image_target_size(1000, 1000, budget);
    const int64_t gw = im.size.grid_width(), n = im.size.patches(), dim = 16 * 16 * 3;
    std::mt19937 rng(7);
    std::uniform_int_distribution<int> byte(0, 255);
    im.patches.resize(static_cast<size_t>(n * dim));
    for (float& v : im.patches) v = static_cast<float>(byte(rng)) / 255.0f;
    for (int64_t i = 0; i < n; ++i) {
        im.pos_x.push_back(static_cast<int32_t>(i % gw));
        im.pos_y.push_back(static_cast<int32_t>(i / gw));
    }
    return im;
}

// Multiply-adds x 2 of one encode: patch embedding, per layer q/k/v/o and the GeGLU MLP plus the
// attention's two N x N products, then the embedder (elementwise work and the pooling left out).
double flops(const VisionConfig& v, int64_t text_hidden, int64_t n) {
    const double N = static_cast<double>(n), H = static_cast<double>(v.hidden_size);
    const double F = static_cast<double>(v.intermediate_size);
    const double per_layer = 2 * N * (4 * H * H + 3 * H * F) + 4 * N * N * H;
    return 2 * N * 768 * H + static_cast<double>(v.num_layers) * per_layer +
           2 * (N / 9) * H * static_cast<double>(text_hidden);
}

// One attention_dense call with the tower's shapes on random data, seconds.
double time_attention(Backend& b, const VisionConfig& v, int64_t n) {
    const int64_t W = v.num_heads * v.head_dim;
    std::vector<float> host(static_cast<size_t>(n * W));
    std::mt19937 rng(3);
    std::normal_distribution<float> normal(0.0f, 1.0f);
    for (float& x : host) x = normal(rng);
    Tensor q = b.alloc(n, W), k = b.alloc(n, W), val = b.alloc(n, W), out = b.alloc(n, W);
    b.upload(host.data(), q);
    b.upload(host.data(), k);
    b.upload(host.data(), val);
    const auto t0 = Clock::now();
    b.attention_dense(q, k, val, v.num_heads, v.head_dim, 1.0f, out);
    b.synchronize();
    return seconds_since(t0);
}

std::vector<std::string> split(const std::string& s) {
    std::vector<std::string> out;
    size_t a = 0;
    while (a <= s.size()) {
        const size_t b = s.find(',', a);
        out.push_back(s.substr(a, b == std::string::npos ? std::string::npos : b - a));
        if (b == std::string::npos) break;
        a = b + 1;
    }
    return out;
}

}  // namespace

int main(int argc, char** argv) {
    int threads = 2;
    std::vector<std::string> towers = {"small", "large"};
    std::vector<int64_t> budgets = {70, 140, 280, 560, 1120};
    const char* tmp = std::getenv("TMPDIR");
    std::string dir = tmp && *tmp ? tmp : "/tmp";
    for (int i = 1; i < argc; ++i) {
        const std::string a = argv[i];
        auto value = [&]() -> std::string {
            if (i + 1 >= argc) {
                std::fprintf(stderr, "%s needs a value\n", a.c_str());
                std::exit(2);
            }
            return argv[++i];
        };
        if (a == "--threads")
            threads = std::atoi(value().c_str());
        else if (a == "--towers")
            towers = split(value());
        else if (a == "--budgets") {
            budgets.clear();
            for (const std::string& b : split(value())) budgets.push_back(std::atoll(b.c_str()));
        } else if (a == "--dir")
            dir = value();
        else {
            std::fprintf(stderr,
                         "usage: bench_vision_encoder [--threads N] [--towers small,large] [--budgets 70,140,...] "
                         "[--dir PATH]\n");
            return 2;
        }
    }
    try {
        for (const std::string& tower : towers) {
            const Variant variant = tower == "large" ? Variant::A26B : Variant::E2B;
            auto t0 = Clock::now();
            const std::string path = write_tower(dir, variant);
            const double write_s = seconds_since(t0);
            const ModelFiles files = ModelFiles::open({path});
            auto backend = make_cpu_backend(threads);
            t0 = Clock::now();
            VisionEncoder enc(files, *backend);
            const VisionConfig& v = *files.config().vision;
            std::printf("\n%s tower (%s): %lld wide, %lld layers, %s; %.0f MiB of bf16 weights; %s\n", tower.c_str(),
                        tower == "large" ? "26B/31B" : "E2B/E4B", static_cast<long long>(v.hidden_size),
                        static_cast<long long>(v.num_layers),
                        v.use_clipped_linears ? "clipped linears" : "standardised", enc.weight_bytes() / 1048576.0,
                        backend->name().c_str());
            std::printf("(model folder ready in %.1f s, tower placed in %.2f s)\n", write_s, seconds_since(t0));
            std::printf("%7s %9s %7s %8s %9s %7s %8s %9s %13s %10s\n", "budget", "image", "tokens", "patches", "ms",
                        "cores", "GFLOP", "GFLOP/s", "GFLOP/cpu-s", "attention");
            for (int64_t budget : budgets) {
                const PatchedImage im = square_image(budget);
                const int64_t n = im.size.patches();
                // The fastest of a few runs for the quick budgets (the machine may be shared).
                std::vector<float> soft;
                double s = 1e300, cpu = 0;
                for (int rep = 0; rep < (n <= 2600 ? 3 : 1); ++rep) {
                    t0 = Clock::now();
                    const double cpu0 = process_cpu_seconds();
                    soft = enc.encode(im);
                    const double wall = seconds_since(t0);
                    if (wall < s) {
                        s = wall;
                        cpu = process_cpu_seconds() - cpu0;
                    }
                }
                bool finite = true;
                for (float x : soft) finite = finite && std::isfinite(x);
                const double attn = time_attention(*backend, v, n);
                const double gf = flops(v, files.config().text.hidden_size, n) / 1e9;
                std::printf(
                    "%7lld %4lldx%-4lld %7lld %8lld %9.0f %7.2f %8.1f %9.1f %13.1f %9.0f%% %s  peak RSS %.0f MiB\n",
                    static_cast<long long>(budget), static_cast<long long>(im.size.width),
                    static_cast<long long>(im.size.height), static_cast<long long>(im.size.soft_tokens()),
                    static_cast<long long>(n), s * 1e3, cpu / s, gf, gf / s, gf / cpu,
                    100.0 * attn * static_cast<double>(v.num_layers) / s, finite ? "" : "NON-FINITE", peak_rss_mib());
                std::fflush(stdout);
            }
        }
    } catch (const std::exception& e) {
        std::fprintf(stderr, "error: %s\n", e.what());
        return 1;
    }
    return 0;
}
