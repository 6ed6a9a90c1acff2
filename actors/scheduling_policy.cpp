#include "actors/scheduling_policy.hpp"

#include <tuple>

namespace actorrt {

bool placement::allows(int device, int core) const {
  if (core < 0 || core >= 32 || (core_mask & (1u << core)) == 0)
    return false;
  if (devices.empty())
    return true;
  for (int d : devices)
    if (d == device)
      return true;
  return false;
}

size_t scheduling_policy::add_core(core_report report,
                                   core_byte_bounds bounds) {
  auto device = report.device;
  if (device >= 0 && static_cast<size_t>(device) >= device_load_.size())
    device_load_.resize(device + 1);
  report.in_flight = 0; // counted from here
  core_state c;
  c.report = std::move(report);
  c.bounds = bounds;
  cores_.push_back(std::move(c));
  return cores_.size() - 1;
}

std::vector<core_report> scheduling_policy::reports() const {
  std::vector<core_report> result;
  for (auto& c : cores_)
    result.push_back(c.report);
  return result;
}

void scheduling_policy::set_alive(size_t slot, bool alive) {
  cores_[slot].report.alive = alive;
}

void scheduling_policy::set_stalled(size_t slot, bool stalled) {
  cores_[slot].stalled = stalled;
}

void scheduling_policy::set_lane(size_t slot, uint64_t model, lane state,
                                 std::string backend) {
  auto& c = cores_[slot];
  c.lanes[model] = state;
  if (state == lane::ready)
    c.report.lanes[model] = std::move(backend);
  else
    c.report.lanes.erase(model);
}

void scheduling_policy::forget_model(uint64_t model) {
  for (auto& c : cores_) {
    c.lanes.erase(model);
    c.report.lanes.erase(model);
  }
}

bool scheduling_policy::eligible(const core_state& c, const placement& where,
                                 int device) const {
  auto& r = c.report;
  return r.alive && (device < 0 || r.device == device)
         && where.allows(r.device, r.core);
}

bool scheduling_policy::device_alive(int device) const {
  for (auto& c : cores_)
    if (c.report.device == device && c.report.alive)
      return true;
  return false;
}

std::optional<size_t> scheduling_policy::pick(uint64_t model,
                                              const placement& where,
                                              int device, size_t bytes) {
  // A job holds its device's credit, but when no core of that device can
  // serve any more (it died, its node is gone), any device it may use will.
  if (device >= 0 && !can_serve_on(model, where, device))
    device = -1;
  std::optional<size_t> best;
  std::tuple<int, int, uint64_t> best_key;
  for (size_t i = 0; i < cores_.size(); ++i) {
    auto& c = cores_[i];
    auto& r = c.report;
    if (c.stalled || r.in_flight >= depth_ || !eligible(c, where, device))
      continue;
    auto most = c.bounds.at_once;
    if (most > 0 && c.bytes > 0 && c.bytes + bytes > most)
      continue;
    auto lane_state = c.lanes.find(model);
    if (lane_state == c.lanes.end() || lane_state->second != lane::ready)
      continue;
    // Among equally loaded cores, the one picked last: its thread is still
    // polling for work and its caches are warm (one job at a time, as Run
    // sends them, stays on one core instead of waking each in turn).
    auto key = std::make_tuple(r.device >= 0 ? device_load_[r.device] : 0,
                               r.in_flight, ~c.last_pick);
    if (!best || key < best_key) {
      best = i;
      best_key = key;
    }
  }
  if (best)
    cores_[*best].last_pick = ++picks_;
  return best;
}

bool scheduling_policy::can_serve(uint64_t model, const placement& where,
                                  int device) const {
  return can_serve_on(model, where, device)
         || (device >= 0 && can_serve_on(model, where, -1));
}

bool scheduling_policy::can_serve_on(uint64_t model, const placement& where,
                                     int device) const {
  for (auto& c : cores_) {
    if (!eligible(c, where, device))
      continue;
    auto i = c.lanes.find(model);
    if (i != c.lanes.end()
        && (i->second == lane::ready || i->second == lane::loading))
      return true;
  }
  return false;
}

bool scheduling_policy::has_room() const {
  for (auto& c : cores_)
    if (c.report.alive && !c.stalled && c.report.in_flight < depth_)
      return true;
  return false;
}

void scheduling_policy::started(size_t slot, int n, size_t bytes) {
  cores_[slot].report.jobs += n;
  cores_[slot].bytes += bytes;
  add_load(cores_[slot].report, n);
}

void scheduling_policy::finished(size_t slot, int n, size_t bytes) {
  cores_[slot].bytes -= bytes;
  add_load(cores_[slot].report, -n);
}

void scheduling_policy::add_load(core_report& r, int n) {
  r.in_flight += n;
  if (r.device >= 0)
    device_load_[r.device] += n;
}

} // namespace actorrt
