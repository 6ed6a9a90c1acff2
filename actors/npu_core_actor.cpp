#include "actors/npu_core_actor.hpp"

#include <pthread.h>

#include "actors/spin.hpp"
#include "core/clock.hpp"
#include "core/warnings.hpp"
#include "device/batching.hpp"
#include "device/cpu_slots.hpp"

namespace actorrt {

namespace {

using self_ptr = npu_core_actor::stateful_pointer<npu_core_state>;

std::string core_name(const npu_core_state& st) {
  return std::to_string(st.device) + ":" + std::to_string(st.core);
}

/// Batches of one model run together (see serve): their jobs in priority
/// order, in calls of up to the lane's batch size. Results go to their
/// engines as calls end (gathered for at most flush_after, so a tiny
/// model does not cost a message per job), and each batch's answer goes
/// to the scheduler once all its jobs ended.
class group_run {
public:
  group_run(self_ptr self, std::vector<npu_core_state::waiting> group)
    : self_(self), group_(std::move(group)) {
    for (size_t b = 0; b < group_.size(); ++b) {
      auto& batch = group_[b].batch;
      results_.emplace_back(batch.jobs.size());
      left_.push_back(batch.jobs.size());
      unsent_.emplace_back();
      for (size_t i = 0; i < batch.jobs.size(); ++i) {
        auto& r = results_[b][i];
        r.id = batch.jobs[i].id;
        r.device = batch.device; // as the sending scheduler names us
        r.core = batch.core;
        order_.push_back({b, i});
      }
    }
    // Higher levels first, arrival order among equals.
    std::stable_sort(order_.begin(), order_.end(), [this](auto a, auto b) {
      return job_at(a).priority > job_at(b).priority;
    });
  }

  /// Runs every job; throws lane_lost when the device is gone.
  void run() {
    auto& st = self_->state;
    auto lane = st.lanes.find(group_.front().batch.model);
    if (lane == st.lanes.end()) {
      for (auto at : order_)
        end_unrun(at, {errc::invalid_operation,
                       "model " + std::to_string(group_.front().batch.model)
                         + " is not loaded on NPU core " + core_name(st)});
      flush();
      return;
    }
    auto& l = lane->second;
    last_flush_ = now_ns();
    for (size_t next = 0; next < order_.size();) {
      // The next jobs for the lane: merged, as many samples as it batches
      // (when merging pays here); else about flush_after's worth, each its
      // own executor call, run in one go (one host slot for all of them).
      bool merge = l.max_batch > 1 && l.gain.merge();
      auto per_job = l.gain.job_ns();
      size_t most
        = per_job > 0 ? size_t(std::max(1.0, flush_after_ns / per_job)) : 1;
      std::vector<where> call;
      int64_t samples = 0;
      for (; next < order_.size(); ++next) {
        auto n = job_at(order_[next]).batch;
        if (!call.empty()
            && (merge ? samples + n > l.max_batch : call.size() >= most))
          break;
        call.push_back(order_[next]);
        samples += n;
      }
      run_call(l, call, merge);
      if (now_ns() - last_flush_ >= flush_after_ns)
        flush();
    }
    flush();
  }

  /// Answers the batches not yet answered with `why` (the core ends).
  void fail(const caf::error& why) {
    for (size_t b = 0; b < group_.size(); ++b)
      if (left_[b] > 0)
        group_[b].answer.deliver(why);
  }

private:
  struct where {
    size_t batch, index;
  };
  static constexpr int64_t flush_after_ns = 200000;

  job& job_at(where at) {
    return group_[at.batch].batch.jobs[at.index];
  }

  void run_call(npu_core_state::loaded& l, const std::vector<where>& call,
                bool merge) {
    auto dispatched = now_ns();
    std::vector<job> work;
    work.reserve(call.size());
    for (size_t k = 0; k < call.size(); ++k) {
      auto& j = work.emplace_back(std::move(job_at(call[k])));
      // The lane's descriptions: its model may be the engine's re-declared
      // with a batch axis, and a job from the network has none.
      describe(j.inputs, l.runs->input_metas(), j.batch);
      describe(j.outputs, l.runs->output_metas(), j.batch);
      j.queued = group_[call[k].batch].batch.sent;
    }
    if (merge)
      run_merged(*l.lane, work, l.max_batch, l.merged_inputs);
    else
      l.lane->run_batch(work);
    auto& counters = *self_->state.counters;
    for (size_t k = 0; k < call.size(); ++k) {
      auto& done = work[k];
      auto& r = result_at(call[k]);
      if (done.unrun()) {
        end_unrun(call[k], {done.error.code, "job " + std::to_string(r.id) + " "
                                               + done.error.message});
        continue;
      }
      r.started = done.started ? done.started : dispatched;
      // A device with a queue may have started it before this thread got
      // to it (a simulated core does).
      r.dispatched = std::min(dispatched, r.started);
      r.finished = done.finished ? done.finished : now_ns();
      r.run_jobs = done.run_jobs;
      r.first_in_run = done.first_in_run;
      r.error = std::move(done.error);
      if (r.first_in_run) {
        counters.runs.fetch_add(1, std::memory_order_relaxed);
        if (!r.error)
          l.gain.record(r.run_jobs, r.finished - r.started);
      }
      if (r.error) {
        counters.failed.fetch_add(1, std::memory_order_relaxed);
      } else {
        counters.done.fetch_add(1, std::memory_order_relaxed);
        counters.compute.record(r.compute_us());
        bool decided = false;
        for (auto& out : done.outputs)
          decided = decided || out.info().dynamic_shape;
        if (decided)
          for (auto& out : done.outputs)
            r.shapes.push_back(out.info().shape);
        r.outputs = std::move(done.outputs);
      }
      ended(call[k]);
    }
  }

  job_result& result_at(where at) {
    return results_[at.batch][at.index];
  }

  /// A job no core ran (no lane, deadline passed, cancelled).
  void end_unrun(where at, failure why) {
    auto& r = result_at(at);
    r.error = std::move(why);
    r.device = r.core = -1;
    r.first_in_run = false;
    ended(at);
  }

  void ended(where at) {
    unsent_[at.batch].push_back(at.index);
    --left_[at.batch];
  }

  /// Sends the results gathered so far; answers the batches that ended.
  void flush() {
    for (size_t b = 0; b < group_.size(); ++b) {
      if (unsent_[b].empty())
        continue;
      job_results out;
      out.reserve(unsent_[b].size());
      for (auto i : unsent_[b])
        out.push_back(std::move(results_[b][i]));
      unsent_[b].clear();
      auto& batch = group_[b].batch;
      if (left_[b] == 0 && batch.engine.node() != self_->node()) {
        // The engine and the scheduler that asked share a host: one
        // message back over the link carries both.
        group_[b].answer.deliver(std::move(out));
        continue;
      }
      self_->send(batch.engine, done_atom::value, std::move(out));
      if (left_[b] == 0)
        group_[b].answer.deliver(job_results{});
    }
    last_flush_ = now_ns();
  }

  self_ptr self_;
  std::vector<npu_core_state::waiting> group_;
  std::vector<job_results> results_;
  std::vector<size_t> left_;                // per batch: jobs not ended
  std::vector<std::vector<size_t>> unsent_; // per batch: ended, not sent
  std::vector<where> order_;
  int64_t last_flush_ = 0;
};

/// The model whose turn it is: that of the waiting job of the highest
/// priority, the earliest among equals.
uint64_t next_model(const npu_core_state& st) {
  uint64_t model = st.pending.front().batch.model;
  int best = -1;
  for (auto& w : st.pending)
    for (auto& j : w.batch.jobs)
      if (j.priority > best) {
        best = j.priority;
        model = w.batch.model;
      }
  return model;
}

/// Whether the jobs of `model` may wait for more (the lane's batch delay,
/// counted from the earliest); arms the timer that ends the wait.
bool hold_for_batch(self_ptr self, uint64_t model) {
  auto& st = self->state;
  auto lane = st.lanes.find(model);
  if (lane == st.lanes.end() || lane->second.max_batch <= 1
      || lane->second.delay.count() == 0)
    return false;
  size_t waiting = 0;
  int64_t first = 0;
  for (auto& w : st.pending)
    if (w.batch.model == model) {
      waiting += w.batch.jobs.size();
      first = first ? first : w.arrived;
    }
  if (waiting >= size_t(lane->second.max_batch))
    return false;
  auto waited = std::chrono::nanoseconds{now_ns() - first};
  if (waited >= lane->second.delay)
    return false;
  if (!st.timer) {
    st.timer = true;
    self->delayed_send(self, lane->second.delay - waited, tick_atom::value);
  }
  return true;
}

/// Runs what waits, unless more messages are queued (their jobs may join
/// these) or the batch delay holds it: the batches of the model whose job
/// has the highest priority, together (group_run).
void serve(self_ptr self) {
  auto& st = self->state;
  while (!st.pending.empty()) {
    if (!self->mailbox().empty())
      return;
    auto model = next_model(st);
    if (hold_for_batch(self, model))
      return;
    std::vector<npu_core_state::waiting> group;
    for (auto i = st.pending.begin(); i != st.pending.end();)
      if (i->batch.model == model) {
        group.push_back(std::move(*i));
        i = st.pending.erase(i);
      } else {
        ++i;
      }
    group_run run{self, std::move(group)};
    try {
      run.run();
    } catch (const lane_lost& e) {
      // The device is gone: this core ends, and the scheduler fails the
      // batches it held (this error) and routes around the core (its exit).
      auto why = caf::make_error(caf::sec::runtime_error,
                                 "NPU core " + core_name(st) + ": " + e.what());
      run.fail(why);
      for (auto& w : st.pending)
        w.answer.deliver(why);
      st.pending.clear();
      self->quit(why);
      return;
    }
  }
  linger(self);
}

/// A lane for `m` as the engine asked: batched when the model batches (as
/// declared, or re-declared and checked here), else one job per call.
npu_core_state::loaded make_lane(npu_core_state& st, model_handle& m) {
  npu_core_state::loaded l;
  l.model = l.runs = m.ptr;
  l.backend = m.backend;
  l.delay = std::chrono::microseconds{m.batch_delay_us};
  lane_request request{st.core, m.backend};
  if (m.max_batch > 1) {
    if (m.ptr->batchable()) {
      l.max_batch = m.max_batch;
    } else if (auto variant = m.ptr->batch_variant()) {
      // A simulated core computes nothing that a check could compare.
      auto lane = make_executor(st.spec, *variant, request);
      auto why
        = lane->is_simulated() ? failure{} : check_batching(*lane, *variant);
      if (!why) {
        l.runs = variant;
        l.lane = std::move(lane);
        l.max_batch = m.max_batch;
      } else {
        warn_once("model '" + m.ptr->name()
                  + "' runs unbatched: its re-declared batch axis failed "
                    "the check at load ("
                  + why.message + ")");
      }
    }
  }
  if (!l.lane)
    l.lane = make_executor(st.spec, *m.ptr, request);
  return l;
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
  // Runs on the core's own thread (a detached actor's): named for `top -H`,
  // and a lane that computes runs wherever the process may.
  auto name = "lane " + std::to_string(device) + ":" + std::to_string(core);
  ::pthread_setname_np(::pthread_self(), name.substr(0, 15).c_str());
  if (!is_simulated_kind(self->state.spec.kind))
    self->state.placement.enter();
  return {
    [=](load_atom, model_handle& m) -> caf::result<failure, std::string> {
      auto& st = self->state;
      if (m.refused)
        return {m.refused, std::string{}};
      if (!m.ptr) // came by digest, and this node does not hold it
        return {failure{errc::invalid_operation, "model not on this node"},
                send_model_bytes};
      try {
        auto lane = make_lane(st, m);
        auto name = lane.lane->name();
        st.lanes[m.id] = std::move(lane);
        serve(self);
        return {failure{}, std::move(name)};
      } catch (...) {
        serve(self);
        return {failure::from_current_exception(), std::string{}};
      }
    },
    [=](unload_atom, uint64_t model) {
      self->state.lanes.erase(model);
      serve(self);
    },
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
          l.lane = make_executor(st.spec, *l.runs, {st.core, l.backend});
          ++rebuilt;
          ++it;
        } catch (...) {
          it = st.lanes.erase(it);
        }
      }
      serve(self);
      return rebuilt;
    },
    [=](run_atom, job_batch& batch) -> caf::result<job_results> {
      auto answer = self->make_response_promise<job_results>();
      self->state.placement.next(batch.alone);
      self->state.pending.push_back({std::move(batch), answer, now_ns()});
      serve(self);
      return answer;
    },
    [=](tick_atom) {
      self->state.timer = false;
      serve(self);
    },
  };
}

} // namespace actorrt
