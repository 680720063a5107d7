#include "bench_measure.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <string>

#include "backend/device_query.h"
#include "common/error.h"
#include "engine/chat_session.h"

namespace gd::cli {

namespace {

using Clock = std::chrono::steady_clock;
double ms_since(Clock::time_point t0) { return std::chrono::duration<double, std::milli>(Clock::now() - t0).count(); }

// Deterministic ordinary tokens (ids past the special and byte tokens of the vocabulary), after BOS.
std::vector<int32_t> bench_prompt(const Model& m, int64_t n) {
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

GenerateOptions greedy(int64_t max_tokens) {
    GenerateOptions g;
    g.sampling.temperature = 0;
    g.max_tokens = max_tokens;
    g.stop_ids = {-1};  // never stop early
    return g;
}

// A photo-like test image: smooth gradients with noise (the tower's cost does not depend on it).
RgbImage bench_image() {
    RgbImage im;
    im.width = 1000;
    im.height = 1000;
    im.pixels.resize(static_cast<size_t>(im.width * im.height * 3));
    uint32_t x = 1;
    for (int64_t y = 0; y < im.height; ++y)
        for (int64_t c = 0; c < im.width; ++c) {
            x = x * 1664525u + 1013904223u;
            uint8_t* p = im.pixels.data() + (y * im.width + c) * 3;
            p[0] = static_cast<uint8_t>((y * 255 / im.height + (x >> 28)) & 0xff);
            p[1] = static_cast<uint8_t>((c * 255 / im.width + (x >> 24 & 15)) & 0xff);
            p[2] = static_cast<uint8_t>(((y + c) * 127 / im.width) & 0xff);
        }
    return im;
}

// A spoken-like test clip at 16 kHz: a gliding tone with noise.
std::vector<float> bench_clip(double seconds) {
    const size_t n = static_cast<size_t>(seconds * 16000);
    std::vector<float> s(n);
    uint32_t x = 7;
    double phase = 0;
    for (size_t i = 0; i < n; ++i) {
        x = x * 1664525u + 1013904223u;
        phase += 2 * M_PI * (200.0 + 100.0 * std::sin(static_cast<double>(i) / 8000.0)) / 16000.0;
        s[i] = static_cast<float>(0.3 * std::sin(phase) + 0.02 * ((x >> 8) / 16777216.0 - 0.5));
    }
    return s;
}

// A question of about `tokens` tokens of ordinary words.
std::string question_text(const Model& m, int64_t tokens) {
    static const char* words[] = {"what", "colour", "is", "the", "large", "object", "near", "left", "edge", "of",
                                  "this", "picture", "and", "how", "many", "small", "shapes", "can", "you", "see"};
    std::string q;
    for (size_t i = 0; static_cast<int64_t>(m.tokenizer().encode(q).size()) < tokens; ++i) {
        if (!q.empty()) q += ' ';
        q += words[i % (sizeof(words) / sizeof(words[0]))];
    }
    return q + "?";
}

void measure_text(const std::shared_ptr<Model>& model, const BenchRequest& r, BenchResult& out) {
    Session session(model);
    {  // warm-up: first touch of buffers, kernel selection, the decode step's recording
        const std::vector<int32_t> p = bench_prompt(*model, std::min<int64_t>(r.prompt_lengths.front(), 8));
        session.generate(p, greedy(4));
    }
    for (size_t i = 0; i < r.prompt_lengths.size(); ++i) {
        const int64_t n = r.prompt_lengths[i];
        const std::vector<int32_t> prompt = bench_prompt(*model, n);
        BenchResult::Prefill p;
        p.tokens = n;
        double decode = 0;
        for (int rep = 0; rep < r.repetitions; ++rep) {
            session.reset();
            const GenerationResult g = session.generate(prompt, greedy(i == 0 ? r.gen_tokens : 1));
            p.tokens_per_second += g.stats.prompt_tokens_per_second() / r.repetitions;
            p.first_token_ms += g.stats.time_to_first_token * 1000 / r.repetitions;
            decode += g.stats.generated_tokens_per_second() / r.repetitions;
        }
        if (i == 0) out.decode_tokens_per_second = decode;
        out.prefill.push_back(p);
    }
}

void measure_towers(const std::shared_ptr<Model>& model, const BenchRequest& r, BenchResult& out) {
    if ((!r.image_budgets.empty() || r.ttft_image_budget > 0) && !model->has_vision())
        throw Error("bench: this model has no vision tower (a GGUF model needs its mmproj file)");
    if (r.audio_seconds > 0 && !model->has_audio())
        throw Error("bench: this model has no audio tower (E2B/E4B only; a GGUF model needs its mmproj file)");
    const RgbImage image = bench_image();
    if (!r.image_budgets.empty()) model->encode_image(image, r.image_budgets.front());  // warm-up
    for (const int64_t budget : r.image_budgets) {
        BenchResult::Encode e;
        e.budget = budget;
        for (int rep = 0; rep < r.repetitions; ++rep) {
            const auto t0 = Clock::now();
            const auto emb = model->encode_image(image, budget);
            e.ms += ms_since(t0) / r.repetitions;
            e.tokens = emb->tokens;
        }
        out.images.push_back(e);
    }
    if (r.audio_seconds > 0) {
        const std::vector<float> clip = bench_clip(r.audio_seconds);
        model->encode_audio(bench_clip(1.0));  // warm-up
        BenchResult::Encode e;
        e.budget = static_cast<int64_t>(r.audio_seconds * 1000);
        for (int rep = 0; rep < r.repetitions; ++rep) {
            const auto t0 = Clock::now();
            const auto emb = model->encode_audio(clip);
            e.ms += ms_since(t0) / r.repetitions;
            e.tokens = emb->tokens;
        }
        out.audio = e;
    }
    if (r.ttft_image_budget > 0) {
        // As the app answers a dropped image and a question: encode, render the turn, prefill, sample.
        const std::string question = question_text(*model, r.ttft_question_tokens);
        Session session(model);
        double total = 0;
        for (int rep = 0; rep < r.repetitions + 1; ++rep) {  // the first run warms up
            session.reset();
            const auto t0 = Clock::now();
            ChatMessage user;
            user.role = "user";
            user.content.push_back({ChatItem::Kind::Image, "", model->encode_image(image, r.ttft_image_budget)});
            user.content.push_back({ChatItem::Kind::Text, question, nullptr});
            const Prompt prompt = single_turn_prompt(*model, user);
            session.generate(prompt, greedy(1));
            if (rep > 0) total += ms_since(t0);
            out.ttft_image_prompt_tokens = static_cast<int64_t>(prompt.ids.size());
        }
        out.ttft_image_ms = total / r.repetitions;
    }
}

CeilingOptions ceiling_options(const Backend& b) {
    CeilingOptions o;
    if (b.kind() == DeviceKind::Cpu) {  // a few seconds on a desktop CPU
        o.copy_bytes = uint64_t{256} << 20;
        o.copy_repetitions = 5;
        o.gemm_rows = 256;
        o.gemm_out = 4096;
        o.gemm_in = 4096;
        o.gemm_repetitions = 2;
    }
    return o;
}

}  // namespace

int64_t BenchRequest::context_needed() const {
    int64_t n = 0;
    for (size_t i = 0; i < prompt_lengths.size(); ++i) n = std::max(n, prompt_lengths[i] + (i == 0 ? gen_tokens : 1) + 1);
    if (ttft_image_budget > 0) n = std::max(n, ttft_image_budget + ttft_question_tokens + 64);
    return n;
}

double BenchResult::roofline_tokens_per_second() const {
    return bandwidth > 0 && traffic.weight_bytes > 0 && one_device ? bandwidth / static_cast<double>(traffic.weight_bytes) : 0;
}

double BenchResult::roofline_fraction() const {
    const double roof = roofline_tokens_per_second();
    return roof > 0 ? decode_tokens_per_second / roof : 0;
}

BenchResult run_bench(const std::shared_ptr<Model>& model, const BenchRequest& r) {
    if (r.prompt_lengths.empty() || r.repetitions < 1) throw Error("bench: no prompt length or repetitions");
    BenchResult out;
    out.traffic = decode_traffic(model->files());
    for (int64_t i = 0; i < model->config().text.num_layers; ++i)
        if (&model->decoder().layer_backend(i) != &model->backend()) out.one_device = false;
    if (r.ceilings) out.ceilings = measure_ceilings(model->backend(), ceiling_options(model->backend()));
    out.bandwidth = r.bandwidth > 0 ? r.bandwidth : out.ceilings ? out.ceilings->copy_bytes_per_second : 0;
    measure_text(model, r, out);
    measure_towers(model, r, out);
    model->backend().synchronize();
    out.peak_rss_bytes = peak_rss_bytes();
    const BackendStats s = model->backend().stats();
    out.backend_bytes = s.weight_bytes + s.peak_buffer_bytes;
    if (model->backend().kind() == DeviceKind::Cuda) {
        const DeviceReport d = query_cuda_devices();
        for (const GpuInfo& g : d.gpus)
            if (g.index == model->options().gpu) out.gpu_used_bytes = g.total_bytes - g.free_bytes;
    }
    return out;
}

}  // namespace gd::cli
