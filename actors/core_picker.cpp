#include "actors/core_picker.hpp"

#include <algorithm>
#include <tuple>

namespace actorrt {

bool core_picker::holds(const core_state& c, uint64_t model) const {
  return c.alive
         && std::find(c.models.begin(), c.models.end(), model)
              != c.models.end();
}

void core_picker::loaded(size_t core, uint64_t model) {
  std::lock_guard<std::mutex> guard{mtx_};
  auto& models = cores_.at(core).models;
  if (std::find(models.begin(), models.end(), model) == models.end())
    models.push_back(model);
}

void core_picker::unloaded(size_t core, uint64_t model) {
  std::lock_guard<std::mutex> guard{mtx_};
  auto& models = cores_.at(core).models;
  models.erase(std::remove(models.begin(), models.end(), model), models.end());
}

void core_picker::stopped(size_t core) {
  std::lock_guard<std::mutex> guard{mtx_};
  cores_.at(core).alive = false;
}

bool core_picker::alive(size_t core) const {
  std::lock_guard<std::mutex> guard{mtx_};
  return cores_.at(core).alive;
}

std::optional<size_t> core_picker::take(uint64_t model, size_t addressed,
                                        size_t n, int64_t now) {
  std::lock_guard<std::mutex> guard{mtx_};
  std::optional<size_t> best;
  std::tuple<size_t, int64_t, bool> best_key;
  for (size_t i = 0; i < cores_.size(); ++i) {
    auto& c = cores_[i];
    if (!holds(c, model))
      continue;
    auto key
      = std::make_tuple(c.jobs, c.jobs ? c.busy_since : 0, i != addressed);
    if (!best || key < best_key) {
      best = i;
      best_key = key;
    }
  }
  if (best) {
    auto& c = cores_[*best];
    if (c.jobs == 0)
      c.busy_since = now;
    c.jobs += n;
  }
  return best;
}

void core_picker::answered(size_t core, size_t n, int64_t now) {
  std::lock_guard<std::mutex> guard{mtx_};
  auto& c = cores_.at(core);
  c.jobs -= std::min(c.jobs, n);
  c.busy_since = now;
}

} // namespace actorrt
