// The scheduler's protocol on CAF's deterministic test coordinator: fake
// cores and a fake engine, every message delivered when the test says.
#include <catch2/catch.hpp>

#include "actors/runtime.hpp"
#include "actors/scheduler_actor.hpp"
#include "deterministic_system.hpp"
#include "models.hpp"

using namespace actorrt;
using actorrt::test::model_path;

namespace {

/// A job without inputs (the scheduler never reads them).
job make_job(job_id id, int device, int priority) {
  job j;
  j.id = id;
  j.device = device;
  j.priority = priority;
  return j;
}

/// What a fake core did, and the answers it holds back.
struct fake_core_log {
  std::vector<std::string> events; // "load 1", "run 1 x2", "unload 1"
  failure load_result;
  bool hold_loads = false;
  bool hold_runs = false;
  /// Results come with the answer, as from a core on another host.
  bool results_in_answer = false;
  std::vector<caf::typed_response_promise<failure, std::string>> held_loads;
  std::vector<std::pair<caf::typed_response_promise<job_results>, job_batch>>
    held_runs;

  int runs() const {
    int n = 0;
    for (auto& e : events)
      n += e.rfind("run", 0) == 0;
    return n;
  }
};

job_results succeeded(const job_batch& batch) {
  job_results rs(batch.jobs.size());
  for (size_t i = 0; i < rs.size(); ++i)
    rs[i].id = batch.jobs[i].id;
  return rs;
}

/// Ends `batch` as a core does: results to its engine, then the answer.
void run_ended(caf::event_based_actor* self, const fake_core_log& log,
               caf::typed_response_promise<job_results>& answer,
               const job_batch& batch) {
  if (log.results_in_answer) {
    answer.deliver(succeeded(batch));
    return;
  }
  self->send(batch.engine, done_atom::value, succeeded(batch));
  answer.deliver(job_results{});
}

/// An npu_core_actor, dynamically typed so the test can also tell it to
/// answer what it holds: (tick_atom, failure) for loads, (tick_atom) for
/// runs.
caf::behavior fake_core(caf::event_based_actor* self,
                        std::shared_ptr<fake_core_log> log) {
  return {
    [=](tick_atom, failure& f) {
      for (auto& p : log->held_loads)
        p.deliver(f, std::string{"fake"});
      log->held_loads.clear();
    },
    [=](tick_atom) {
      for (auto& [p, batch] : log->held_runs)
        run_ended(self, *log, p, batch);
      log->held_runs.clear();
    },
    [=](load_atom,
        model_handle& m) -> caf::typed_response_promise<failure, std::string> {
      log->events.push_back("load " + std::to_string(m.id));
      auto promise = self->make_response_promise<failure, std::string>();
      if (log->hold_loads)
        log->held_loads.push_back(promise);
      else
        promise.deliver(log->load_result, std::string{"fake"});
      return promise;
    },
    [=](unload_atom, uint64_t model) {
      log->events.push_back("unload " + std::to_string(model));
    },
    [=](run_atom,
        job_batch& batch) -> caf::typed_response_promise<job_results> {
      log->events.push_back("run " + std::to_string(batch.model) + " x"
                            + std::to_string(batch.jobs.size()));
      auto promise = self->make_response_promise<job_results>();
      if (log->hold_runs) {
        log->held_runs.emplace_back(promise, std::move(batch));
      } else {
        run_ended(self, *log, promise, batch);
      }
      return promise;
    },
  };
}

/// Every result an engine got, by job id.
struct fake_engine_log {
  std::map<job_id, std::vector<failure>> results;
};

engine_actor::behavior_type fake_engine(engine_actor::pointer,
                                        std::shared_ptr<fake_engine_log> log) {
  return {
    [=](submit_atom) {},
    [=](done_atom, job_results& rs) {
      for (auto& r : rs)
        log->results[r.id].push_back(r.error);
    },
    [=](infer_atom, std::vector<blob>&) { return tensors{}; },
    [=](cancel_atom, std::string&) { return uint64_t{0}; },
    [=](report_atom) { return engine_report{}; },
  };
}

struct fixture : actorrt::test::deterministic_system {
  scheduler_settings settings;
  scheduler_actor scheduler;
  std::shared_ptr<fake_engine_log> results
    = std::make_shared<fake_engine_log>();
  engine_actor engine = sys.spawn(fake_engine, results);
  model_ptr m = model::load(model_path("tiny_cnn"));
  caf::scoped_actor self{sys};
  job_id last_id = 0;

  explicit fixture(int depth = 2) {
    settings.core_depth = depth;
    settings.core_timeout = std::chrono::seconds(5);
    settings.tick = std::chrono::seconds(1);
    scheduler = sys.spawn(actorrt::scheduler, settings);
    sched.run();
  }

  std::vector<npu_core_actor> cores;

  ~fixture() {
    for (auto& core : cores)
      self->send_exit(core, caf::exit_reason::user_shutdown);
    self->send_exit(scheduler, caf::exit_reason::user_shutdown);
    self->send_exit(engine, caf::exit_reason::user_shutdown);
    sched.run();
  }

  std::shared_ptr<fake_core_log> join(int device, int core,
                                      std::shared_ptr<fake_core_log> log
                                      = std::make_shared<fake_core_log>(),
                                      std::string host = "") {
    auto actor = caf::actor_cast<npu_core_actor>(sys.spawn(fake_core, log));
    cores.push_back(actor);
    core_report r;
    r.device = device;
    r.core = core;
    r.host = host.empty() ? host_name(sys) : host;
    r.device_key = r.host + "/" + std::to_string(device);
    self->send(scheduler, join_atom::value, actor, r);
    sched.run();
    return log;
  }

  /// Loads model `id` everywhere; returns the scheduler's answer.
  failure load(uint64_t id) {
    self->send(scheduler, load_atom::value, model_handle{id, m, ""},
               placement{});
    sched.run();
    failure answer{errc::timeout, "no answer"};
    self->receive([&](failure& f) { answer = std::move(f); },
                  caf::after(std::chrono::seconds(0)) >> [] {});
    return answer;
  }

  /// `jobs` jobs of `model`, holding `device`'s credit (-1: none).
  void submit(uint64_t model, int jobs, int device = -1,
              int priority = InferenceOption::normal_priority) {
    job_batch batch{model, engine, {}};
    for (int i = 0; i < jobs; ++i)
      batch.jobs.push_back(make_job(++last_id, device, priority));
    self->send(scheduler, submit_atom::value, std::move(batch));
    sched.run();
  }

  /// `jobs` jobs of `model` whose input holds `bytes`.
  void submit_sized(uint64_t model, int jobs, size_t bytes) {
    job_batch batch{model, engine, {}};
    for (int i = 0; i < jobs; ++i) {
      batch.jobs.push_back(
        make_job(++last_id, -1, InferenceOption::normal_priority));
      batch.jobs.back().inputs = undescribed({blob::allocate(bytes)});
    }
    self->send(scheduler, submit_atom::value, std::move(batch));
    sched.run();
  }

  /// One core, model 1 loaded, holding the runs it gets: jobs 1 and 2 fill
  /// it (depth 2).
  std::shared_ptr<fake_core_log> full_core_holding_runs() {
    auto log = join(0, 0);
    REQUIRE_FALSE(load(1));
    log->hold_runs = true;
    submit(1, 2);
    return log;
  }

  /// Has core `slot` answer the runs it holds.
  void answer(size_t slot) {
    self->send(caf::actor_cast<caf::actor>(cores[slot]), tick_atom::value);
    sched.run();
  }

  /// Has core `slot` answer the runs it holds; the ids of the next batch
  /// it then got.
  std::vector<job_id> answer_held_runs(size_t slot, fake_core_log& log) {
    answer(slot);
    REQUIRE_FALSE(log.held_runs.empty());
    std::vector<job_id> ids;
    for (auto& j : log.held_runs.back().second.jobs)
      ids.push_back(j.id);
    return ids;
  }

  int ended(errc code) const {
    int n = 0;
    for (auto& [id, rs] : results->results)
      n += static_cast<int>(rs.size() == 1 && rs[0].code == code);
    return n;
  }
};

} // namespace

TEST_CASE("a core that joins late gets the loads before any job",
          "[actors][scheduler]") {
  fixture f;
  auto a = f.join(0, 0);
  REQUIRE_FALSE(f.load(1));
  f.submit(1, 4);
  CHECK(a->runs() > 0);
  auto b = std::make_shared<fake_core_log>();
  b->hold_loads = true;
  f.join(0, 1, b);
  REQUIRE(b->events == std::vector<std::string>{"load 1"}); // replayed
  b->hold_loads = false;
  // While core 1 still loads, every job goes to core 0.
  f.submit(1, 4);
  CHECK(b->runs() == 0);
  REQUIRE(b->held_loads.size() == 1);
  f.self->send(caf::actor_cast<caf::actor>(f.cores[1]), tick_atom::value,
               failure{});
  f.sched.run();
  f.submit(1, 8);
  CHECK(b->runs() > 0);
  CHECK(b->events.front() == "load 1");
  CHECK(f.ended(errc::none) == 16);
  CHECK(f.results->results.size() == 16);
}

TEST_CASE("a load that fails on some cores fails, and unload clears it",
          "[actors][scheduler]") {
  fixture f;
  auto a = f.join(0, 0);
  auto b = f.join(0, 1);
  b->load_result = {errc::invalid_model, "core 1 cannot run it"};
  auto answer = f.load(1);
  CHECK(answer.code == errc::invalid_model);
  CHECK(answer.message == "core 1 cannot run it");
  // The engine gives up on the model; its stray jobs fail, typed.
  f.self->send(f.scheduler, unload_atom::value, uint64_t{1});
  f.sched.run();
  CHECK(a->events.back() == "unload 1");
  CHECK(b->events.back() == "unload 1");
  f.submit(1, 2);
  CHECK(a->runs() == 0);
  CHECK(f.ended(errc::invalid_operation) == 2);
}

TEST_CASE("a dead core's jobs fail: on it and queued for it",
          "[actors][scheduler]") {
  fixture f;
  auto a = f.join(0, 0);
  REQUIRE_FALSE(f.load(1));
  a->hold_runs = true;
  f.submit(1, 3); // depth 2: two on the core, one queued
  REQUIRE(a->held_runs.size() == 1);
  CHECK(a->held_runs[0].second.jobs.size() == 2);
  // The core dies holding two jobs: CAF answers the pending request with an
  // error, and the scheduler sees it go down.
  a->held_runs.clear();
  f.self->send_exit(f.cores[0], caf::exit_reason::kill);
  f.sched.run();
  CHECK(f.ended(errc::device_io) == 3);
  CHECK(f.results->results.size() == 3);
  // Nothing is left to run new jobs: they fail at once, not never, saying
  // which core was lost although they never reached it.
  f.submit(1, 1);
  CHECK(f.ended(errc::device_io) == 4);
  CHECK_THAT(f.results->results.at(4).at(0).message,
             Catch::Contains("NPU core 0:0 stopped"));
}

TEST_CASE("jobs holding a lost device's credit run on another device",
          "[actors][scheduler]") {
  fixture f;
  f.join(0, 0);
  auto other = f.join(1, 0);
  REQUIRE_FALSE(f.load(1));
  f.self->send_exit(f.cores[0], caf::exit_reason::kill); // device 0 is gone
  f.sched.run();
  f.submit(1, 3, 0);
  CHECK(f.ended(errc::none) == 3);
  CHECK(other->runs() >= 1);
}

TEST_CASE("a lost remote core's jobs run again elsewhere, once each",
          "[actors][scheduler]") {
  fixture f;
  auto local = f.join(0, 0);
  auto remote = f.join(1, 0, std::make_shared<fake_core_log>(), "node:7");
  REQUIRE_FALSE(f.load(1));
  remote->hold_runs = true;
  local->hold_runs = true;
  f.submit(1, 4); // two on each
  REQUIRE(remote->held_runs.size() == 1);
  remote->held_runs.clear();
  f.self->send_exit(f.cores[1], caf::exit_reason::kill); // the node is lost
  f.sched.run();
  CHECK(f.ended(errc::device_io) == 0);
  local->hold_runs = false;
  f.answer(0);
  CHECK(f.ended(errc::none) == 4);
  CHECK(f.results->results.size() == 4);
  // With no core left for them, such jobs fail, naming the node.
  f.self->send_exit(f.cores[0], caf::exit_reason::kill);
  f.sched.run();
  f.submit(1, 1);
  CHECK(f.ended(errc::device_io) == 1);
}

TEST_CASE("results a remote core sends with its answer reach their engine "
          "once",
          "[actors][scheduler]") {
  fixture f;
  auto remote = f.join(0, 0, std::make_shared<fake_core_log>(), "node:7");
  remote->results_in_answer = true;
  REQUIRE_FALSE(f.load(1));
  remote->hold_runs = true;
  f.submit(1, 5); // two run, three wait for the answers
  CHECK(f.results->results.empty());
  for (int answers = 0; answers < 3 && !remote->held_runs.empty(); ++answers)
    f.answer(0);
  CHECK(f.ended(errc::none) == 5);
  CHECK(f.results->results.size() == 5);
}

TEST_CASE("a worker node's core gets inputs a MiB a message, 16 MiB at once",
          "[actors][scheduler]") {
  constexpr size_t mib = size_t{1} << 20;
  fixture f{32};
  auto remote = f.join(0, 0, std::make_shared<fake_core_log>(), "node:7");
  REQUIRE_FALSE(f.load(1));
  remote->hold_runs = true;
  auto sizes = [&] {
    std::vector<size_t> jobs;
    for (auto& [promise, batch] : remote->held_runs)
      jobs.push_back(batch.jobs.size());
    return jobs;
  };
  // Large inputs: one job a message, five (15 MiB) at once; the rest wait
  // for room.
  f.submit_sized(1, 8, 3 * mib);
  CHECK(sizes() == std::vector<size_t>(5, 1));
  f.answer(0);
  CHECK(sizes() == std::vector<size_t>(3, 1));
  f.answer(0);
  CHECK(f.ended(errc::none) == 8);
  // Small ones: as many as a MiB holds a message, up to the core's depth.
  f.submit_sized(1, 40, 100 * 1024);
  CHECK(sizes() == std::vector<size_t>{10, 10, 10, 2});
  f.answer(0);
  f.answer(0);
  CHECK(f.ended(errc::none) == 48);
}

TEST_CASE("a local core gets large inputs in one message, up to its depth",
          "[actors][scheduler]") {
  fixture f{32};
  auto local = f.join(0, 0);
  REQUIRE_FALSE(f.load(1));
  local->hold_runs = true;
  f.submit_sized(1, 8, size_t{3} << 20);
  REQUIRE(local->held_runs.size() == 1);
  CHECK(local->held_runs[0].second.jobs.size() == 8);
}

TEST_CASE("a core that does not answer in time: its jobs time out, it takes "
          "nothing new until it answers",
          "[actors][scheduler]") {
  fixture f;
  auto a = f.join(0, 0);
  auto b = f.join(0, 1);
  REQUIRE_FALSE(f.load(1));
  a->hold_runs = true;
  b->hold_runs = true;
  f.submit(1, 2); // one each
  REQUIRE(a->held_runs.size() == 1);
  REQUIRE(b->held_runs.size() == 1);
  // Core 1 answers; core 0 stalls past the timeout.
  b->hold_runs = false;
  f.answer(1);
  CHECK(f.ended(errc::timeout) == 0);
  f.sched.advance_time(std::chrono::seconds(6));
  f.sched.run();
  CHECK(f.ended(errc::timeout) == 1);
  CHECK(f.ended(errc::none) == 1);
  // New jobs go to core 1 only while core 0 is stalled.
  f.submit(1, 4);
  CHECK(a->runs() == 1);
  CHECK(f.ended(errc::none) == 5);
  // Its late answer frees it again (the engine's table drops the late
  // result: the job ended already).
  a->hold_runs = false;
  f.answer(0);
  f.submit(1, 4);
  CHECK(a->runs() > 1);
  CHECK(f.ended(errc::none) == 9);
  CHECK(f.ended(errc::timeout) == 0); // job 1 now has two results here
  CHECK(f.results->results[1].size() == 2);
}

TEST_CASE("a core that never answers a load fails it in bounded time",
          "[actors][scheduler]") {
  fixture f;
  auto a = std::make_shared<fake_core_log>();
  a->hold_loads = true;
  f.join(0, 0, a);
  f.self->send(f.scheduler, load_atom::value, model_handle{1, f.m, ""},
               placement{});
  f.sched.run();
  REQUIRE(a->held_loads.size() == 1);
  bool answered = false;
  f.self->receive([&](failure&) { answered = true; },
                  caf::after(std::chrono::seconds(0)) >> [] {});
  CHECK_FALSE(answered);
  f.sched.advance_time(std::chrono::seconds(6));
  f.sched.run();
  failure answer;
  f.self->receive([&](failure& x) { answer = std::move(x); },
                  caf::after(std::chrono::seconds(0)) >> [] {});
  CHECK(answer.code == errc::timeout);
  CHECK_THAT(answer.message, Catch::Contains("NPU core 0:0"));
}

TEST_CASE("queued jobs go by priority, and a waiting job rises with age",
          "[actors][scheduler]") {
  fixture f;
  auto a = f.full_core_holding_runs();
  f.submit(1, 2, -1, 0); // 3, 4: low
  f.submit(1, 2, -1, 2); // 5, 6: high
  auto next_batch = [&] { return f.answer_held_runs(0, *a); };
  CHECK(next_batch() == std::vector<job_id>{5, 6});
  // The low ones waited two aging periods: level 0 + 2, as high as new
  // high-priority jobs, and earlier.
  f.sched.advance_time(
    std::chrono::milliseconds(2 * InferenceOption::aging_ms));
  f.submit(1, 2, -1, 2); // 7, 8
  CHECK(next_batch() == std::vector<job_id>{3, 4});
  CHECK(next_batch() == std::vector<job_id>{7, 8});
}

TEST_CASE("a batch of mixed priorities waits as one entry per level",
          "[actors][scheduler]") {
  fixture f;
  auto a = f.full_core_holding_runs();
  job_batch mixed{1, f.engine, {}};
  for (int priority : {0, 2, 0, 2})
    mixed.jobs.push_back(make_job(++f.last_id, -1, priority));
  f.self->send(f.scheduler, submit_atom::value, std::move(mixed));
  f.sched.run();
  auto next_batch = [&] { return f.answer_held_runs(0, *a); };
  CHECK(next_batch() == std::vector<job_id>{4, 6});
  CHECK(next_batch() == std::vector<job_id>{3, 5});
}
