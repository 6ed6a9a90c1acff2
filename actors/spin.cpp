#include "actors/spin.hpp"

#include <cstdlib>

#include "actors/runtime_cpus.hpp"

namespace actorrt {

std::chrono::nanoseconds spin_budget() {
  static const std::chrono::nanoseconds budget = [] {
    long us = 50;
    if (const char* s = std::getenv("ACTORRT_SPIN_US"))
      us = std::strtol(s, nullptr, 10);
    return std::chrono::microseconds(us < 0 ? 0 : us);
  }();
  return budget;
}

unsigned spin_yield_period() {
  return runtime_threads_kept() ? 8 : 64;
}

} // namespace actorrt
