// Latency figures of a measured run, shared by the tools.
#pragma once

#include <algorithm>
#include <cstdint>
#include <vector>

namespace actorrt::tools {

/// The p-quantile (0..1) of microsecond samples, in milliseconds.
inline double percentile(std::vector<int64_t> xs, double p) {
  if (xs.empty())
    return 0;
  std::sort(xs.begin(), xs.end());
  return double(xs[size_t(p * double(xs.size() - 1) + 0.5)]) / 1e3;
}

/// The mean of microsecond samples, in milliseconds.
inline double mean_ms(const std::vector<int64_t>& xs) {
  double sum = 0;
  for (auto x : xs)
    sum += double(x);
  return xs.empty() ? 0.0 : sum / double(xs.size()) / 1e3;
}

} // namespace actorrt::tools
