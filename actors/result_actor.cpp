#include "actors/result_actor.hpp"

namespace actorrt {

caf::behavior result_actor(caf::stateful_actor<result_state>* self,
                           std::shared_ptr<delivery> sink) {
  self->state.sink = std::move(sink);
  return {
    [=](done_atom, job_id id, job_result& r) {
      auto& st = self->state;
      st.batch.emplace_back(id, std::move(r));
      if (st.batch.size() < 64 && !self->mailbox().empty())
        return;
      st.sink->deliver(st.batch);
      st.batch.clear();
    },
  };
}

} // namespace actorrt
