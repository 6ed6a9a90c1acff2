#include "actors/scheduling_policy.hpp"

#include <tuple>

namespace actorrt {

size_t scheduling_policy::add_core(int device, int core) {
  cores_.push_back(core_load{device, core});
  return cores_.size() - 1;
}

void scheduling_policy::set_alive(size_t slot, bool alive) {
  cores_[slot].alive = alive;
}

int scheduling_policy::device_load(int device) const {
  int load = 0;
  for (auto& c : cores_)
    if (c.device == device)
      load += c.in_flight;
  return load;
}

std::optional<size_t> scheduling_policy::pick(const placement& where) {
  std::optional<size_t> best;
  std::tuple<int, int, uint64_t> best_key;
  for (size_t i = 0; i < cores_.size(); ++i) {
    auto& c = cores_[i];
    if (!c.alive || c.in_flight >= depth_ || !where.allows(c.device, c.core))
      continue;
    int load = device_load(c.device);
    if (where.max_per_device > 0 && load >= where.max_per_device)
      continue;
    auto key = std::make_tuple(load, c.in_flight, c.last_pick);
    if (!best || key < best_key) {
      best = i;
      best_key = key;
    }
  }
  if (best)
    cores_[*best].last_pick = ++picks_;
  return best;
}

bool scheduling_policy::can_serve(const placement& where) const {
  for (auto& c : cores_)
    if (c.alive && where.allows(c.device, c.core))
      return true;
  return false;
}

void scheduling_policy::started(size_t slot) {
  ++cores_[slot].in_flight;
}

void scheduling_policy::finished(size_t slot) {
  --cores_[slot].in_flight;
}

} // namespace actorrt
