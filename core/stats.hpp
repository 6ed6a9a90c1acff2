// Running statistics of per-job times (latency, NPU time), in microseconds.
#pragma once

#include <cstddef>
#include <cstdint>
#include <mutex>
#include <vector>

namespace actorrt {

struct stats_summary {
  int64_t last = 0;
  double mean = 0;
  double stddev = 0;
  uint64_t count = 0;
};

/// Thread-safe: the result actor records, callers read. Keeps the mean and
/// deviation over every sample (Welford) and the most recent `window` samples.
class time_stats {
public:
  explicit time_stats(size_t window = 1024) : window_(window) {}

  void record(int64_t micros);
  /// Several samples under one lock.
  void record(const std::vector<int64_t>& micros);
  stats_summary summary() const;
  /// The most recent samples, oldest first.
  std::vector<int64_t> recent() const;

private:
  void add(int64_t micros); // under mtx_

  mutable std::mutex mtx_;
  size_t window_;
  std::vector<int64_t> ring_;
  size_t next_ = 0;
  int64_t last_ = 0;
  uint64_t count_ = 0;
  double mean_ = 0;
  double m2_ = 0;
};

} // namespace actorrt
