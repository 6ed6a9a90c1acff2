// One per actor system: places jobs on NPU cores. It holds core handles only
// and never assumes a core lives in this process.
#pragma once

#include <deque>
#include <vector>

#include "actors/messages.hpp"
#include "actors/scheduling_policy.hpp"

namespace actorrt {

struct scheduler_state {
  scheduling_policy policy;
  std::vector<caf::actor> cores;
  std::vector<core_report> reports;
  std::deque<job_ptr> queue;

  static inline const char* name = "actorrt.scheduler";
};

/// Handles
// clang-format off
///   (join_atom, actor, core_report)      a core joins (local or remote)
///   (load_atom, model_handle, placement) → failure
///                                        load on every eligible core
///   (unload_atom, model id)
///   (submit_atom, job_ptr)               run on a core, which sends
///                                        (done_atom, id, job_result) to
///                                        the job's reply_to
///   (report_atom) → std::vector<core_report>
// clang-format on
/// `core_depth`: jobs a core holds at once (see scheduling_policy).
caf::behavior scheduler_actor(caf::stateful_actor<scheduler_state>* self,
                              int core_depth);

} // namespace actorrt
