// Latency figures of a measured run, shared by the tools.
#pragma once

#include <algorithm>
#include <cstdint>
#include <vector>

#include <nlohmann/json.hpp>

namespace actorrt::tools {

/// The p-quantile (0..1) of sorted microsecond samples, in milliseconds.
inline double sorted_quantile_ms(const std::vector<int64_t>& sorted, double p) {
  if (sorted.empty())
    return 0;
  return double(sorted[size_t(p * double(sorted.size() - 1) + 0.5)]) / 1e3;
}

/// The p-quantile (0..1) of microsecond samples, in milliseconds.
inline double percentile(std::vector<int64_t> xs, double p) {
  std::sort(xs.begin(), xs.end());
  return sorted_quantile_ms(xs, p);
}

/// The mean of microsecond samples, in milliseconds.
inline double mean_ms(const std::vector<int64_t>& xs) {
  double sum = 0;
  for (auto x : xs)
    sum += double(x);
  return xs.empty() ? 0.0 : sum / double(xs.size()) / 1e3;
}

/// What the tools report of a run's latencies, in milliseconds: mean, p50,
/// p90, p95, p99, p99.9 and max.
inline nlohmann::json latency_summary_ms(std::vector<int64_t> us) {
  std::sort(us.begin(), us.end());
  nlohmann::json summary{{"mean", mean_ms(us)}};
  for (auto [name, p] : {std::pair{"p50", 0.5}, std::pair{"p90", 0.9},
                         std::pair{"p95", 0.95}, std::pair{"p99", 0.99},
                         std::pair{"p99.9", 0.999}, std::pair{"max", 1.0}})
    summary[name] = sorted_quantile_ms(us, p);
  return summary;
}

} // namespace actorrt::tools
