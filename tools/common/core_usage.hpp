// What each core did for an engine between two GetStats() readings.
#pragma once

#include <algorithm>
#include <string>
#include <vector>

#include "actorrt/inference_engine.hpp"

namespace actorrt::tools {

struct core_usage {
  int device = 0;
  int core = 0;
  std::string host;
  std::string backend;
  bool simulated = false;
  uint64_t jobs = 0;      // ended there (done or failed)
  double utilisation = 0; // share of `seconds` it computed this engine's jobs
};

inline std::vector<core_usage> core_usage_between(const EngineStats& before,
                                                  const EngineStats& after,
                                                  double seconds) {
  std::vector<core_usage> result;
  for (auto& c : after.cores) {
    core_usage u{c.device,  c.core,      c.host,
                 c.backend, c.simulated, c.jobs_done + c.jobs_failed,
                 0};
    double busy = c.compute.total();
    for (auto& b : before.cores)
      if (b.device == c.device && b.core == c.core) {
        u.jobs -= b.jobs_done + b.jobs_failed;
        busy -= b.compute.total();
      }
    u.utilisation
      = seconds > 0 ? std::clamp(busy / 1e3 / seconds, 0.0, 1.0) : 0.0;
    result.push_back(std::move(u));
  }
  return result;
}

} // namespace actorrt::tools
