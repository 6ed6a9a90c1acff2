#include "core/stats.hpp"

#include <cmath>

namespace actorrt {

void time_stats::record(int64_t micros) {
  std::lock_guard<std::mutex> guard{mtx_};
  add(micros);
}

void time_stats::record(const std::vector<int64_t>& samples) {
  std::lock_guard<std::mutex> guard{mtx_};
  for (auto micros : samples)
    add(micros);
}

void time_stats::add(int64_t micros) {
  last_ = micros;
  ++count_;
  double delta = micros - mean_;
  mean_ += delta / count_;
  m2_ += delta * (micros - mean_);
  if (ring_.size() < window_) {
    ring_.push_back(micros);
  } else {
    ring_[next_] = micros;
    next_ = (next_ + 1) % window_;
  }
}

stats_summary time_stats::summary() const {
  std::lock_guard<std::mutex> guard{mtx_};
  double var = count_ > 1 ? m2_ / count_ : 0.0;
  return {last_, mean_, std::sqrt(var), count_};
}

std::vector<int64_t> time_stats::recent() const {
  std::lock_guard<std::mutex> guard{mtx_};
  std::vector<int64_t> result(ring_.begin() + next_, ring_.end());
  result.insert(result.end(), ring_.begin(), ring_.begin() + next_);
  return result;
}

} // namespace actorrt
