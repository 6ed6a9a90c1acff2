// Which core of one device on a worker node runs a batch. A client's
// scheduler places each job on a core by how many jobs it holds there, but
// it learns what a core finished only a network round trip later. With
// fewer jobs than two per core (DX-RT's max load of 6 on a 4-core device),
// a second job it puts behind a core that has just started waits there
// while another core frees first, and that core idles for the round trip.
// The node knows better: each batch goes to the core of the device that
// holds its model and holds the fewest jobs, and among those to the one
// whose job has run longest (it frees first when a device's cores run
// alike), so the device's jobs start in about the order its cores free.
// Plain logic, no CAF: the guards of the device's cores share one picker.
#pragma once

#include <cstddef>
#include <cstdint>
#include <mutex>
#include <optional>
#include <vector>

namespace actorrt {

class core_picker {
public:
  explicit core_picker(size_t cores) : cores_(cores) {}

  /// Core `core` holds / no longer holds `model`.
  void loaded(size_t core, uint64_t model);
  void unloaded(size_t core, uint64_t model);
  /// Core `core` stopped: it takes nothing from now on.
  void stopped(size_t core);
  bool alive(size_t core) const;

  /// The core for `n` jobs of `model` that a client addressed to
  /// `addressed`, at `now` (now_ns()): of those that hold the model, the
  /// one with the fewest jobs, then the one whose job started first, then
  /// `addressed`. Counts the jobs as sent to it. Nothing when no running
  /// core holds the model.
  std::optional<size_t> take(uint64_t model, size_t addressed, size_t n,
                             int64_t now);
  /// Core `core` answered for `n` jobs, at `now`: its next job, if any,
  /// started then.
  void answered(size_t core, size_t n, int64_t now);

private:
  struct core_state {
    std::vector<uint64_t> models;
    size_t jobs = 0;        // sent and not yet answered
    int64_t busy_since = 0; // when the job it runs started
    bool alive = true;
  };

  bool holds(const core_state& c, uint64_t model) const;

  mutable std::mutex mtx_; // guards cores_: each guard runs on its own
  std::vector<core_state> cores_;
};

} // namespace actorrt
