#include "actors/result_actor.hpp"

namespace actorrt {

caf::behavior result_actor(caf::stateful_actor<result_state>* self,
                           std::shared_ptr<delivery> sink) {
  self->state.sink = std::move(sink);
  return {
    [=](done_atom, job_ptr& j) { self->state.sink->deliver(*j); },
  };
}

} // namespace actorrt
