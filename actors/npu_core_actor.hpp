// One NPU core: owns one executor lane per loaded model and runs one job at a
// time. Compute blocks, so it is spawned detached (a thread of its own) and
// CAF's scheduler threads never wait on it.
#pragma once

#include <memory>
#include <unordered_map>

#include "actors/messages.hpp"
#include "device/executor.hpp"
#include "device/registry.hpp"

namespace actorrt {

struct npu_core_state {
  int device = 0;
  int core = 0;
  device_spec spec;
  std::unordered_map<uint64_t, std::unique_ptr<executor>> lanes;

  static inline const char* name = "actorrt.npu_core";
};

/// Handles (load_atom, model_handle) → failure, (unload_atom, model id) and
/// (run_atom, core_job) → (), sending (done_atom, job id, job_result) to the
/// job's reply_to. The scheduler keeps the per-core counters.
caf::behavior npu_core_actor(caf::stateful_actor<npu_core_state>* self,
                             int device, int core, device_spec spec);

} // namespace actorrt
