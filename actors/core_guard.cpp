#include "actors/core_guard.hpp"

#include <optional>
#include <set>

namespace actorrt {

namespace {

std::string mib(uint64_t bytes) {
  return std::to_string(bytes >> 20) + " MiB";
}

/// Why `book` cannot take model `id` of `bytes` too ("" when it can).
std::string over_models(const usage_book& book, uint64_t id, uint64_t bytes) {
  if (book.models.count(id))
    return ""; // held already, by another core
  if (int(book.models.size()) >= book.bounds.max_models)
    return "this node holds " + std::to_string(book.models.size())
           + " models of " + book.whose + ", the most it may";
  uint64_t total = bytes;
  for (auto& [other, h] : book.models)
    total += h.bytes;
  if (total > book.bounds.max_model_bytes)
    return "this node holds at most " + mib(book.bounds.max_model_bytes)
           + " of models of " + book.whose + "; with this one it would hold "
           + mib(total);
  return "";
}

void hold(usage_book& book, uint64_t id, uint64_t bytes) {
  book.models[id].bytes = bytes;
  ++book.models[id].cores;
}

void release(usage_book& book, uint64_t id) {
  if (--book.models[id].cores == 0)
    book.models.erase(id);
}

/// Jobs a guard forwarded, counted as queued in both books while it lives.
struct queued_jobs {
  std::shared_ptr<usage_book> client, node;
  int n;

  queued_jobs(std::shared_ptr<usage_book> c, std::shared_ptr<usage_book> all,
              size_t jobs)
    : client(std::move(c)), node(std::move(all)), n(int(jobs)) {}
  ~queued_jobs() {
    std::scoped_lock guard{client->mtx, node->mtx};
    client->queued -= n;
    node->queued -= n;
  }
};

/// Jobs the device's picker counts on one core until it answers (or the
/// guard ends unanswered).
struct picked_jobs {
  std::shared_ptr<node_device> device;
  size_t core, n;
  bool counted;

  picked_jobs(std::shared_ptr<node_device> d, size_t on, size_t jobs, bool c)
    : device(std::move(d)), core(on), n(jobs), counted(c) {}
  picked_jobs(const picked_jobs&) = delete;
  void answered() {
    if (counted)
      device->picker.answered(core, n, now_ns());
    counted = false;
  }
  ~picked_jobs() {
    answered();
  }
};

/// The core the picker chooses for `batch`, which the client addressed to
/// core `core` of `device`, with the batch's jobs counted on it there.
std::pair<size_t, std::shared_ptr<picked_jobs>>
pick(const std::shared_ptr<node_device>& device, size_t core,
     job_batch& batch) {
  auto n = batch.jobs.size();
  auto sent = now_ns(); // on this host's clock
  auto runs = device->picker.take(batch.model, core, n, sent);
  // A model no running core holds (unloaded meanwhile) goes where it was
  // sent, which ends each job saying so.
  auto on = runs.value_or(core);
  batch.sent = sent;
  batch.core = device->numbers[on]; // the results name the core that ran them
  return {on, std::make_shared<picked_jobs>(device, on, n, runs.has_value())};
}

/// Runs `batch` on core `on` (see pick) and answers `answer` when it ran. A
/// core that fails a run request has ended (its device is lost); when it
/// was not the one addressed, the batch goes to the next core instead, so
/// the client never takes a core out that is still running.
void forward(npu_core_actor::pointer self, std::shared_ptr<node_device> device,
             size_t core, size_t on, std::shared_ptr<picked_jobs> picked,
             job_batch batch, caf::typed_response_promise<job_results> answer,
             std::shared_ptr<queued_jobs> held) {
  auto again = on != core ? std::make_shared<job_batch>(batch) : nullptr;
  self
    ->request(device->cores[on], caf::infinite, run_atom::value,
              std::move(batch))
    .then(
      [answer, held, picked](job_results& results) mutable {
        picked->answered();
        answer.deliver(std::move(results));
      },
      [=](caf::error& e) mutable {
        picked->answered();
        if (!again || !device->picker.alive(core)) {
          answer.deliver(std::move(e));
          return;
        }
        device->picker.stopped(on); // before its down message comes
        auto [next, counted] = pick(device, core, *again);
        forward(self, device, core, next, counted, std::move(*again), answer,
                held);
      });
}

} // namespace

npu_core_actor::behavior_type core_guard(npu_core_actor::pointer self,
                                         std::shared_ptr<node_device> device,
                                         size_t core,
                                         std::shared_ptr<usage_book> client,
                                         std::shared_ptr<usage_book> node) {
  auto& own = device->cores[core];
  // The models this guard loaded on its core, unloaded when it ends.
  auto loaded = std::make_shared<std::set<uint64_t>>();
  auto unload = [client, node, loaded, device, core](uint64_t id) {
    device->picker.unloaded(core, id);
    std::scoped_lock guard{client->mtx, node->mtx};
    if (loaded->erase(id)) {
      release(*client, id);
      release(*node, id);
    }
  };
  self->attach_functor([own, loaded, unload] {
    for (auto id : std::set<uint64_t>(*loaded)) {
      caf::anon_send(own, unload_atom::value, id);
      unload(id);
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
  return {
    [=](load_atom, model_handle& m) -> caf::result<failure, std::string> {
      watch();
      if (m.ptr && !loaded->count(m.id)) {
        uint64_t bytes = m.ptr->bytes().size();
        std::scoped_lock guard{client->mtx, node->mtx};
        for (auto* book : {client.get(), node.get()})
          if (auto why = over_models(*book, m.id, bytes); !why.empty())
            return {failure{errc::invalid_argument, why}, std::string{}};
        hold(*client, m.id, bytes);
        hold(*node, m.id, bytes);
        loaded->insert(m.id);
      }
      auto answer = self->make_response_promise<failure, std::string>();
      auto id = m.id;
      self->request(own, caf::infinite, load_atom::value, std::move(m))
        .then(
          [=](failure& f, std::string& name) mutable {
            if (f)
              unload(id);
            else
              device->picker.loaded(core, id);
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
      self->send(own, unload_atom::value, id);
    },
    [=](run_atom, job_batch& batch) -> caf::result<job_results> {
      watch();
      // As a core's own error would: the client's scheduler takes the core
      // out and runs the batch elsewhere (another core of this device that
      // it knows is running, say), rather than this node hiding the loss.
      if (!device->picker.alive(core))
        return caf::make_error(caf::sec::runtime_error,
                               "NPU core "
                                 + std::to_string(device->numbers[core])
                                 + " of this node stopped");
      job_results refused;
      std::vector<job> allowed;
      {
        std::scoped_lock guard{client->mtx, node->mtx};
        // The client's scheduler takes this core out and runs the batch
        // on another (a remote core's error means it is gone).
        if (node->draining)
          return caf::make_error(caf::sec::runtime_error,
                                 "the node drains: it takes no new jobs");
        for (auto& j : batch.jobs) {
          std::string why;
          auto code = errc::invalid_argument;
          auto max_input = client->bounds.max_input_bytes;
          auto input = total_bytes(j.inputs);
          if (input > max_input) {
            why = "a job's inputs of " + std::to_string(input)
                  + " bytes are over this node's bound of "
                  + std::to_string(max_input);
          } else {
            for (auto* book : {client.get(), node.get()})
              if (why.empty() && book->queued >= book->bounds.max_queued_jobs)
                why = "this node holds " + std::to_string(book->queued)
                      + " queued jobs of " + book->whose + ", the most it may";
            code = errc::device_io;
          }
          if (why.empty()) {
            ++client->queued;
            ++node->queued;
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
        return job_results{};
      // Counted as queued until the core answers (or, when the batch goes
      // to it directly, drops it), or until this guard ends unanswered (its
      // client left).
      auto held = std::make_shared<queued_jobs>(client, node, allowed.size());
      batch.jobs = std::move(allowed);
      auto [on, picked] = pick(device, core, batch);
      if (on == core && refused.empty()) {
        // The addressed core answers the client itself (this guard's thread
        // is not woken for it); the counts end as the core drops the batch.
        // Its error then means the addressed core ended: the client takes
        // it out, rightly.
        batch.held = std::make_shared<std::pair<std::shared_ptr<queued_jobs>,
                                                std::shared_ptr<picked_jobs>>>(
          held, picked);
        return self->delegate(own, run_atom::value, std::move(batch));
      }
      auto answer = self->make_response_promise<job_results>();
      forward(self, device, core, on, picked, std::move(batch), answer, held);
      return answer;
    },
    [=](reset_atom) {
      watch();
      return self->delegate(own, reset_atom::value);
    },
    [=](tick_atom) { self->send(own, tick_atom::value); },
  };
}

} // namespace actorrt
