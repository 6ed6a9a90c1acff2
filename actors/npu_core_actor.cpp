#include "actors/npu_core_actor.hpp"

#include "actors/spin.hpp"
#include "core/clock.hpp"

namespace actorrt {

namespace {

std::string core_name(const npu_core_state& st) {
  return std::to_string(st.device) + ":" + std::to_string(st.core);
}

/// Runs a batch on its lane; every job gets a result, failed or not.
job_results run_batch(npu_core_state& st, job_batch& batch) {
  auto dispatched = now_ns();
  job_results results(batch.jobs.size());
  for (size_t i = 0; i < results.size(); ++i) {
    results[i].id = batch.jobs[i].id;
    results[i].device = batch.device; // as the sending scheduler names us
    results[i].core = batch.core;
  }
  auto lane = st.lanes.find(batch.model);
  if (lane == st.lanes.end()) {
    for (size_t i = 0; i < batch.jobs.size(); ++i) {
      results[i].error = {errc::invalid_operation,
                          "model " + std::to_string(batch.model)
                            + " is not loaded on NPU core " + core_name(st)};
    }
    st.counters->failed.fetch_add(batch.jobs.size(), std::memory_order_relaxed);
    return results;
  }
  auto& m = *lane->second.model;
  std::vector<lane_job> work(batch.jobs.size());
  for (size_t i = 0; i < batch.jobs.size(); ++i) {
    auto& j = batch.jobs[i];
    work[i].inputs = attach(m.input_metas(), std::move(j.inputs), j.batch);
    work[i].outputs = attach(m.output_metas(), std::move(j.outputs), j.batch);
  }
  lane->second.lane->run_batch(work);
  for (size_t i = 0; i < work.size(); ++i) {
    auto& r = results[i];
    r.dispatched = dispatched;
    r.started = work[i].started ? work[i].started : dispatched;
    r.finished = work[i].finished ? work[i].finished : now_ns();
    r.error = std::move(work[i].error);
    if (r.error) {
      st.counters->failed.fetch_add(1, std::memory_order_relaxed);
      continue;
    }
    st.counters->done.fetch_add(1, std::memory_order_relaxed);
    st.counters->compute.record((r.finished - r.started) / 1000);
    bool decided = false;
    for (auto& out : work[i].outputs)
      decided = decided || out.info().dynamic_shape;
    for (auto& out : work[i].outputs) {
      if (decided)
        r.shapes.push_back(out.info().shape);
      r.outputs.push_back(std::move(out.bytes));
    }
  }
  return results;
}

} // namespace

npu_core_actor::behavior_type
npu_core(npu_core_actor::stateful_pointer<npu_core_state> self, int device,
         int core, device_spec spec,
         std::shared_ptr<process_metrics> counters) {
  self->state.device = device;
  self->state.core = core;
  self->state.spec = std::move(spec);
  self->state.counters = &counters->core(device, core);
  self->state.process = std::move(counters);
  return {
    [=](load_atom, model_handle& m) -> caf::result<failure, std::string> {
      auto& st = self->state;
      if (m.refused)
        return {m.refused, std::string{}};
      if (!m.ptr) // came by digest, and this node does not hold it
        return {failure{errc::invalid_operation, "model not on this node"},
                send_model_bytes};
      try {
        auto lane = make_executor(st.spec, *m.ptr, {st.core, m.backend});
        auto name = lane->name();
        st.lanes[m.id] = {m.ptr, m.backend, std::move(lane)};
        return {failure{}, std::move(name)};
      } catch (...) {
        return {failure::from_current_exception(), std::string{}};
      }
    },
    [=](unload_atom, uint64_t model) { self->state.lanes.erase(model); },
    [=](reset_atom) -> caf::result<uint64_t> {
      // dxrt-cli -r: every lane built anew from its model, between two
      // batches (the old one goes first, so what only it held is freed).
      // A lane that cannot be rebuilt is gone: its jobs fail saying the
      // model is not loaded here. Returns the lanes rebuilt.
      auto& st = self->state;
      uint64_t rebuilt = 0;
      for (auto it = st.lanes.begin(); it != st.lanes.end();) {
        auto& l = it->second;
        l.lane.reset();
        try {
          l.lane = make_executor(st.spec, *l.model, {st.core, l.backend});
          ++rebuilt;
          ++it;
        } catch (...) {
          it = st.lanes.erase(it);
        }
      }
      return rebuilt;
    },
    [=](run_atom, job_batch& batch) -> caf::result<uint64_t> {
      // Results go to their engine directly; the answer only tells the
      // scheduler that this core is free again. It goes before the core
      // lingers for its next batch.
      auto answer = self->make_response_promise<uint64_t>();
      auto n = batch.jobs.size();
      try {
        self->send(batch.engine, done_atom::value,
                   run_batch(self->state, batch));
      } catch (const lane_lost& e) {
        // The device is gone: this core ends, and the scheduler fails the
        // batch it held (this error) and routes around the core (its exit).
        auto why = caf::make_error(caf::sec::runtime_error,
                                   "NPU core " + core_name(self->state) + ": "
                                     + e.what());
        answer.deliver(why);
        self->quit(why);
        return answer;
      }
      answer.deliver(uint64_t{n});
      linger(self);
      return answer;
    },
  };
}

} // namespace actorrt
