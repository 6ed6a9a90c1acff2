// What is known of one NPU core, wherever it is: the record the scheduler
// keeps and reports (serialised for remote cores in actors/messages.hpp).
#pragma once

#include <cstdint>
#include <map>
#include <string>

namespace actorrt {

/// Per-core facts and counters, for the scheduler, tests and tools. `host`
/// and `device_key` name the device uniquely across hosts; `device` is the
/// number the scheduler gave it (local devices first, in join order).
struct core_report {
  int device = 0;
  int core = 0;
  std::string kind;
  std::string host;
  std::string device_key;
  bool alive = true;
  bool simulated = false;
  uint64_t jobs = 0; // dispatched to the core
  int in_flight = 0; // dispatched and not yet answered
  /// The backend each loaded model's lane runs (model id → executor name).
  std::map<uint64_t, std::string> lanes;
};

} // namespace actorrt
