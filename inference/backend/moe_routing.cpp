#include "backend/moe_routing.h"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <vector>

#include "common/error.h"

namespace gd {

void route_experts(const float* logits, int64_t T, int64_t E, int64_t k, const float* expert_scale, float* routing) {
    if (k <= 0 || k > E) throw Error("moe_route: top-k of " + std::to_string(k) + " among " + std::to_string(E) + " experts");
    std::vector<double> prob(static_cast<size_t>(E));
    std::vector<int32_t> order(static_cast<size_t>(E));
    for (int64_t t = 0; t < T; ++t) {
        const float* lg = logits + t * E;
        const float mx = *std::max_element(lg, lg + E);
        double sum = 0;
        for (int64_t e = 0; e < E; ++e) sum += prob[static_cast<size_t>(e)] = std::exp(static_cast<double>(lg[e] - mx));
        for (double& p : prob) p /= sum;
        std::iota(order.begin(), order.end(), 0);
        std::partial_sort(order.begin(), order.begin() + k, order.end(), [&](int32_t a, int32_t b) {
            return prob[static_cast<size_t>(a)] > prob[static_cast<size_t>(b)] ||
                   (prob[static_cast<size_t>(a)] == prob[static_cast<size_t>(b)] && a < b);
        });
        double top = 0;
        for (int64_t j = 0; j < k; ++j) top += prob[static_cast<size_t>(order[static_cast<size_t>(j)])];
        float* out = routing + t * 2 * k;
        for (int64_t j = 0; j < k; ++j) {
            const int32_t e = order[static_cast<size_t>(j)];
            out[j] = static_cast<float>(e);
            out[k + j] = static_cast<float>(prob[static_cast<size_t>(e)] / top) * expert_scale[e];
        }
    }
}

void check_moe_experts(const Tensor& x, const ExpertRouting& r, const Weight& gate_up, const Weight& down,
                       const Tensor& out) {
    if (gate_up.rows % 2 || gate_up.cols != x.cols || down.cols != gate_up.rows / 2 || down.rows != out.cols ||
        gate_up.experts != down.experts || out.rows != x.rows || r.tokens != x.rows ||
        static_cast<int64_t>(r.ids.size()) != r.tokens * r.k || r.weights.size() != r.ids.size()) {
        throw Error("moe_experts: shapes do not fit");
    }
    for (int32_t e : r.ids)
        if (e < 0 || e >= gate_up.experts) throw Error("moe_experts: expert id out of range");
}

std::map<int32_t, std::vector<int64_t>> slots_by_expert(const ExpertRouting& r) {
    std::map<int32_t, std::vector<int64_t>> slots;
    for (int64_t s = 0; s < static_cast<int64_t>(r.ids.size()); ++s) slots[r.ids[static_cast<size_t>(s)]].push_back(s);
    return slots;
}

ExpertRouting unpack_routing(const float* routing, int64_t T, int64_t k) {
    ExpertRouting r;
    r.tokens = T;
    r.k = k;
    r.ids.resize(static_cast<size_t>(T * k));
    r.weights.resize(static_cast<size_t>(T * k));
    for (int64_t t = 0; t < T; ++t) {
        for (int64_t j = 0; j < k; ++j) {
            const float id = routing[t * 2 * k + j];
            if (!(id >= 0 && id < 16777216.0f) || id != std::floor(id)) throw Error("moe routing holds a non-integer expert id");
            r.ids[static_cast<size_t>(t * k + j)] = static_cast<int32_t>(id);
            r.weights[static_cast<size_t>(t * k + j)] = routing[t * 2 * k + k + j];
        }
    }
    return r;
}

}  // namespace gd
