// The one way from an engine's callers to its engine actor: jobs opened on
// callers' threads (with what the actor keeps of each: job_ticket) and
// changes of the callback. The first entry into an empty intake announces
// it to the actor with one message; the actor takes everything that piled
// up by the time it reads that message. Under load many jobs travel per
// message (and per wake-up), idle just one. Only the engine actor takes.
#pragma once

#include <functional>
#include <mutex>
#include <optional>

#include "actors/messages.hpp"

namespace actorrt {

/// What an engine actor keeps of an open job until it ends it: the
/// caller's argument and what keeps it alive until the job has ended (a
/// Python object, say).
struct job_ticket {
  void* ptr = nullptr;
  std::shared_ptr<void> keep;
  bool silent = false;       // no callback: Run's or RunBatch's own job
  bool client = false;       // an actor client's: answered, never waited
  int64_t submitted = 0;     // now_ns() at RunAsync
  uint32_t thread = 0;       // the submitter's trace::thread_index(), traced
  int device = -1;           // whose admission credit it holds
  int64_t batch = 1;         // samples (dynamic batch axis)
  std::vector<blob> outputs; // the caller's output buffers, if any
  std::shared_ptr<job_control> control; // started? cancelled?
};

/// An engine's callback and the hooks around it.
struct job_callback {
  /// Called once per job on the engine's thread: outputs (empty on
  /// failure), the caller's user argument, and the failure (none on
  /// success).
  using function = std::function<void(const tensors& outputs, void* user_arg,
                                      const failure& error)>;
  /// Runs a batch of callbacks; a binding takes its interpreter lock here
  /// once per batch instead of once per job.
  using scope = std::function<void(const std::function<void()>&)>;
  /// Reports an exception thrown by a callback; null: print to stderr.
  using error_handler = std::function<void(job_id, const std::string&)>;

  function fn; // null: no callback
  scope in_scope;
};

class job_intake {
public:
  explicit job_intake(engine_actor engine) : engine_(std::move(engine)) {}

  /// Hands over opened job `j` and its ticket.
  void put(job&& j, job_ticket&& t);
  /// The callback for results the actor handles from now on.
  void set_callback(job_callback cb);
  void set_error_handler(job_callback::error_handler fn);

  struct contents {
    std::vector<job> jobs;
    std::vector<job_ticket> tickets; // one per job
    std::optional<job_callback> callback;
    std::optional<job_callback::error_handler> on_error;
  };
  /// Takes everything waiting; the next entry announces the intake again.
  contents take();

  /// Forgets the engine (so the handle does not outlive it) and drops what
  /// waits; later entries are not announced.
  void close();

private:
  /// Called with `mtx_` held (`guard`): announces a first entry.
  void announce(std::unique_lock<std::mutex>& guard);

  std::mutex mtx_;
  engine_actor engine_;
  contents waiting_;
  bool announced_ = false;
  size_t last_taken_ = 0; // take()'s alone (only the actor takes)
};

using job_intake_ptr = std::shared_ptr<job_intake>;

} // namespace actorrt
