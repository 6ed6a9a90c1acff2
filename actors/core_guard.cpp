#include "actors/core_guard.hpp"

#include <set>

namespace actorrt {

namespace {

uint64_t input_bytes(const job& j) {
  uint64_t n = 0;
  for (auto& b : j.inputs)
    n += b.size;
  return n;
}

std::string mib(uint64_t bytes) {
  return std::to_string(bytes >> 20) + " MiB";
}

} // namespace

npu_core_actor::behavior_type core_guard(npu_core_actor::pointer self,
                                         npu_core_actor core,
                                         std::shared_ptr<client_usage> usage) {
  // The models this guard loaded on its core, unloaded when it ends.
  auto loaded = std::make_shared<std::set<uint64_t>>();
  self->attach_functor([core, loaded, usage] {
    std::lock_guard<std::mutex> guard{usage->mtx};
    for (auto id : *loaded) {
      caf::anon_send(core, unload_atom::value, id);
      if (--usage->models[id].cores == 0)
        usage->models.erase(id);
    }
  });
  // The client's scheduler sends everything but the first request; when
  // it is gone, so is the client.
  auto watching = std::make_shared<bool>(false);
  auto watch = [self, watching] {
    if (!*watching && self->current_sender()) {
      *watching = true;
      self->monitor(self->current_sender());
    }
  };
  self->set_down_handler([self](caf::down_msg&) { self->quit(); });
  auto unload = [usage, loaded](uint64_t id) {
    std::lock_guard<std::mutex> guard{usage->mtx};
    if (loaded->erase(id) && --usage->models[id].cores == 0)
      usage->models.erase(id);
  };
  return {
    [=](load_atom, model_handle& m) -> caf::result<failure, std::string> {
      watch();
      if (m.ptr && !loaded->count(m.id)) {
        auto& b = usage->bounds;
        uint64_t bytes = m.ptr->bytes().size();
        std::lock_guard<std::mutex> guard{usage->mtx};
        auto& models = usage->models;
        if (!models.count(m.id)) {
          uint64_t total = bytes;
          for (auto& [id, h] : models)
            total += h.bytes;
          if (int(models.size()) >= b.max_models)
            return {failure{errc::invalid_argument,
                            "this node holds " + std::to_string(models.size())
                              + " models of this client, the most it may"},
                    std::string{}};
          if (total > b.max_model_bytes)
            return {failure{errc::invalid_argument,
                            "this node holds at most " + mib(b.max_model_bytes)
                              + " of one client's models; with this one it "
                                "would hold "
                              + mib(total)},
                    std::string{}};
        }
        models[m.id].bytes = bytes;
        ++models[m.id].cores;
        loaded->insert(m.id);
      }
      auto answer = self->make_response_promise<failure, std::string>();
      auto id = m.id;
      self->request(core, caf::infinite, load_atom::value, std::move(m))
        .then(
          [=](failure& f, std::string& name) mutable {
            if (f)
              unload(id);
            answer.deliver(std::move(f), std::move(name));
          },
          [=](caf::error& e) mutable {
            unload(id);
            answer.deliver(std::move(e));
          });
      return answer;
    },
    [=](unload_atom, uint64_t id) {
      watch();
      unload(id);
      self->send(core, unload_atom::value, id);
    },
    [=](run_atom, job_batch& batch) -> caf::result<uint64_t> {
      watch();
      uint64_t all = batch.jobs.size();
      job_results refused;
      std::vector<job> allowed;
      {
        auto& b = usage->bounds;
        std::lock_guard<std::mutex> guard{usage->mtx};
        for (auto& j : batch.jobs) {
          std::string why;
          auto code = errc::invalid_argument;
          if (input_bytes(j) > b.max_input_bytes) {
            why = "a job's inputs of " + std::to_string(input_bytes(j))
                  + " bytes are over this node's bound of "
                  + std::to_string(b.max_input_bytes);
          } else if (usage->queued >= b.max_queued_jobs) {
            why = "this client has " + std::to_string(usage->queued)
                  + " jobs queued on this node, the most it may";
            code = errc::device_io;
          }
          if (why.empty()) {
            ++usage->queued;
            allowed.push_back(std::move(j));
            continue;
          }
          job_result r;
          r.id = j.id;
          r.device = batch.device;
          r.core = batch.core;
          r.error = {code, why};
          refused.push_back(std::move(r));
        }
      }
      if (!refused.empty())
        self->send(batch.engine, done_atom::value, std::move(refused));
      if (allowed.empty())
        return all;
      auto n = allowed.size();
      batch.jobs = std::move(allowed);
      auto release = [usage, n] {
        std::lock_guard<std::mutex> guard{usage->mtx};
        usage->queued -= int(n);
      };
      auto answer = self->make_response_promise<uint64_t>();
      self->request(core, caf::infinite, run_atom::value, std::move(batch))
        .then(
          [=](uint64_t) mutable {
            release();
            answer.deliver(all);
          },
          [=](caf::error& e) mutable {
            release();
            answer.deliver(std::move(e));
          });
      return answer;
    },
    [=](reset_atom) {
      watch();
      return self->delegate(core, reset_atom::value);
    },
  };
}

} // namespace actorrt
