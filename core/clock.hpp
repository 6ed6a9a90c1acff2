// The one clock of per-job timestamps.
#pragma once

#include <chrono>
#include <cstdint>

namespace actorrt {

/// Monotonic nanoseconds; only differences mean anything.
inline int64_t now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
           std::chrono::steady_clock::now().time_since_epoch())
    .count();
}

} // namespace actorrt
