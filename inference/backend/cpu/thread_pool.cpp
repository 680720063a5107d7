#include "backend/cpu/thread_pool.h"

#include <algorithm>
#include <chrono>

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
static inline void cpu_relax() { _mm_pause(); }
#else
static inline void cpu_relax() {}
#endif

namespace gd::cpu {

ThreadPool::ThreadPool(int threads) {
    const int n = std::max(1, threads);
    for (int i = 1; i < n; ++i) workers_.emplace_back([this, i] { worker(i); });
}

ThreadPool::~ThreadPool() {
    {
        std::lock_guard<std::mutex> lock(mutex_);
        stop_ = true;
        generation_.fetch_add(1);
    }
    wake_.notify_all();
    for (auto& t : workers_) t.join();
}

void ThreadPool::run_share(int index) {
    if (index >= active_) return;
    // Chunk boundaries in units of `grain`, spread as evenly as possible.
    const int64_t units = (n_ + grain_ - 1) / grain_;
    const int64_t begin_unit = units * index / active_, end_unit = units * (index + 1) / active_;
    const int64_t begin = begin_unit * grain_, end = std::min(n_, end_unit * grain_);
    if (begin < end) (*job_)(begin, end, index);
}

void ThreadPool::worker(int index) {
    uint64_t seen = 0;
    for (;;) {
        // Spin for a short while (a decode step's next op usually follows within microseconds).
        auto spin_until = std::chrono::steady_clock::now() + std::chrono::microseconds(200);
        uint64_t g = generation_.load(std::memory_order_acquire);
        while (g == seen && !stop_.load(std::memory_order_relaxed)) {
            for (int i = 0; i < 64; ++i) cpu_relax();
            g = generation_.load(std::memory_order_acquire);
            if (g == seen && std::chrono::steady_clock::now() > spin_until) {
                std::unique_lock<std::mutex> lock(mutex_);
                wake_.wait(lock, [&] { return generation_.load() != seen || stop_.load(); });
                g = generation_.load(std::memory_order_acquire);
            }
        }
        if (stop_.load()) return;
        seen = g;
        run_share(index);
        pending_.fetch_sub(1, std::memory_order_acq_rel);
    }
}

void ThreadPool::parallel_for(int64_t n, int64_t grain, const std::function<void(int64_t, int64_t, int)>& fn) {
    if (n <= 0) return;
    grain = std::max<int64_t>(1, grain);
    const int64_t units = (n + grain - 1) / grain;
    const int threads = static_cast<int>(std::min<int64_t>(size(), units));
    if (threads <= 1) {
        fn(0, n, 0);
        return;
    }
    job_ = &fn;
    n_ = n;
    grain_ = grain;
    active_ = threads;
    pending_.store(static_cast<int>(workers_.size()), std::memory_order_release);
    {
        std::lock_guard<std::mutex> lock(mutex_);
        generation_.fetch_add(1, std::memory_order_acq_rel);
    }
    wake_.notify_all();
    run_share(0);
    while (pending_.load(std::memory_order_acquire) != 0) cpu_relax();
    job_ = nullptr;
}

}  // namespace gd::cpu
