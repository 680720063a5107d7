#include "support/bench_support.h"

#include <sys/resource.h>

#include <cstdio>
#include <filesystem>
#include <memory>

#include <nlohmann/json.hpp>

#include "common/error.h"
#include "format/quant/quant.h"
#include "format/safetensors.h"
#include "model/hf_config.h"
#include "model/model_files.h"
#include "model/tensor_names.h"
#include "testmodel/random_weights.h"

namespace gd::bench {

namespace fs = std::filesystem;

double seconds_since(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }

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

std::vector<std::string> split_list(const std::string& s) {
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

std::string write_bf16_model(const std::string& dir, const std::string& name, const ModelConfig& c) {
    const fs::path path = fs::path(dir) / name;
    if (fs::exists(path / "model.safetensors") && fs::exists(path / "config.json")) {
        try {
            ModelFiles::open({path.string()});
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
    const std::string text = config_to_hf_json(c).dump(2);
    std::fwrite(text.data(), 1, text.size(), f);
    std::fclose(f);
    return path.string();
}

}  // namespace gd::bench
