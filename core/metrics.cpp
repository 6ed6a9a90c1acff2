#include "core/metrics.hpp"

#include <algorithm>
#include <cmath>

#include "core/clock.hpp"

namespace actorrt {

namespace {

// Ten steps per decade, rounded as E-series values are.
constexpr std::array<double, 10> steps{1.0, 1.25, 1.6, 2.0, 2.5,
                                       3.2, 4.0,  5.0, 6.3, 8.0};

/// The bounds, computed once: recording must not call pow() per job.
const std::array<double, histogram::buckets - 1>& bounds() {
  static const auto table = [] {
    std::array<double, histogram::buckets - 1> b{};
    for (size_t i = 0; i < b.size(); ++i)
      b[i] = steps[i % 10] * std::pow(10.0, double(i / 10));
    return b;
  }();
  return table;
}

size_t bucket_of(int64_t micros) {
  auto& b = bounds();
  return size_t(std::lower_bound(b.begin(), b.end(), double(micros))
                - b.begin());
}

} // namespace

double histogram::bound(size_t i) {
  return bounds()[i];
}

void histogram::record(int64_t micros) {
  // One writer: a plain increment of an atomic (readers never see a torn
  // value) costs no bus lock.
  constexpr auto relaxed = std::memory_order_relaxed;
  micros = std::max<int64_t>(micros, 0);
  auto& count = counts_[bucket_of(micros)];
  count.store(count.load(relaxed) + 1, relaxed);
  sum_.store(sum_.load(relaxed) + uint64_t(micros), relaxed);
  sum_sq_.store(sum_sq_.load(relaxed) + double(micros) * double(micros),
                relaxed);
  last_.store(micros, relaxed);
  if (micros > max_.load(relaxed))
    max_.store(micros, relaxed);
}

histogram::snapshot histogram::read() const {
  snapshot s;
  for (size_t i = 0; i < buckets; ++i) {
    s.counts[i] = counts_[i].load(std::memory_order_relaxed);
    s.count += s.counts[i];
  }
  s.sum = double(sum_.load(std::memory_order_relaxed));
  s.sum_sq = sum_sq_.load(std::memory_order_relaxed);
  s.max = max_.load(std::memory_order_relaxed);
  s.last = last_.load(std::memory_order_relaxed);
  return s;
}

stats_summary histogram::snapshot::summary() const {
  auto m = mean();
  auto variance = count > 1 ? sum_sq / double(count) - m * m : 0.0;
  return {last, m, std::sqrt(std::max(variance, 0.0)), count};
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

void histogram::snapshot::add(const snapshot& other) {
  for (size_t i = 0; i < buckets; ++i)
    counts[i] += other.counts[i];
  count += other.count;
  sum += other.sum;
  sum_sq += other.sum_sq;
  max = std::max(max, other.max);
  if (other.count > 0)
    last = other.last;
}

void job_totals::add(const metrics& m) {
  done += m.done.load(std::memory_order_relaxed);
  failed += m.failed.load(std::memory_order_relaxed);
  runs += m.runs.load(std::memory_order_relaxed);
  latency.add(m.latency.read());
  queue.add(m.queue.read());
  for (auto& [key, c] : m.cores()) {
    auto& mine = cores[key];
    mine.done += c->done.load(std::memory_order_relaxed);
    mine.failed += c->failed.load(std::memory_order_relaxed);
    mine.runs += c->runs.load(std::memory_order_relaxed);
    mine.compute.add(c->compute.read());
  }
}

metrics::metrics() : started_ns(now_ns()) {}

void process_metrics::join(const metrics* engine) {
  std::lock_guard<std::mutex> guard{mtx_};
  engines_.push_back(engine);
}

void process_metrics::leave(const metrics* engine) {
  std::lock_guard<std::mutex> guard{mtx_};
  auto i = std::find(engines_.begin(), engines_.end(), engine);
  if (i == engines_.end())
    return;
  engines_.erase(i);
  ended_.add(*engine);
}

job_totals process_metrics::totals() const {
  std::lock_guard<std::mutex> guard{mtx_};
  job_totals t = ended_;
  for (auto* e : engines_)
    t.add(*e);
  return t;
}

core_metrics& core_table::core(int device, int core) {
  std::lock_guard<std::mutex> guard{mtx_};
  auto& slot = cores_[{device, core}];
  if (!slot)
    slot = std::make_unique<core_metrics>();
  return *slot;
}

std::map<std::pair<int, int>, const core_metrics*> core_table::cores() const {
  std::lock_guard<std::mutex> guard{mtx_};
  std::map<std::pair<int, int>, const core_metrics*> result;
  for (auto& [key, c] : cores_)
    result[key] = c.get();
  return result;
}

} // namespace actorrt
