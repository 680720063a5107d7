#pragma once
// A fixed pool of worker threads for the CPU backend. parallel_for splits [0, n) into contiguous
// chunks, one per thread, and the calling thread takes part. A decode step issues hundreds of small
// parallel_for calls, so idle workers spin briefly on an atomic generation counter before sleeping on
// a condition variable: waking a sleeping thread costs tens of microseconds, a spinning one almost
// nothing.
#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace gd::cpu {

class ThreadPool {
public:
    explicit ThreadPool(int threads);  // total threads including the caller; >= 1
    ~ThreadPool();
    ThreadPool(const ThreadPool&) = delete;
    ThreadPool& operator=(const ThreadPool&) = delete;

    int size() const { return static_cast<int>(workers_.size()) + 1; }
    // fn(begin, end, thread_index) over disjoint chunks covering [0, n). Chunks are multiples of
    // `grain` (except the last). Blocks until all are done. Not re-entrant.
    void parallel_for(int64_t n, int64_t grain, const std::function<void(int64_t, int64_t, int)>& fn);

private:
    void worker(int index);
    void run_share(int index);

    std::vector<std::thread> workers_;
    std::mutex mutex_;
    std::condition_variable wake_;
    std::atomic<uint64_t> generation_{0};
    std::atomic<int> pending_{0};
    std::atomic<bool> stop_{false};
    const std::function<void(int64_t, int64_t, int)>* job_ = nullptr;
    int64_t n_ = 0, grain_ = 1;
    int active_ = 1;  // threads taking part in the current job
};

}  // namespace gd::cpu
