// Which core a job goes to. Plain logic, no CAF: the scheduler actor only
// moves messages.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "actors/messages.hpp"

namespace actorrt {

/// Input bytes a core takes (0: no bound): `per_message` in one batch,
/// `at_once` in flight; a core holding none takes a job of any size.
struct core_byte_bounds {
  size_t per_message = 0;
  size_t at_once = 0;
};

class scheduling_policy {
public:
  /// `depth`: jobs a core may hold at once (one running, the rest waiting in
  /// its mailbox, so it never idles for a scheduler round trip).
  explicit scheduling_policy(int depth = 2) : depth_(depth) {}

  /// Adds a core, described by `report` (whose device, core, liveness,
  /// load and lanes it keeps up to date from now on); returns its slot.
  size_t add_core(core_report report, core_byte_bounds bounds = {});
  void set_alive(size_t slot, bool alive);
  /// A core that did not answer in time takes nothing new until it does.
  void set_stalled(size_t slot, bool stalled);

  /// What a core knows of a model: nothing, loading, ready, or refused.
  enum class lane { none, loading, ready, failed };
  /// `backend`: the executor a ready lane runs, for the report.
  void set_lane(size_t slot, uint64_t model, lane state,
                std::string backend = {});
  void forget_model(uint64_t model);

  /// The least-loaded core that may take a job of `model`: alive, not
  /// stalled, the model ready on it, allowed by `where`, on `device` unless
  /// that is -1 or can serve no more, and with room. Fewest jobs on its
  /// device first, then on the core, then the one picked last (its thread
  /// still polls, its caches are warm).
  /// Nothing when all are full.
  /// A core whose byte window `bytes` (the job's inputs) would overflow
  /// is full for it.
  std::optional<size_t> pick(uint64_t model, const placement& where, int device,
                             size_t bytes = 0);

  /// True when some living core could ever take such a job (its model
  /// ready or still loading there), on `device` or, failing that, on any.
  bool can_serve(uint64_t model, const placement& where, int device) const;

  /// True when some living core has room at all.
  bool has_room() const;

  /// `n` jobs (of `bytes` inputs) were dispatched to core `slot` /
  /// answered by it.
  void started(size_t slot, int n = 1, size_t bytes = 0);
  void finished(size_t slot, int n = 1, size_t bytes = 0);

  size_t size() const {
    return cores_.size();
  }
  /// What is known of core `slot`.
  const core_report& report(size_t slot) const {
    return cores_[slot].report;
  }
  std::vector<core_report> reports() const;
  int in_flight(size_t slot) const {
    return report(slot).in_flight;
  }
  bool alive(size_t slot) const {
    return report(slot).alive;
  }
  /// Input bytes one batch to core `slot` may carry (0: no bound).
  size_t message_bytes(size_t slot) const {
    return cores_[slot].bounds.per_message;
  }
  /// Some core of `device` is alive.
  bool device_alive(int device) const;

private:
  /// The one record of a core on this side: its report, and what only
  /// picking needs.
  struct core_state {
    core_report report;
    bool stalled = false;
    uint64_t last_pick = 0;
    core_byte_bounds bounds;
    size_t bytes = 0; // inputs in flight
    std::unordered_map<uint64_t, lane> lanes;
  };

  bool eligible(const core_state& c, const placement& where, int device) const;
  void add_load(core_report& r, int n);

  int depth_;
  std::vector<int> device_load_; // jobs on each device's cores
  uint64_t picks_ = 0;

  bool can_serve_on(uint64_t model, const placement& where, int device) const;
  std::vector<core_state> cores_;
};

} // namespace actorrt
