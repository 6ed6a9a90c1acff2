#include "actors/spin.hpp"

#include <algorithm>
#include <cstdlib>

#include "actors/runtime_cpus.hpp"

namespace actorrt {

std::chrono::nanoseconds spin_budget() {
  static const std::chrono::nanoseconds budget = [] {
    long us = 200;
    if (const char* s = std::getenv("ACTORRT_SPIN_US"))
      us = std::strtol(s, nullptr, 10);
    return std::chrono::microseconds(us < 0 ? 0 : us);
  }();
  return budget;
}

namespace {

/// One thread's poll window: its length (50 us at first), and when its
/// last poll ended empty (none: it did not, or that was accounted for).
struct poll_window {
  std::chrono::nanoseconds length = std::min(
    spin_budget(), std::chrono::nanoseconds(std::chrono::microseconds(50)));
  std::chrono::steady_clock::time_point missed{};
};

thread_local poll_window window;

constexpr std::chrono::nanoseconds grow_from = std::chrono::microseconds(10);

} // namespace

std::chrono::nanoseconds
adapted_budget(std::chrono::steady_clock::time_point now) {
  auto most = spin_budget();
  auto& w = window;
  if (w.missed != std::chrono::steady_clock::time_point{}) {
    // The work came `now - missed` after the poll gave up (or, on a
    // thread that did something else meanwhile, before that).
    if (now - w.missed <= most)
      w.length = std::min(most, std::max(w.length * 2, grow_from));
    else
      w.length
        = w.length / 2 < grow_from ? std::chrono::nanoseconds(0) : w.length / 2;
    w.missed = {};
  }
  return w.length;
}

void poll_missed(std::chrono::steady_clock::time_point now) {
  window.missed = now;
}

unsigned spin_yield_period() {
  return runtime_threads_kept() ? 8 : 64;
}

} // namespace actorrt
