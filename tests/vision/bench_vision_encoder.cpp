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
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <random>
#include <string>
#include <vector>

#include "backend/backend.h"
#include "common/error.h"
#include "model/model_files.h"
#include "model/variants.h"
#include "vision/encoder/vision_encoder.h"
#include "support/bench_support.h"
#include "vision/image/image_preprocess.h"

namespace {

using namespace gd;
namespace fs = std::filesystem;
using bench::Clock;
using bench::peak_rss_mib;
using bench::process_cpu_seconds;
using bench::seconds_since;

// The tiny test model of `variant` with the full-size vision tower and no audio tower.
ModelConfig bench_config(Variant variant) {
    ModelConfig c = preset_config(variant, ModelSize::Tiny);
    c.vision = preset_config(variant, ModelSize::Full).vision;
    c.audio.reset();
    return c;
}

std::string write_tower(const std::string& dir, Variant variant) {
    return bench::write_bf16_model(dir, std::string("gd-bench-vision-") + variant_name(variant), bench_config(variant));
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
            towers = bench::split_list(value());
        else if (a == "--budgets") {
            budgets.clear();
            for (const std::string& b : bench::split_list(value())) budgets.push_back(std::atoll(b.c_str()));
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
