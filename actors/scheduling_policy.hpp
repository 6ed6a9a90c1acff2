// Which core a job goes to. Plain logic, no CAF: the scheduler actor only
// moves messages.
#pragma once

#include <cstddef>
#include <optional>
#include <vector>

#include "actors/job.hpp"

namespace actorrt {

class scheduling_policy {
public:
  /// `depth`: jobs a core may hold at once (one running, the rest waiting in
  /// its mailbox, so it never idles for a scheduler round trip).
  explicit scheduling_policy(int depth = 2) : depth_(depth) {}

  /// Adds a core; returns its slot number.
  size_t add_core(int device, int core);
  void set_alive(size_t slot, bool alive);

  /// The least-loaded eligible core with room: fewest jobs on its device
  /// first, then on the core, then the one that waited longest. Nothing when
  /// every eligible core, or its device (max_per_device), is full.
  std::optional<size_t> pick(const placement& where);

  /// True when some living core could ever take a job with this placement.
  bool can_serve(const placement& where) const;

  void started(size_t slot);
  void finished(size_t slot);

  int device_of(size_t slot) const {
    return cores_[slot].device;
  }
  int core_of(size_t slot) const {
    return cores_[slot].core;
  }
  int in_flight(size_t slot) const {
    return cores_[slot].in_flight;
  }

private:
  struct core_load {
    int device;
    int core;
    int in_flight = 0;
    bool alive = true;
    uint64_t last_pick = 0;
  };

  int device_load(int device) const;

  int depth_;
  uint64_t picks_ = 0;
  std::vector<core_load> cores_;
};

} // namespace actorrt
