// One job, the same from RunAsync to the lane that runs it: what it
// computes and on what terms, then, filled by its lane, how its run went.
// Its result travels back as a job_result (actors/messages.hpp).
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "core/errors.hpp"
#include "core/inference_option.hpp"
#include "core/job_control.hpp"
#include "core/tensor.hpp"

namespace actorrt {

using job_id = uint64_t;

struct job {
  job_id id = 0;
  /// One tensor per model input, and per output the caller's memory to
  /// write into (none: the lane allocates). Bytes only until the core that
  /// runs it describes them with its lane's model (describe()), which may
  /// be the engine's re-declared with a batch axis.
  tensors inputs;
  tensors outputs;
  /// The device whose admission credit it holds (-1: none; it may run
  /// anywhere its placement allows).
  int device = -1;
  int64_t batch = 1; // samples, for inputs with a dynamic batch axis
  /// now_ns() by which a core must start it, else it ends with Timeout
  /// unrun (0: no deadline). On the wire: the time left.
  int64_t deadline = 0;
  int priority = InferenceOption::normal_priority;
  std::shared_ptr<job_control> control; // null on a worker node

  // -- on its lane ------------------------------------------------------
  /// When it was sent to its core (now_ns(); 0: not known): a device with
  /// a queue starts it as soon as the one before it ends.
  int64_t queued = 0;
  int64_t started = 0;  // when its compute began (now_ns())
  int64_t finished = 0; // when it ended
  failure error;
  /// Jobs in the executor call that ran it (dynamic batching); calls are
  /// counted on their first job.
  int run_jobs = 1;
  bool first_in_run = true;

  /// Its deadline passed (at `now`, now_ns()).
  bool expired(int64_t now) const {
    return deadline != 0 && now >= deadline;
  }
  /// Checked just before its compute: whether it may start now; a job past
  /// its deadline or cancelled does not, and ends with that error, unrun.
  bool admit(int64_t now) {
    if (expired(now))
      error = {errc::timeout, "passed its deadline before a core started it"};
    else if (control && !control->start())
      error = {errc::cancelled, "cancelled before it started"};
    else {
      deadline = 0; // admitted once: it runs whatever comes
      control.reset();
      return true;
    }
    run_jobs = 0;
    first_in_run = false;
    return false;
  }
  /// Ended without running (see admit).
  bool unrun() const {
    return run_jobs == 0;
  }
};

} // namespace actorrt
