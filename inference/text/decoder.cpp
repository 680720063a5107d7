#include "text/decoder.h"

#include <algorithm>
#include <cmath>

#include "common/error.h"
#include "text/rope_tables.h"

namespace gd {

TextDecoder::TextDecoder(const ModelConfig& config, TextWeights weights, Backend& backend)
    : model_(config), text_(config.text), w_(std::move(weights)), backend_(backend), split_(config.text.num_layers),
      inv_freq_sliding_(rope_inv_freq(model_.text, LayerKind::Sliding)),
      inv_freq_full_(rope_inv_freq(model_.text, LayerKind::Full)),
      eps_(static_cast<float>(model_.text.rms_norm_eps)) {}

TextDecoder::TextDecoder(const ModelConfig& config, TextWeights weights, Backend& backend, Backend& rest,
                         int64_t gpu_layers)
    : TextDecoder(config, std::move(weights), backend) {
    if (gpu_layers < 0 || gpu_layers > text_.num_layers || !valid_split(text_, gpu_layers)) {
        throw Error("cannot put " + std::to_string(gpu_layers) + " of " + std::to_string(text_.num_layers) +
                    " layers on the GPU: a layer would read the KV cache of a layer on the other device");
    }
    rest_ = &rest;
    split_ = gpu_layers;
}

bool TextDecoder::valid_split(const TextConfig& c, int64_t n) { return c.valid_split(n); }

Tensor TextDecoder::move_to(Backend& from, Backend& to, const Tensor& t) {
    std::vector<float> host(static_cast<size_t>(t.elements()));
    from.download(t, host.data());
    Tensor out = to.alloc(t.rows, t.cols);
    to.upload(host.data(), out);
    return out;
}

KvCache TextDecoder::make_cache(int64_t context, int64_t max_chunk) const {
    if (context > text_.max_position_embeddings) {
        throw Error("a context of " + std::to_string(context) + " tokens is more than this model supports (" +
                    std::to_string(text_.max_position_embeddings) + ")");
    }
    return KvCache([this](int64_t layer) -> Backend& { return layer_backend(layer); }, text_, context, max_chunk);
}

void TextDecoder::forward(const std::vector<int32_t>& ids, const std::vector<SoftTokenSpan>& spans, KvCache& cache,
                          bool all_logits, const LogitsSink& sink, const TensorObserver& observe,
                          const std::atomic<bool>* cancel) {
    run(ids, spans, cache, static_cast<bool>(sink), all_logits,
        [&](int64_t first, const Tensor& logits) {
            std::vector<float> host(static_cast<size_t>(logits.elements()));
            backend_.download(logits, host.data());
            for (int64_t r = 0; r < logits.rows; ++r) {
                const float* row = host.data() + r * text_.vocab_size;
                for (int64_t v = 0; v < text_.vocab_size; ++v) {
                    if (!std::isfinite(row[v])) {
                        throw Error("the model produced a non-finite logit at position " + std::to_string(first + r) +
                                    ": its weights are probably corrupt (NaN or Inf)");
                    }
                }
                sink(first + r, row, text_.vocab_size);
            }
        },
        observe, cancel);
}

Tensor TextDecoder::forward_to_logits(const std::vector<int32_t>& ids, const std::vector<SoftTokenSpan>& spans,
                                      KvCache& cache, const TensorObserver& observe, const std::atomic<bool>* cancel) {
    auto step = [&] {
        Tensor last;
        run(ids, spans, cache, true, false, [&](int64_t, const Tensor& logits) { last = logits; }, observe, cancel);
        return last;
    };
    // One generated token: the same ops every step, which a GPU backend records once and replays
    // (CUDA graphs). Keyed by the cache, whose tensors the recording refers to.
    if (ids.size() == 1 && spans.empty() && !observe && !rest_) return backend_.run_decode_step(&cache, cache.length(), step);
    return step();
}

void TextDecoder::run(const std::vector<int32_t>& ids, const std::vector<SoftTokenSpan>& spans, KvCache& cache,
                      bool want_logits, bool all_logits,
                      const std::function<void(int64_t first_position, const Tensor& logits)>& on_logits,
                      const TensorObserver& observe, const std::atomic<bool>* cancel) {
    if (ids.empty()) return;
    for (int32_t id : ids) {
        if (id < 0 || id >= text_.vocab_size) {
            throw Error("token id " + std::to_string(id) + " is out of range (the vocabulary has " +
                        std::to_string(text_.vocab_size) + " entries)");
        }
    }
    const int64_t start = cache.length(), n = static_cast<int64_t>(ids.size());
    if (start + n > cache.context()) {
        throw Error("the context is full: " + std::to_string(start) + " tokens held + " + std::to_string(n) +
                    " new > context length " + std::to_string(cache.context()) +
                    " (start a new chat or raise the context length)");
    }
    int64_t prev_end = 0;
    for (const SoftTokenSpan& s : spans) {
        if (s.offset < prev_end || s.rows <= 0 || s.offset + s.rows > n || s.data == nullptr) {
            throw Error("soft-token spans must be ordered, non-empty and inside the prompt");
        }
        if (s.bidirectional && s.rows > cache.max_chunk()) {
            throw Error("an image of " + std::to_string(s.rows) + " soft tokens does not fit one prefill chunk of " +
                        std::to_string(cache.max_chunk()) + " tokens");
        }
        prev_end = s.offset + s.rows;
    }
    for (int64_t off = 0; off < n;) {
        int64_t len = std::min(cache.max_chunk(), n - off);
        // A bidirectional span is attended as a whole: end the chunk before one it would cut.
        for (const SoftTokenSpan& s : spans) {
            if (s.bidirectional && s.offset > off && s.offset < off + len && s.offset + s.rows > off + len) {
                len = s.offset - off;
            }
        }
        const std::vector<int32_t> chunk(ids.begin() + off, ids.begin() + off + len);
        std::vector<SoftTokenSpan> local;
        for (const SoftTokenSpan& s : spans) {
            const int64_t a = std::max(s.offset, off), b = std::min(s.offset + s.rows, off + len);
            if (a >= b) continue;
            SoftTokenSpan part = s;
            part.offset = a - off;
            part.rows = b - a;
            part.data = s.data + (a - s.offset) * text_.hidden_size;
            local.push_back(part);
        }
        const bool last_chunk = off + len == n;
        cache.note_writing(start + off + len);
        const bool chunk_logits = want_logits && (last_chunk || all_logits);
        const Tensor logits = forward_chunk(chunk, local, start + off, cache, chunk_logits, all_logits, observe, cancel);
        cache.set_length(start + off + len);
        if (chunk_logits) on_logits(all_logits ? start + off : start + off + len - 1, logits);
        off += len;
    }
}

Tensor TextDecoder::forward_chunk(const std::vector<int32_t>& ids, const std::vector<SoftTokenSpan>& spans, int64_t pos0,
                                  KvCache& cache, bool want_logits, bool all_logits, const TensorObserver& observe,
                                  const std::atomic<bool>* cancel) {
    const int64_t T = static_cast<int64_t>(ids.size()), H = text_.hidden_size;
    // Token embeddings times sqrt(H), formed in f32 as the f32 reference does (spec §2.3); soft tokens
    // replace the rows of their placeholders as they are. As in transformers, every media
    // placeholder id reads the pad row, in the embedding and in the PLE token part (spec §9.12) —
    // also one the model generated itself, which has no soft token to take its place.
    const TokenIds& tk = model_.tokens;
    std::vector<int32_t> lookup_ids = ids;
    for (int32_t& id : lookup_ids)
        if (id == tk.image || id == tk.audio || id == tk.video) id = static_cast<int32_t>(tk.pad);
    std::vector<std::pair<int64_t, int64_t>> blocks;
    for (const SoftTokenSpan& s : spans) {
        std::fill(lookup_ids.begin() + s.offset, lookup_ids.begin() + s.offset + s.rows, static_cast<int32_t>(tk.pad));
        if (s.bidirectional && bidirectional_images()) blocks.emplace_back(pos0 + s.offset, pos0 + s.offset + s.rows);
    }
    Tensor x = backend_.alloc(T, H);
    backend_.get_rows(w_.token_embd, lookup_ids, static_cast<float>(std::sqrt(static_cast<double>(H))), x);
    for (const SoftTokenSpan& s : spans) backend_.upload(s.data, x.view_rows(s.offset, s.rows));
    if (observe) observe("inp_scaled", x);

    Tensor ple;
    if (text_.has_ple()) {
        ple = per_layer_inputs(lookup_ids, x);
        if (observe) observe("per_layer_inputs", ple);
    }
    const int64_t P = text_.hidden_size_per_layer_input;
    for (int64_t i = 0; i < text_.num_layers; ++i) {
        if (cancel && cancel->load(std::memory_order_relaxed)) throw Cancelled("cancelled");
        if (i == split_ && rest_) {  // the rest of the layers run on the other backend
            x = move_to(backend_, *rest_, x);
            if (text_.has_ple()) ple = move_to(backend_, *rest_, ple);
        }
        attention_block(i, x, cache, pos0, blocks);
        if (observe) observe("attn_out-" + std::to_string(i), x);
        ffn_block(i, x);
        if (observe) observe("ffn_out-" + std::to_string(i), x);
        if (text_.has_ple()) ple_branch(i, x, ple.view_cols(i * P, P));
        layer_backend(i).scale(x, w_.layers[static_cast<size_t>(i)].layer_scalar);
        if (observe) observe("l_out-" + std::to_string(i), x);
    }
    if (!want_logits) return {};
    if (rest_ && split_ < text_.num_layers) x = move_to(*rest_, backend_, x);  // back for the head

    // Final norm, tied head, softcap: for every row, or only the last one (spec §2.12).
    const Tensor rows = all_logits ? x : x.view_rows(T - 1, 1);
    Tensor normed = backend_.alloc(rows.rows, H);
    backend_.rms_norm(rows, &w_.output_norm, H, eps_, normed);
    if (observe) observe("result_norm", normed);
    Tensor logits = backend_.alloc(rows.rows, text_.vocab_size);
    backend_.matmul(w_.token_embd, normed, logits);
    backend_.softcap(logits, static_cast<float>(text_.final_logit_softcapping));
    if (observe) observe("logits", logits);
    return logits;
}

}  // namespace gd
