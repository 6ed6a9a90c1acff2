// Counters and latency histograms that jobs record into as they end and
// that anybody may read at any time (get_stats, the Prometheus endpoint,
// dxrt-cli's status). Recording is a few relaxed atomic adds: no lock.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "core/clock.hpp"
#include "core/stats.hpp"

namespace actorrt {

/// Durations in microseconds, in fixed log-spaced buckets (ten per decade,
/// 1 µs to 100 s): quantiles read off it are within a bucket's width (26%)
/// of the true value. One thread records (an actor's), any thread reads:
/// recording takes no lock and no atomic read-modify-write.
class histogram {
public:
  static constexpr size_t buckets = 81; // the last one is +Inf
  /// The upper bound (µs) of bucket i < buckets - 1.
  static double bound(size_t i);

  void record(int64_t micros);

  struct snapshot {
    std::array<uint64_t, buckets> counts{}; // per bucket, not cumulative
    uint64_t count = 0;
    double sum = 0;    // µs
    double sum_sq = 0; // µs²
    int64_t max = 0;
    int64_t last = 0; // the latest sample

    double mean() const {
      return count ? sum / double(count) : 0.0;
    }
    /// DX-RT's figures: last, mean, deviation, count (exact, not from
    /// buckets).
    stats_summary summary() const;
    /// Estimated by interpolating inside the bucket that holds it (µs).
    double quantile(double q) const;
    void add(const snapshot& other);
  };
  snapshot read() const;

private:
  std::array<std::atomic<uint64_t>, buckets> counts_{};
  std::atomic<uint64_t> sum_{0};
  std::atomic<double> sum_sq_{0};
  std::atomic<int64_t> max_{0};
  std::atomic<int64_t> last_{0};
};

/// What one NPU core did: jobs ended there, and their compute time.
struct core_metrics {
  std::atomic<uint64_t> done{0};
  std::atomic<uint64_t> failed{0};
  std::atomic<uint64_t> runs{0}; // executor calls (batches run as one)
  histogram compute;
};

class metrics;

/// How a set of engines' jobs ended, read at one moment, and per core
/// (local or remote) as the engines saw it.
struct job_totals {
  uint64_t done = 0;
  uint64_t failed = 0;
  uint64_t runs = 0; // executor calls that ran them (batches count once)
  histogram::snapshot latency;
  histogram::snapshot queue;
  struct per_core {
    uint64_t done = 0;
    uint64_t failed = 0;
    uint64_t runs = 0; // executor calls (batches count once)
    histogram::snapshot compute;
  };
  std::map<std::pair<int, int>, per_core> cores;

  void add(const metrics& m);
};

/// Counters per NPU core, by (device, core).
class core_table {
public:
  /// The counters of core `core` of device `device` (made on first use;
  /// the reference stays valid).
  core_metrics& core(int device, int core);
  /// Every core's counters so far.
  std::map<std::pair<int, int>, const core_metrics*> cores() const;

private:
  mutable std::mutex mtx_;
  std::map<std::pair<int, int>, std::unique_ptr<core_metrics>> cores_;
};

/// One engine's jobs: how many ended and how, their end-to-end latency
/// (submitted → outputs ready), the part of it spent waiting (latency −
/// compute: queueing, transfer, delivery), and per core.
class metrics : public core_table {
public:
  std::atomic<uint64_t> done{0};
  std::atomic<uint64_t> failed{0};
  /// Executor calls its jobs ran in: (done + failed) / runs is the mean
  /// batch a core ran (jobs ended without a run count none).
  std::atomic<uint64_t> runs{0};
  histogram latency;
  histogram queue;
  histogram compute;
  const int64_t started_ns; // when counting began (now_ns())

  metrics();
};

/// A process's counters: its cores' (each core records its own) and the
/// totals of its engines, which join while they live.
class process_metrics : public core_table {
public:
  /// Counts `engine`'s jobs in totals() from now on; `leave` keeps what it
  /// counted there when it ends.
  void join(const metrics* engine);
  void leave(const metrics* engine);
  /// Its engines' jobs, live and ended.
  job_totals totals() const;
  /// When counting began (now_ns()).
  const int64_t started_ns = now_ns();

private:
  mutable std::mutex mtx_;
  std::vector<const metrics*> engines_;
  job_totals ended_;
};

} // namespace actorrt
