#pragma once
// Decode steps as CUDA graphs (Backend::run_decode_step). A decode step is ~30 ops per layer, a
// thousand small kernels per token: launched one by one the CPU's launch cost, not the GPU, sets the
// pace. So the backend records a step once and replays it:
//
//   1st step of a key  Measure: runs eagerly, adding up what the step allocates.
//   2nd step           Record: the step's ops are captured into a graph. Allocations come from an
//                      arena owned by the graph (the same slices every step); host inputs (token ids,
//                      rows of the host-resident per-layer-embedding table) are staged in a pinned
//                      buffer and read by the kernels from its device mirror; kernels that depend on
//                      the position add a device-side offset to the position they were recorded at.
//   later steps        Replay: the step's host code runs again (checks, cache bookkeeping, the new
//                      ids and host rows into the staging buffer) but queues nothing; each op checks
//                      that it is the op recorded at its place. Then one copy of the staging buffer
//                      and one graph launch do the work.
//
// Anything a recording cannot hold (a host download, an upload from pageable memory, a first-time
// constant) makes the step run eagerly instead, and that key stays eager.
#include <cstdint>
#include <memory>
#include <vector>

#include <cuda_runtime_api.h>

namespace gd::cuda {

enum class StepMode { Eager, Measure, Record, Replay };

struct StepGraph {
    enum class State { New, Measured, Ready, Failed };
    State state = State::New;
    uint64_t arena_bytes = 0;            // what the measured step allocated
    std::shared_ptr<void> arena;         // device memory the recorded step's tensors live in
    cudaGraphExec_t exec = nullptr;
    int64_t base_position = 0;           // the position the step was recorded at
    size_t inputs_bytes = 0;             // staged host inputs of one step
    std::vector<uint64_t> ops;           // one signature per recorded op, in order
    ~StepGraph() {
        if (exec) cudaGraphExecDestroy(exec);
    }
};

// Thrown inside a replayed step when an op differs from the recording (the step then runs eagerly).
struct StepMismatch {};

}  // namespace gd::cuda
