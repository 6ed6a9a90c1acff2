#include "core/metrics.hpp"

#include <cmath>

#include "core/clock.hpp"

namespace actorrt {

namespace {

// Ten steps per decade, rounded as E-series values are.
constexpr std::array<double, 10> steps{1.0, 1.25, 1.6, 2.0, 2.5,
                                       3.2, 4.0,  5.0, 6.3, 8.0};

size_t bucket_of(int64_t micros) {
  if (micros <= 1)
    return 0;
  // The first bound not below `micros`; log10 finds the decade.
  auto decade = static_cast<size_t>(std::log10(double(micros)));
  for (size_t i = decade * 10; i < histogram::buckets - 1; ++i)
    if (double(micros) <= histogram::bound(i))
      return i;
  return histogram::buckets - 1;
}

} // namespace

double histogram::bound(size_t i) {
  return steps[i % 10] * std::pow(10.0, double(i / 10));
}

void histogram::record(int64_t micros) {
  micros = std::max<int64_t>(micros, 0);
  counts_[bucket_of(micros)].fetch_add(1, std::memory_order_relaxed);
  sum_.fetch_add(uint64_t(micros), std::memory_order_relaxed);
  auto seen = max_.load(std::memory_order_relaxed);
  while (
    micros > seen
    && !max_.compare_exchange_weak(seen, micros, std::memory_order_relaxed)) {
  }
}

histogram::snapshot histogram::read() const {
  snapshot s;
  for (size_t i = 0; i < buckets; ++i) {
    s.counts[i] = counts_[i].load(std::memory_order_relaxed);
    s.count += s.counts[i];
  }
  s.sum = double(sum_.load(std::memory_order_relaxed));
  s.max = max_.load(std::memory_order_relaxed);
  return s;
}

double histogram::snapshot::quantile(double q) const {
  if (count == 0)
    return 0;
  double rank = q * double(count);
  uint64_t below = 0;
  for (size_t i = 0; i < buckets; ++i) {
    if (counts[i] == 0 || double(below + counts[i]) < rank) {
      below += counts[i];
      continue;
    }
    double lo = i == 0 ? 0.0 : bound(i - 1);
    double hi = i + 1 == buckets ? double(max) : bound(i);
    double share = (rank - double(below)) / double(counts[i]);
    return std::min(lo + share * (hi - lo), double(max));
  }
  return double(max);
}

metrics::metrics() : started_ns(now_ns()) {}

core_metrics& metrics::core(int device, int core) {
  std::lock_guard<std::mutex> guard{mtx_};
  auto& slot = cores_[{device, core}];
  if (!slot)
    slot = std::make_unique<core_metrics>();
  return *slot;
}

std::map<std::pair<int, int>, const core_metrics*> metrics::cores() const {
  std::lock_guard<std::mutex> guard{mtx_};
  std::map<std::pair<int, int>, const core_metrics*> result;
  for (auto& [key, c] : cores_)
    result[key] = c.get();
  return result;
}

} // namespace actorrt
