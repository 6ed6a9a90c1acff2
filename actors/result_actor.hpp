// Delivers one engine's finished jobs. Detached: user callbacks run on its
// own thread, never on a core or scheduler thread, so a slow callback slows
// delivery but never compute.
#pragma once

#include <memory>

#include "actors/delivery.hpp"
#include "actors/messages.hpp"

namespace actorrt {

struct result_state {
  std::shared_ptr<delivery> sink;
  std::vector<delivery::finished_job> batch;

  ~result_state() {
    if (sink && !batch.empty())
      sink->deliver(batch);
  }

  static inline const char* name = "actorrt.result";
};

/// Handles (done_atom, job id, job_result). Jobs that arrive together are
/// delivered as one batch (up to 64), so a binding takes its lock once for all
/// of them.
caf::behavior result_actor(caf::stateful_actor<result_state>* self,
                           std::shared_ptr<delivery> sink);

} // namespace actorrt
