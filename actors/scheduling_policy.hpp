// Which core a job goes to. Plain logic, no CAF: the scheduler actor only
// moves messages.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <unordered_map>
#include <vector>

#include "actors/messages.hpp"

namespace actorrt {

class scheduling_policy {
public:
  /// `depth`: jobs a core may hold at once (one running, the rest waiting in
  /// its mailbox, so it never idles for a scheduler round trip).
  explicit scheduling_policy(int depth = 2) : depth_(depth) {}

  /// Adds a core; returns its slot number.
  size_t add_core(int device, int core);
  void set_alive(size_t slot, bool alive);
  /// A core that did not answer in time takes nothing new until it does.
  void set_stalled(size_t slot, bool stalled);

  /// What a core knows of a model: nothing, loading, ready, or refused.
  enum class lane { none, loading, ready, failed };
  void set_lane(size_t slot, uint64_t model, lane state);
  void forget_model(uint64_t model);

  /// The least-loaded core that may take a job of `model`: alive, not
  /// stalled, the model ready on it, allowed by `where`, on `device` unless
  /// that is -1 or can serve no more, and with room. Fewest jobs on its
  /// device first, then on the core, then the one that waited longest.
  /// Nothing when all are full.
  std::optional<size_t> pick(uint64_t model, const placement& where,
                             int device);

  /// True when some living core could ever take such a job (its model
  /// ready or still loading there), on `device` or, failing that, on any.
  bool can_serve(uint64_t model, const placement& where, int device) const;

  /// True when some living core has room at all.
  bool has_room() const;

  void started(size_t slot, int n = 1);
  void finished(size_t slot, int n = 1);

  size_t size() const {
    return cores_.size();
  }
  int device_of(size_t slot) const {
    return cores_[slot].device;
  }
  int core_of(size_t slot) const {
    return cores_[slot].core;
  }
  int in_flight(size_t slot) const {
    return cores_[slot].in_flight;
  }
  bool alive(size_t slot) const {
    return cores_[slot].alive;
  }
  /// Some core of `device` is alive.
  bool device_alive(int device) const;

private:
  struct core_load {
    int device = 0;
    int core = 0;
    int in_flight = 0;
    bool alive = true;
    bool stalled = false;
    uint64_t last_pick = 0;
    std::unordered_map<uint64_t, lane> lanes;
  };

  bool eligible(const core_load& c, const placement& where, int device) const;

  int depth_;
  std::vector<int> device_load_; // jobs on each device's cores
  uint64_t picks_ = 0;

  bool can_serve_on(uint64_t model, const placement& where, int device) const;
  std::vector<core_load> cores_;
};

} // namespace actorrt
