// Benchmark of the audio tower on the CPU backend (not a test): the full-size E2B/E4B conformer
// (1024 wide, 12 layers, clipped linears; identical in both variants) with random bf16 weights,
// encoding synthetic clips of the given lengths.
//
//   bench_audio_encoder [--threads N] [--seconds 1,5,10,30] [--dir PATH]
//
// The tower is written once as a Hugging Face folder (a tiny text model, which the tower does not use,
// plus the full-size audio tower, ~0.6 GB of bf16) under --dir (default $TMPDIR or /tmp), then loaded
// the way the app loads it. Build it in Release.
//
// Reported per length: the log-mel front end's milliseconds, the tower's (best of three up to 10 s),
// the cores it kept busy (process CPU time / wall time), the arithmetic (multiply-adds x 2), GFLOP/s,
// and the process's peak RSS.
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <string>
#include <vector>

#include "audio/encoder/audio_encoder.h"
#include "audio/features/log_mel.h"
#include "backend/backend.h"
#include "common/error.h"
#include "model/model_files.h"
#include "model/variants.h"
#include "support/bench_support.h"

namespace {

using namespace gd;
using bench::Clock;
using bench::seconds_since;

// A clip that is not silence: a few harmonics under an envelope, plus noise.
std::vector<float> synthetic_clip(double seconds) {
    const size_t n = static_cast<size_t>(seconds * 16000);
    std::vector<float> s(n);
    std::mt19937 rng(5);
    std::normal_distribution<float> noise(0.0f, 0.02f);
    for (size_t i = 0; i < n; ++i) {
        const double t = static_cast<double>(i) / 16000.0;
        const double env = 0.5 + 0.5 * std::sin(2 * M_PI * 1.7 * t);
        s[i] = static_cast<float>(env * (0.3 * std::sin(2 * M_PI * 220 * t) + 0.1 * std::sin(2 * M_PI * 660 * t))) +
               noise(rng);
    }
    return s;
}

// Multiply-adds x 2 of one piece of `frames` frames (elementwise work and the 12-key attention left out).
double flops(const AudioConfig& a, int64_t text_hidden, int64_t frames) {
    const double T1 = static_cast<double>((frames + 1) / 2), T2 = static_cast<double>(AudioEncoder::tokens_for_frames(frames));
    const double Ha = static_cast<double>(a.hidden_size), P = static_cast<double>(a.output_proj_dims);
    const double C0 = static_cast<double>(a.subsampling_channels0), C1 = static_cast<double>(a.subsampling_channels1);
    const double sscp = 2 * T1 * 64 * C0 * 9 + 2 * T2 * 32 * C1 * C0 * 9 + 2 * T2 * static_cast<double>(a.sscp_flat_width()) * Ha;
    // Per layer: two FFNs (2 x 2 x Ha x 4Ha), q/k/v/post (4 x Ha x Ha), linear_start (2Ha x Ha), linear_end (Ha x Ha).
    const double per_layer = 2 * T2 * (16 * Ha * Ha + 4 * Ha * Ha + 2 * Ha * Ha + Ha * Ha);
    return sscp + static_cast<double>(a.num_layers) * per_layer + 2 * T2 * Ha * P +
           2 * T2 * P * static_cast<double>(text_hidden);
}

}  // namespace

int main(int argc, char** argv) {
    int threads = 2;
    std::vector<double> lengths = {1, 5, 10, 30};
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
        else if (a == "--seconds") {
            lengths.clear();
            for (const std::string& s : bench::split_list(value())) lengths.push_back(std::atof(s.c_str()));
        } else if (a == "--dir")
            dir = value();
        else {
            std::fprintf(stderr, "usage: bench_audio_encoder [--threads N] [--seconds 1,5,10,30] [--dir PATH]\n");
            return 2;
        }
    }
    try {
        ModelConfig c = preset_config(Variant::E2B, ModelSize::Tiny);
        c.audio = preset_config(Variant::E2B, ModelSize::Full).audio;
        c.vision.reset();
        auto t0 = Clock::now();
        const std::string path = bench::write_bf16_model(dir, "gd-bench-audio-e2b", c);
        const double write_s = seconds_since(t0);
        const ModelFiles files = ModelFiles::open({path});
        auto backend = make_cpu_backend(threads);
        t0 = Clock::now();
        AudioEncoder enc(files, *backend);
        const AudioConfig& a = *files.config().audio;
        std::printf("audio tower (E2B/E4B): %lld wide, %lld layers; %.0f MiB of bf16 weights; %s\n",
                    static_cast<long long>(a.hidden_size), static_cast<long long>(a.num_layers),
                    enc.weight_bytes() / 1048576.0, backend->name().c_str());
        std::printf("(model folder ready in %.1f s, tower placed in %.2f s)\n", write_s, seconds_since(t0));
        std::printf("%8s %7s %7s %10s %10s %7s %8s %9s %14s\n", "seconds", "frames", "tokens", "mel ms", "tower ms",
                    "cores", "GFLOP", "GFLOP/s", "peak RSS MiB");
        for (double seconds : lengths) {
            const std::vector<float> clip = synthetic_clip(std::min(seconds, 30.0));
            t0 = Clock::now();
            const LogMel mel = log_mel_spectrogram(clip.data(), clip.size());
            const double mel_s = seconds_since(t0);
            double best = 1e300, cpu = 0;
            std::vector<float> soft;
            for (int rep = 0; rep < (seconds <= 10 ? 3 : 1); ++rep) {
                t0 = Clock::now();
                const double cpu0 = bench::process_cpu_seconds();
                soft = enc.encode(mel);
                const double wall = seconds_since(t0);
                if (wall < best) {
                    best = wall;
                    cpu = bench::process_cpu_seconds() - cpu0;
                }
            }
            bool finite = true;
            for (float x : soft) finite = finite && std::isfinite(x);
            const double gf = flops(a, files.config().text.hidden_size, mel.frames) / 1e9;
            std::printf("%8.1f %7lld %7lld %10.1f %10.0f %7.2f %8.1f %9.1f %14.0f %s\n", seconds,
                        static_cast<long long>(mel.frames), static_cast<long long>(AudioEncoder::tokens_for_frames(mel.frames)),
                        mel_s * 1e3, best * 1e3, cpu / best, gf, gf / best, bench::peak_rss_mib(),
                        finite ? "" : "NON-FINITE");
            std::fflush(stdout);
        }
    } catch (const std::exception& e) {
        std::fprintf(stderr, "error: %s\n", e.what());
        return 1;
    }
    return 0;
}
