#include "actors/engine_actor.hpp"

#include <atomic>
#include <set>

namespace actorrt {

namespace {

using self_ptr = caf::stateful_actor<engine_state>*;

void start(self_ptr self, job_ptr j) {
  ++self->state.in_flight;
  self->send(self->state.cfg.scheduler, submit_atom::value, std::move(j));
}

std::vector<blob> buffers_of(const tensors& xs) {
  std::vector<blob> result;
  for (auto& x : xs)
    result.push_back(x.bytes);
  return result;
}

} // namespace

caf::behavior engine_actor(self_ptr self, engine_config cfg) {
  self->state.cfg = std::move(cfg);
  auto scheduler = self->state.cfg.scheduler;
  auto model_id = self->state.cfg.model_id;
  self->attach_functor([scheduler, model_id] {
    caf::anon_send(scheduler, unload_atom::value, model_id);
  });
  return {
    [=](infer_atom, tensors& inputs) -> caf::result<tensors> {
      auto& st = self->state;
      auto j = std::make_shared<job>();
      try {
        j->inputs = bind_inputs(st.cfg.model->inputs(), buffers_of(inputs));
      } catch (...) {
        return to_caf_error(failure::from_current_exception());
      }
      j->id = ++st.last_id;
      j->model_id = st.cfg.model_id;
      j->where = st.cfg.where;
      j->reply_to = caf::actor_cast<caf::actor>(self);
      auto promise = self->make_response_promise();
      st.promises.emplace(j->id, promise);
      if (st.in_flight < st.cfg.max_in_flight)
        start(self, std::move(j));
      else
        st.waiting.push_back(std::move(j));
      return promise;
    },
    [=](done_atom, job_id id, job_result& r) {
      auto& st = self->state;
      --st.in_flight;
      auto i = st.promises.find(id);
      if (i != st.promises.end()) {
        if (r.error)
          i->second.deliver(to_caf_error(r.error));
        else
          i->second.deliver(std::move(r.outputs));
        st.promises.erase(i);
      }
      if (!st.waiting.empty()) {
        auto next = std::move(st.waiting.front());
        st.waiting.pop_front();
        start(self, std::move(next));
      }
    },
  };
}

engine_config place_model(caf::actor_system& sys, const caf::actor& scheduler,
                          model_ptr m, const InferenceOption& option) {
  static std::atomic<uint64_t> model_ids{0};
  option.validate();
  engine_config cfg;
  cfg.model = m;
  cfg.model_id = ++model_ids;
  cfg.where
    = {option.devices, bound_core_mask(option.bound), option.buffer_count};
  cfg.scheduler = scheduler;
  caf::scoped_actor self{sys};
  std::vector<core_report> cores;
  self->request(scheduler, caf::infinite, report_atom::value)
    .receive([&](std::vector<core_report>& r) { cores = std::move(r); },
             [&](caf::error& e) { throw DeviceIO(sys.render(e)); });
  std::set<int> devices;
  cfg.simulated = true;
  for (auto& c : cores)
    if (c.alive && cfg.where.allows(c.device, c.core)) {
      devices.insert(c.device);
      cfg.simulated = cfg.simulated && c.simulated;
    }
  for (int id : option.devices)
    if (!devices.count(id))
      throw InvalidArgument("device " + std::to_string(id)
                            + " does not exist or has no core the bound "
                              "option allows");
  cfg.max_in_flight = option.buffer_count
                      * static_cast<int>(std::max<size_t>(1, devices.size()));
  failure loaded;
  self
    ->request(scheduler, caf::infinite, load_atom::value,
              model_handle{cfg.model_id, m}, cfg.where)
    .receive([&](failure& f) { loaded = std::move(f); },
             [&](caf::error& e) { loaded = to_failure(sys, e); });
  if (loaded) {
    caf::anon_send(scheduler, unload_atom::value, cfg.model_id);
    throw_error(loaded.code, loaded.message);
  }
  return cfg;
}

caf::actor spawn_engine(caf::actor_system& sys, const caf::actor& scheduler,
                        model_ptr m, const InferenceOption& option) {
  return sys.spawn(engine_actor, place_model(sys, scheduler, m, option));
}

} // namespace actorrt
