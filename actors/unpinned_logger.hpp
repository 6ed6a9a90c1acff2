// Lets a thread outside CAF use an actor system without holding it open.
#pragma once

#include <caf/logger.hpp>

namespace actorrt {

/// CAF 0.17 pins an actor system's logger to each thread that makes the
/// system or spawns in it, and the system's destructor waits until those
/// references are gone. A thread outside CAF drops its reference at the end
/// of this scope, so a runtime can end on any thread (e.g. the one
/// disposing engines that Python dropped).
class unpinned_logger {
public:
  unpinned_logger() : had_(caf::logger::current_logger() != nullptr) {}
  ~unpinned_logger() {
    if (!had_)
      caf::logger::set_current_actor_system(nullptr);
  }
  unpinned_logger(const unpinned_logger&) = delete;
  unpinned_logger& operator=(const unpinned_logger&) = delete;

private:
  bool had_;
};

} // namespace actorrt
