#pragma once
// Shared by the tower benchmarks (bench_vision_encoder, bench_audio_encoder): timing, resource use,
// and a full-size tower written once as a Hugging Face folder with the test models' random values.
#include <chrono>
#include <string>
#include <vector>

#include "model/model_config.h"

namespace gd::bench {

using Clock = std::chrono::steady_clock;
double seconds_since(Clock::time_point t0);
// CPU time of the whole process (all threads), seconds: with wall time, shows whether other
// processes took the cores during a run (cpu / wall < threads).
double process_cpu_seconds();
double peak_rss_mib();
// "a,b,c" -> {"a", "b", "c"}
std::vector<std::string> split_list(const std::string& s);

// Writes `config` as <dir>/<name>/{config.json, model.safetensors} (bf16, the test models' random
// values, seed 1) unless a previous run left a complete folder; returns the folder.
std::string write_bf16_model(const std::string& dir, const std::string& name, const ModelConfig& config);

}  // namespace gd::bench
