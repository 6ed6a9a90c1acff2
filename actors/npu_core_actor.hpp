// One NPU core: owns one executor lane per loaded model and runs one batch
// at a time. Compute blocks, so it is spawned detached (a thread of its own)
// and CAF's scheduler threads never wait on it.
#pragma once

#include <chrono>
#include <deque>
#include <memory>
#include <unordered_map>

#include "actors/messages.hpp"
#include "actors/runtime_cpus.hpp"
#include "core/metrics.hpp"
#include "device/batching.hpp"
#include "device/executor.hpp"
#include "device/registry.hpp"

namespace actorrt {

struct npu_core_state {
  int device = 0;
  int core = 0;
  device_spec spec;
  std::shared_ptr<process_metrics> process; // this process's cores' counters
  core_metrics* counters = nullptr;         // this core's, in `process`
  struct loaded {
    model_ptr model;     // as the engine loaded it (keeps it cached here)
    model_ptr runs;      // what the lane runs: the model or its batch variant
    std::string backend; // as the engine asked for it
    std::unique_ptr<executor> lane;
    int max_batch = 1;                  // samples per call; 1: one job per call
    std::chrono::microseconds delay{0}; // how long a batch may wait to fill
    std::vector<blob> merged_inputs;    // reused by run_merged
    batch_gain gain;                    // whether merging pays here
  };
  std::unordered_map<uint64_t, loaded> lanes;
  /// Batches received and not yet run, in arrival order, each with the
  /// scheduler's request to answer once its jobs ended.
  struct waiting {
    job_batch batch;
    caf::typed_response_promise<job_results> answer;
    int64_t arrived = 0; // now_ns()
  };
  std::deque<waiting> pending;
  bool timer = false;       // a tick (the batch delay's end) is on its way
  lane_placement placement; // a CPU lane's thread; none for simulated cores

  static inline const char* name = "actorrt.npu_core";
};

/// The behaviour of core `core` of local device `device` (see
/// npu_core_actor in messages.hpp); it counts its jobs in `counters`.
npu_core_actor::behavior_type
npu_core(npu_core_actor::stateful_pointer<npu_core_state> self, int device,
         int core, device_spec spec, std::shared_ptr<process_metrics> counters);

} // namespace actorrt
