#include "actors/scheduler_actor.hpp"

namespace actorrt {

namespace {

using self_ptr = caf::stateful_actor<scheduler_state>*;

std::string core_name(const scheduler_state& st, size_t slot) {
  return std::to_string(st.reports[slot].device) + ":"
         + std::to_string(st.reports[slot].core);
}

void fail_job(self_ptr self, const job_ptr& j, errc code, std::string msg) {
  job_result r;
  r.error = {code, std::move(msg)};
  self->send(j->reply_to, done_atom::value, j->id, std::move(r));
}

void try_dispatch_queued(self_ptr self);

void dispatch(self_ptr self, job_ptr j, size_t slot) {
  auto& st = self->state;
  st.policy.started(slot);
  // Counted here, not at the core's answer: the job's result may reach its
  // caller before that answer reaches us.
  ++st.reports[slot].jobs;
  auto free_core = [self, slot] {
    self->state.policy.finished(slot);
    try_dispatch_queued(self);
  };
  // The job (and the caller's input buffers) stays referenced here until
  // the core is done with it.
  self
    ->request(st.cores[slot], caf::infinite, run_atom::value,
              core_job{j->id, j->model_id, j->inputs, j->reply_to, now_ns()})
    .then([j, free_core] { free_core(); },
          [self, slot, j, free_core](caf::error& e) {
            fail_job(self, j, errc::device_io,
                     "NPU core " + core_name(self->state, slot)
                       + " failed: " + self->system().render(e));
            free_core();
          });
}

void submit(self_ptr self, job_ptr j) {
  auto& st = self->state;
  if (auto slot = st.policy.pick(j->where))
    dispatch(self, std::move(j), *slot);
  else if (st.policy.can_serve(j->where))
    st.queue.push_back(std::move(j));
  else
    fail_job(self, j, errc::device_io,
             "no running NPU core matches this engine's devices and bound "
             "option");
}

void try_dispatch_queued(self_ptr self) {
  auto& st = self->state;
  for (auto i = st.queue.begin(); i != st.queue.end();) {
    if (auto slot = st.policy.pick((*i)->where)) {
      auto j = std::move(*i);
      i = st.queue.erase(i);
      dispatch(self, std::move(j), *slot);
    } else {
      ++i;
    }
  }
}

void core_down(self_ptr self, const caf::down_msg& msg) {
  auto& st = self->state;
  for (size_t slot = 0; slot < st.cores.size(); ++slot)
    if (st.cores[slot].address() == msg.source) {
      st.policy.set_alive(slot, false);
      st.reports[slot].alive = false;
    }
  // Queued jobs that no living core can take end now, not never.
  for (auto i = st.queue.begin(); i != st.queue.end();) {
    if (st.policy.can_serve((*i)->where)) {
      ++i;
      continue;
    }
    fail_job(self, *i, errc::device_io,
             "every NPU core this job may use has stopped");
    i = st.queue.erase(i);
  }
}

struct load_fanout {
  caf::response_promise promise;
  size_t pending = 0;
  failure first_error;
};

} // namespace

caf::behavior scheduler_actor(self_ptr self, int core_depth) {
  self->state.policy = scheduling_policy{core_depth};
  self->set_down_handler([self](caf::down_msg& msg) { core_down(self, msg); });
  return {
    [=](join_atom, caf::actor core, core_report& report) {
      auto& st = self->state;
      self->monitor(core);
      st.policy.add_core(report.device, report.core);
      st.cores.push_back(std::move(core));
      st.reports.push_back(std::move(report));
    },
    [=](load_atom, model_handle& m, placement& where) {
      auto& st = self->state;
      auto fan = std::make_shared<load_fanout>();
      fan->promise = self->make_response_promise();
      for (size_t slot = 0; slot < st.cores.size(); ++slot) {
        auto& r = st.reports[slot];
        if (!r.alive || !where.allows(r.device, r.core))
          continue;
        ++fan->pending;
        auto reply = [fan](failure f) {
          if (f && !fan->first_error)
            fan->first_error = std::move(f);
          if (--fan->pending == 0)
            fan->promise.deliver(fan->first_error);
        };
        self->request(st.cores[slot], caf::infinite, load_atom::value, m)
          .then([reply](failure& f) { reply(std::move(f)); },
                [reply, self](caf::error& e) {
                  reply({errc::device_io, self->system().render(e)});
                });
      }
      if (fan->pending == 0)
        fan->promise.deliver(failure{errc::invalid_argument,
                                     "no running NPU core matches the "
                                     "engine's devices and bound option"});
      return fan->promise;
    },
    [=](unload_atom, uint64_t model_id) {
      for (auto& core : self->state.cores)
        self->send(core, unload_atom::value, model_id);
    },
    [=](submit_atom, job_ptr& j) { submit(self, std::move(j)); },
    [=](report_atom) { return self->state.reports; },
  };
}

} // namespace actorrt
