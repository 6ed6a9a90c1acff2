// Timing helpers shared by the benchmarks.
#pragma once

#include <algorithm>
#include <chrono>
#include <vector>

namespace actorrt::bench {

inline double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start)
    .count();
}

/// The p-th percentile (0..1) of `xs`, which it sorts.
template <class T>
T percentile(std::vector<T>& xs, double p) {
  std::sort(xs.begin(), xs.end());
  return xs.empty() ? T{} : xs[static_cast<size_t>(p * (xs.size() - 1))];
}

} // namespace actorrt::bench
