#include "core/cpu_contention.hpp"

#include <atomic>
#include <cstdint>
#include <thread>

namespace actorrt {

namespace {

using clock = std::chrono::steady_clock;

/// Well above a yield to another poller or to a thread passing a message
/// (microseconds; under 1 ms even when this VM steals the CPU for a moment),
/// below a busy task's slice.
constexpr std::chrono::microseconds late{1500};
/// How long polling stays off after a late yield: under lasting contention
/// one poll in this long pays a slice.
constexpr std::chrono::milliseconds contended_for{50};

std::atomic<int64_t> contended_until{0}; // clock's ns

int64_t ns(clock::time_point t) {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
           t.time_since_epoch())
    .count();
}

} // namespace

bool yield_cpu() {
  auto before = clock::now();
  std::this_thread::yield();
  auto after = clock::now();
  note_yield(after, after - before);
  return cpus_contended(after);
}

bool cpus_contended() {
  return cpus_contended(clock::now());
}

void note_yield(clock::time_point after, std::chrono::nanoseconds took) {
  if (took >= late)
    contended_until.store(ns(after + contended_for), std::memory_order_relaxed);
}

bool cpus_contended(clock::time_point now) {
  return ns(now) < contended_until.load(std::memory_order_relaxed);
}

} // namespace actorrt
