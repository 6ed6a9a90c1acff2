// An actor system on CAF's test coordinator, with ActorRT's message types:
// every message is delivered when the test says (sched.run()).
#pragma once

#include <caf/all.hpp>
#include <caf/scheduler/test_coordinator.hpp>

#include "actors/runtime.hpp"

namespace actorrt::test {

struct deterministic_system {
  struct config : caf::actor_system_config {
    config() {
      add_actorrt_types(*this);
      set("scheduler.policy", caf::atom("testing"));
    }
  };
  config cfg;
  caf::actor_system sys{cfg};
  caf::scheduler::test_coordinator& sched
    = dynamic_cast<caf::scheduler::test_coordinator&>(sys.scheduler());
};

} // namespace actorrt::test
