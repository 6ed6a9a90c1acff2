#include "core/stats.hpp"

namespace actorrt {

void recent_samples::add(int64_t micros) {
  if (ring_.size() < window_) {
    ring_.push_back(micros);
  } else {
    ring_[next_] = micros;
    next_ = (next_ + 1) % window_;
  }
}

std::vector<int64_t> recent_samples::values() const {
  std::vector<int64_t> result(ring_.begin() + next_, ring_.end());
  result.insert(result.end(), ring_.begin(), ring_.begin() + next_);
  return result;
}

} // namespace actorrt
