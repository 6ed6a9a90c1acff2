#include "actors/inflight_limiter.hpp"

#include <algorithm>

namespace actorrt {

bool inflight_limiter::acquire() {
  std::unique_lock<std::mutex> guard{mtx_};
  cv_.wait(guard, [this] { return closed_ || in_flight_ < limit_; });
  if (closed_)
    return false;
  peak_ = std::max(peak_, ++in_flight_);
  return true;
}

bool inflight_limiter::acquire_now() {
  std::lock_guard<std::mutex> guard{mtx_};
  if (closed_)
    return false;
  peak_ = std::max(peak_, ++in_flight_);
  return true;
}

void inflight_limiter::release() {
  {
    std::lock_guard<std::mutex> guard{mtx_};
    --in_flight_;
  }
  // Both submitters (room) and drain (zero) wait on the same condition.
  cv_.notify_all();
}

void inflight_limiter::close() {
  {
    std::lock_guard<std::mutex> guard{mtx_};
    closed_ = true;
  }
  cv_.notify_all();
}

bool inflight_limiter::drain(std::chrono::milliseconds timeout) {
  std::unique_lock<std::mutex> guard{mtx_};
  return cv_.wait_for(guard, timeout, [this] { return in_flight_ == 0; });
}

int inflight_limiter::in_flight() const {
  std::lock_guard<std::mutex> guard{mtx_};
  return in_flight_;
}

int inflight_limiter::peak() const {
  std::lock_guard<std::mutex> guard{mtx_};
  return peak_;
}

} // namespace actorrt
