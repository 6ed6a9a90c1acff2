// A job as the actors of one process pass it around: a job id, where it may
// run, its inputs, and what became of it.
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include <caf/actor.hpp>

#include "core/clock.hpp"
#include "core/errors.hpp"
#include "core/tensor.hpp"

namespace actorrt {

using job_id = uint64_t;

/// Where an engine's jobs may run: device ids (empty = all), a mask over a
/// device's core indices (from the bound option), and the most jobs a device
/// may hold when one of these is added (DX-RT's max load; 0 = no cap).
struct placement {
  std::vector<int> devices;
  uint32_t core_mask = ~0u;
  int max_per_device = 0;

  bool allows(int device, int core) const;
};

/// A submitted job on its way to a core.
struct job {
  job_id id = 0;
  uint64_t model_id = 0;
  placement where;
  tensors inputs;
  caf::actor reply_to; // gets (done_atom, job id, job_result) when it ends
};

/// How a job ended: outputs or a failure, and when it was dispatched,
/// started and finished (the latter two on the core's clock).
struct job_result {
  tensors outputs;
  failure error;
  int64_t dispatched = 0;
  int64_t started = 0;
  int64_t finished = 0;
};

using job_ptr = std::shared_ptr<job>;

} // namespace actorrt
