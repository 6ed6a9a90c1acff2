// Per-job times (latency, NPU time) as DX-RT reports them, in microseconds.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace actorrt {

/// The latest sample, and mean, (population) deviation and count over all.
struct stats_summary {
  int64_t last = 0;
  double mean = 0;
  double stddev = 0;
  uint64_t count = 0;
};

/// The most recent `window` samples (DX-RT's latency and NPU-time lists).
/// One owner records and reads them: no lock.
class recent_samples {
public:
  explicit recent_samples(size_t window = 1024) : window_(window) {}

  void add(int64_t micros);
  /// Oldest first.
  std::vector<int64_t> values() const;

private:
  size_t window_;
  std::vector<int64_t> ring_;
  size_t next_ = 0;
};

} // namespace actorrt
