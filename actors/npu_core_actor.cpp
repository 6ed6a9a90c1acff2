#include "actors/npu_core_actor.hpp"

namespace actorrt {

namespace {

job_result run_job(npu_core_state& st, core_job& job) {
  job_result result;
  result.dispatched = job.dispatched;
  result.started = now_ns();
  auto lane = st.lanes.find(job.model_id);
  if (lane == st.lanes.end()) {
    result.error
      = {errc::invalid_operation,
         "model " + std::to_string(job.model_id) + " is not loaded on NPU core "
           + std::to_string(st.device) + ":" + std::to_string(st.core)};
  } else {
    try {
      result.outputs = lane->second->run(job.inputs);
      if (auto begun = lane->second->last_compute_start())
        result.started = begun; // a host-CPU wait is not NPU time
    } catch (...) {
      result.error = failure::from_current_exception();
    }
  }
  result.finished = now_ns();
  return result;
}

} // namespace

caf::behavior npu_core_actor(caf::stateful_actor<npu_core_state>* self,
                             int device, int core, device_spec spec) {
  self->state.device = device;
  self->state.core = core;
  self->state.spec = std::move(spec);
  return {
    [=](load_atom, model_handle& m) -> failure {
      auto& st = self->state;
      try {
        st.lanes[m.id] = make_executor(st.spec, *m.ptr, st.core);
      } catch (...) {
        return failure::from_current_exception();
      }
      return {};
    },
    [=](unload_atom, uint64_t model_id) { self->state.lanes.erase(model_id); },
    [=](run_atom, core_job& job) {
      // The result goes to its receiver directly; the (empty) answer only
      // tells the scheduler that this core is free.
      self->send(job.reply_to, done_atom::value, job.id,
                 run_job(self->state, job));
    },
  };
}

} // namespace actorrt
