// A Session: one sequence and its KV cache. generate() reuses the longest prefix of the new prompt
// that the cache already holds (a chat's next turn prefills only its new tokens), then samples
// token by token; score() is teacher forcing on a fresh cache.
#include <algorithm>
#include <chrono>
#include <cmath>

#include "common/error.h"
#include "engine/engine.h"

namespace gd {

namespace {
using Clock = std::chrono::steady_clock;
double seconds(Clock::time_point a, Clock::time_point b) { return std::chrono::duration<double>(b - a).count(); }

// A byte-fallback token ("<0xNN>"): the text of a run of them is only final once the run ends (a
// run that is not valid UTF-8 decodes differently as it grows).
bool is_byte_token(const Tokenizer& tok, int32_t id) {
    const std::string& p = tok.piece(id);
    return p.size() == 6 && p.compare(0, 3, "<0x") == 0 && p[5] == '>';
}
}  // namespace

Session::Session(std::shared_ptr<Model> model, int64_t context) : model_(std::move(model)) {
    const int64_t ctx = context > 0 ? std::min(context, model_->config().text.max_position_embeddings) : model_->options().context;
    cache_ = model_->decoder().make_cache(ctx, model_->has_vision() ? prefill_chunk(model_->config(), model_->options().batch)
                                                                     : model_->options().batch);
}

void Session::reset() {
    cache_.clear();
    history_.clear();
    history_media_.clear();
}

size_t Session::cached_prefix(const Prompt& prompt) const {
    const std::vector<int32_t>& ids = prompt.ids;
    // Longest common prefix of ids, leaving at least the last token to run for its logits.
    size_t keep = 0;
    while (keep < history_.size() && keep + 1 < ids.size() && history_[keep] == ids[keep]) ++keep;
    // Placeholders look alike: a span before `keep` counts only when the same media sits at the same
    // place on both sides (checked both ways: a cached image must be in the prompt, and a prompt image
    // must have been cached, not placeholders with no image). A span is kept whole or not at all
    // (26B/31B images attend within themselves).
    auto limit = [&keep](const std::vector<PromptMedia>& spans, const std::vector<PromptMedia>& other) {
        for (const PromptMedia& s : spans) {
            const size_t first = static_cast<size_t>(s.position);
            if (first >= keep) return;
            const bool same = std::any_of(other.begin(), other.end(), [&](const PromptMedia& o) {
                return o.position == s.position && o.media->tokens == s.media->tokens && o.media->key == s.media->key;
            });
            if (!same || first + static_cast<size_t>(s.media->tokens) > keep) {
                keep = first;
                return;
            }
        }
    };
    limit(history_media_, prompt.media);
    limit(prompt.media, history_media_);
    return keep;
}

Tensor Session::feed(const Prompt& prompt, GenerationStats& stats) {
    const std::vector<int32_t>& ids = prompt.ids;
    if (ids.empty()) throw Error("the prompt is empty");
    if (static_cast<int64_t>(ids.size()) > cache_.context()) {
        throw Error("the prompt has " + std::to_string(ids.size()) + " tokens, more than the context length " +
                    std::to_string(cache_.context()));
    }
    const int64_t hidden = model_->config().text.hidden_size;
    int64_t prev_end = 0;
    for (const PromptMedia& m : prompt.media) {
        if (!m.media || m.position < prev_end || m.media->tokens <= 0 ||
            m.position + m.media->tokens > static_cast<int64_t>(ids.size()) || m.media->width != hidden ||
            m.media->data.size() != static_cast<size_t>(m.media->tokens * hidden)) {
            throw Error("the prompt's media do not fit its placeholders (position, count or width)");
        }
        prev_end = m.position + m.media->tokens;
    }
    size_t keep = cached_prefix(prompt);
    if (!cache_.can_rewind_to(static_cast<int64_t>(keep))) keep = 0;
    cache_.set_length(static_cast<int64_t>(keep));
    history_.resize(keep);
    std::erase_if(history_media_, [&](const PromptMedia& m) { return static_cast<size_t>(m.position) >= keep; });

    const std::vector<int32_t> fresh(ids.begin() + static_cast<std::ptrdiff_t>(keep), ids.end());
    std::vector<SoftTokenSpan> spans;
    const bool bidirectional = model_->decoder().bidirectional_images();
    for (const PromptMedia& m : prompt.media) {
        if (static_cast<size_t>(m.position) < keep) continue;  // cached (cached_prefix never cuts a span)
        SoftTokenSpan s;
        s.offset = m.position - static_cast<int64_t>(keep);
        s.rows = m.media->tokens;
        s.data = m.media->data.data();
        s.bidirectional = bidirectional && m.media->kind == MediaEmbedding::Kind::Image;
        spans.push_back(s);
    }
    // The media the cache holds after positions [0, n) are in it.
    auto sync_history = [&](size_t n) {
        history_.assign(ids.begin(), ids.begin() + static_cast<std::ptrdiff_t>(n));
        history_media_.clear();
        for (const PromptMedia& m : prompt.media)
            if (static_cast<size_t>(m.position + m.media->tokens) <= n) history_media_.push_back(m);
    };
    Tensor logits;
    try {
        logits = model_->decoder().forward_to_logits(fresh, spans, cache_, {}, &cancel_);
    } catch (...) {
        // What completed is still valid: keep the history in step with the cache.
        sync_history(static_cast<size_t>(cache_.length()));
        throw;
    }
    sync_history(ids.size());
    stats.prompt_tokens = static_cast<int64_t>(ids.size());
    stats.prefilled_tokens = static_cast<int64_t>(fresh.size());
    return logits;
}

GenerationResult Session::generate(const std::vector<int32_t>& prompt, const GenerateOptions& o, const TokenCallback& on_token) {
    return generate(Prompt{prompt, {}}, o, on_token);
}

GenerationResult Session::generate(const Prompt& prompt, const GenerateOptions& o, const TokenCallback& on_token) {
    cancel_.store(false);
    GenerationResult r;
    const auto t0 = Clock::now();
    const Tokenizer& tok = model_->tokenizer();
    std::vector<int32_t> stops = o.stop_ids;
    if (stops.empty())
        for (int64_t s : model_->config().tokens.stop) stops.push_back(static_cast<int32_t>(s));
    Sampler sampler(o.sampling);

    Tensor logits;
    try {
        logits = feed(prompt, r.stats);
    } catch (const Cancelled&) {
        r.finish = FinishReason::Cancelled;
        r.stats.prefill_seconds = seconds(t0, Clock::now());
        return r;
    }
    const auto t_prefilled = Clock::now();
    r.stats.prefill_seconds = seconds(t0, t_prefilled);

    std::vector<int32_t> recent = prompt.ids;
    std::string emitted;
    for (int64_t step = 0;; ++step) {
        if (step >= o.max_tokens) {
            r.finish = FinishReason::Length;
            break;
        }
        if (cancel_.load()) {
            r.finish = FinishReason::Cancelled;
            break;
        }
        TokenEvent ev;
        const int32_t id = choose(logits, o, sampler, recent, ev);
        if (step == 0) r.stats.time_to_first_token = seconds(t0, Clock::now());
        if (std::find(stops.begin(), stops.end(), id) != stops.end()) {
            r.finish = FinishReason::Stop;
            r.stop_id = id;
            break;
        }
        r.ids.push_back(id);
        recent.push_back(id);
        ev.id = id;
        if (!is_byte_token(tok, id)) {
            // Pieces decode independently once no byte run is open, so the text so far is final.
            const std::string full = tok.decode(r.ids);
            ev.text = full.substr(std::min(emitted.size(), full.size()));
            emitted = full;
        }
        r.stats.generated_tokens = static_cast<int64_t>(r.ids.size());
        if (on_token && !on_token(ev)) {
            r.finish = FinishReason::CallbackStopped;
            break;
        }
        if (step + 1 >= o.max_tokens) {  // no need to run the last token
            r.finish = FinishReason::Length;
            break;
        }
        if (cache_.length() + 1 > cache_.context()) {
            r.finish = FinishReason::ContextFull;
            break;
        }
        try {
            logits = model_->decoder().forward_to_logits({id}, {}, cache_, {}, &cancel_);
            history_.push_back(id);
        } catch (const Cancelled&) {
            r.finish = FinishReason::Cancelled;
            break;
        }
    }
    r.text = tok.decode(r.ids);
    if (r.text.size() > emitted.size() && on_token) {
        TokenEvent flush;  // the text of a byte run that was still open
        flush.id = -1;
        flush.text = r.text.substr(emitted.size());
        on_token(flush);
    }
    const auto t_end = Clock::now();
    r.stats.generation_seconds = seconds(t_prefilled, t_end);
    r.stats.prompt_tokens = static_cast<int64_t>(prompt.ids.size());
    r.stats.generated_tokens = static_cast<int64_t>(r.ids.size());
    r.stats.peak_rss_bytes = peak_rss_bytes();
    r.stats.kv_cache_bytes = cache_.bytes();
    return r;
}

int32_t Session::choose(const Tensor& logits, const GenerateOptions& o, Sampler& sampler,
                        const std::vector<int32_t>& recent, TokenEvent& ev) {
    Backend& b = model_->backend();
    const int64_t n_vocab = logits.cols;
    if (b.kind() == DeviceKind::Cpu || o.top_logprobs > 0) {
        // The whole row on the host (free on the CPU): the host sampler and the top log-probabilities.
        std::vector<float> host(static_cast<size_t>(n_vocab));
        b.download(logits, host.data());
        for (float v : host) {
            if (!std::isfinite(v)) {
                throw Error("the model produced a non-finite logit: its weights are probably corrupt (NaN or Inf)");
            }
        }
        const int32_t id = o.sampling.temperature <= 0 ? argmax(host) : sampler.sample(host, recent);
        const double lse = log_sum_exp(host.data(), n_vocab);
        ev.logprob = static_cast<float>(host[static_cast<size_t>(id)] - lse);
        ev.top = top_logprobs(host.data(), n_vocab, o.top_logprobs, lse);
        return id;
    }
    // On the device: the sampler's rules run there with a draw from the same seeded generator (drawn
    // every step here, so a seed gives a different — equally distributed — text than on the CPU).
    // Greedy is the plain argmax, as on the host path (no penalties).
    SamplingParams p = o.sampling;
    if (p.temperature <= 0) {
        p.temperature = 0;
        p.repetition_penalty = 1.0f;
        p.presence_penalty = p.frequency_penalty = 0.0f;
    }
    const double u = p.temperature > 0 ? sampler.next_uniform() : 0.0;
    const int32_t id = b.sample_token(logits, p, recent, u);
    ev.logprob = b.log_softmax_at(logits, id);
    if (!std::isfinite(ev.logprob)) {
        throw Error("the model produced a non-finite logit: its weights are probably corrupt (NaN or Inf)");
    }
    return id;
}

std::vector<PositionScore> Session::score(const std::vector<int32_t>& ids, int top_k) {
    cancel_.store(false);
    if (ids.empty()) return {};
    KvCache cache = model_->decoder().make_cache(std::max<int64_t>(static_cast<int64_t>(ids.size()), 1),
                                                 model_->options().batch);
    std::vector<PositionScore> out(ids.size());
    model_->decoder().forward(ids, cache, true,
                              [&](int64_t pos, const float* row, int64_t n) {
                                  out[static_cast<size_t>(pos)].top = top_logprobs(row, n, top_k, log_sum_exp(row, n));
                              },
                              {}, &cancel_);
    return out;
}

}  // namespace gd
