// The engine actor on CAF's deterministic test coordinator: jobs opened as
// a submission opens them, results delivered when the test says, and what
// the actor did with them checked after each step. No threads, no sleeps.
#include <catch2/catch.hpp>

#include "actors/engine_actor.hpp"
#include "actors/runtime.hpp"
#include "actors/scheduler_actor.hpp"
#include "deterministic_system.hpp"
#include "models.hpp"

using namespace actorrt;
using actorrt::test::model_path;

namespace {

/// Stands in for the scheduler: keeps the batches an engine sends it.
caf::behavior fake_scheduler(caf::event_based_actor*,
                             std::shared_ptr<std::vector<job_batch>> got) {
  return {[=](submit_atom, job_batch& batch) { got->push_back(batch); }};
}

struct fixture : actorrt::test::deterministic_system {
  model_ptr m = model::load(model_path("tiny_cnn"));
  std::shared_ptr<engine_books> books
    = std::make_shared<engine_books>(result_retention{16});
  engine_actor engine;
  caf::scoped_actor self{sys};
  /// What the engine sent the scheduler.
  std::shared_ptr<std::vector<job_batch>> sent
    = std::make_shared<std::vector<job_batch>>();
  /// What the callback saw: (job id via its user argument, error code).
  std::vector<std::pair<uintptr_t, errc>> calls;
  int scopes = 0;

  fixture() {
    books->model = m;
    books->model_id = 1;
    books->devices = {0};
    books->credit = std::make_shared<admission>();
    books->scheduler
      = caf::actor_cast<scheduler_actor>(sys.spawn(fake_scheduler, sent));
    engine = sys.spawn(actorrt::engine, books);
    books->intake = std::make_shared<job_intake>(engine);
    books->intake->set_callback(
      {[this](const tensors& outputs, void* arg, const failure& error) {
         if (!error)
           REQUIRE(outputs.size() == 1);
         calls.emplace_back(reinterpret_cast<uintptr_t>(arg), error.code);
       },
       [this](const std::function<void()>& run) {
         ++scopes;
         run();
       }});
    sched.run();
  }

  ~fixture() {
    self->send_exit(engine, caf::exit_reason::user_shutdown);
    self->send_exit(books->scheduler, caf::exit_reason::user_shutdown);
    sched.run();
  }

  job_id opened = 0;

  /// Submits a job as RunAsync does (a credit of device 0, then the
  /// intake), without delivering anything yet. Its user argument is its
  /// id (ids count from 1).
  job_id submit_with_arg() {
    job_ticket t;
    t.ptr = reinterpret_cast<void*>(uintptr_t(++opened));
    auto id = books->submit({blob::allocate(m->inputs()[0].byte_size())}, {},
                            std::move(t));
    REQUIRE(id == opened);
    return id;
  }

  /// Submits a job, and lets the engine hand it to the scheduler.
  job_id open_with_arg() {
    auto id = submit_with_arg();
    sched.run();
    return id;
  }

  job_result ok(job_id id) {
    job_result r;
    r.id = id;
    r.outputs = undescribed({blob::allocate(m->outputs()[0].byte_size())});
    r.device = 0;
    r.core = 0;
    return r;
  }

  job_result failed(job_id id, errc code) {
    job_result r;
    r.id = id;
    r.error = {code, "injected"};
    r.device = 0;
    r.core = 1;
    return r;
  }

  /// How job `id` ended, for Wait (it must have).
  errc ended_with(job_id id) {
    return books->table.wait(id, std::chrono::milliseconds(0)).error.code;
  }

  engine_report report() {
    self->send(engine, report_atom::value);
    sched.run();
    engine_report r;
    self->receive([&](engine_report& got) { r = std::move(got); });
    return r;
  }

  void deliver(job_results rs) {
    self->send(engine, done_atom::value, std::move(rs));
    sched.run();
  }
};

} // namespace

TEST_CASE("the engine actor ends each job once: callback, then Wait, credit",
          "[actors][engine]") {
  fixture f;
  auto a = f.open_with_arg(), b = f.open_with_arg(), c = f.open_with_arg();
  CHECK(f.books->credit->load(0) == 3);
  f.deliver({f.ok(a), f.failed(b, errc::device_io)});
  REQUIRE(f.calls.size() == 2);
  CHECK(f.calls[0] == std::make_pair(uintptr_t(a), errc::none));
  CHECK(f.calls[1] == std::make_pair(uintptr_t(b), errc::device_io));
  CHECK(f.books->credit->load(0) == 1); // c still holds its credit
  // A duplicate and an unknown id end nothing more.
  f.deliver({f.ok(a), f.ok(999)});
  CHECK(f.calls.size() == 2);
  auto out = f.books->table.wait(a, std::chrono::milliseconds(0));
  CHECK_FALSE(out.error);
  REQUIRE(out.outputs.size() == 1);
  CHECK(out.outputs[0].info().name == f.m->outputs()[0].name);
  CHECK(f.ended_with(b) == errc::device_io);
  CHECK_THROWS_AS(f.books->table.wait(c, std::chrono::milliseconds(0)),
                  Timeout);
  CHECK(f.books->counters.done.load() == 1);
  CHECK(f.books->counters.failed.load() == 1);
  auto report = f.report();
  CHECK(report.latency.count == 2);
  CHECK(report.npu_time.count == 1); // failed jobs ran nothing
  CHECK(report.latency_recent.size() == 2);
}

TEST_CASE("results that arrive together end in one callback scope",
          "[actors][engine]") {
  fixture f;
  auto a = f.open_with_arg(), b = f.open_with_arg(), c = f.open_with_arg();
  // Three messages in the mailbox before the actor runs: one batch.
  f.self->send(f.engine, done_atom::value, job_results{f.ok(a)});
  f.self->send(f.engine, done_atom::value, job_results{f.ok(b)});
  f.self->send(f.engine, done_atom::value, job_results{f.ok(c)});
  f.sched.run();
  CHECK(f.calls.size() == 3);
  CHECK(f.scopes == 1);
  CHECK(f.books->credit->load(0) == 0);
  // The latest outputs are the batch's last job's.
  CHECK(f.report().latest.size() == 1);
}

TEST_CASE("cancel ends what is open; a late result then ends nothing",
          "[actors][engine]") {
  fixture f;
  auto a = f.open_with_arg(), b = f.open_with_arg();
  f.deliver({f.ok(a)});
  f.self->send(f.engine, cancel_atom::value, std::string("test over"));
  f.sched.run();
  uint64_t cancelled = 99;
  f.self->receive([&](uint64_t n) { cancelled = n; });
  CHECK(cancelled == 1);
  REQUIRE(f.calls.size() == 2);
  CHECK(f.calls[1] == std::make_pair(uintptr_t(b), errc::cancelled));
  f.deliver({f.ok(b)});
  CHECK(f.calls.size() == 2);
  CHECK(f.ended_with(b) == errc::cancelled);
  CHECK(f.books->credit->load(0) == 0);
}

TEST_CASE("a callback that throws is reported; the other jobs still end",
          "[actors][engine]") {
  fixture f;
  std::vector<job_id> reported;
  f.books->intake->set_error_handler([&](job_id id, const std::string& what) {
    CHECK(what == "boom");
    reported.push_back(id);
  });
  f.books->intake->set_callback(
    {[&](const tensors&, void* arg, const failure&) {
       f.calls.emplace_back(reinterpret_cast<uintptr_t>(arg), errc::none);
       if (reinterpret_cast<uintptr_t>(arg) == 1)
         throw std::runtime_error("boom");
     },
     nullptr});
  auto a = f.open_with_arg(), b = f.open_with_arg();
  f.deliver({f.ok(a), f.ok(b)});
  CHECK(f.calls.size() == 2);
  CHECK(reported == std::vector<job_id>{a});
  CHECK_FALSE(f.books->table.wait(a, std::chrono::milliseconds(0)).error);
  CHECK(f.books->credit->load(0) == 0);
}

TEST_CASE("jobs reach the scheduler through the engine actor, batched",
          "[actors][engine]") {
  fixture f;
  // Three submissions before the actor runs: one announcement, one batch.
  auto a = f.submit_with_arg(), b = f.submit_with_arg(),
       c = f.submit_with_arg();
  CHECK(f.sent->empty());
  f.sched.run();
  REQUIRE(f.sent->size() == 1);
  auto& batch = f.sent->front();
  CHECK(batch.model == 1);
  CHECK(batch.engine == f.engine);
  REQUIRE(batch.jobs.size() == 3);
  CHECK(batch.jobs[0].id == a);
  CHECK(batch.jobs[2].id == c);
  CHECK(batch.jobs[1].device == 0); // the credit it holds
  CHECK(f.books->credit->load(0) == 3);
  CHECK(f.books->table.open_count() == 3);
  // Each ends once, with its own argument.
  f.deliver({f.ok(b), f.ok(c), f.ok(a), f.ok(b)});
  REQUIRE(f.calls.size() == 3);
  CHECK(f.calls[0].first == b);
  CHECK(f.calls[2].first == a);
  CHECK(f.books->table.open_count() == 0);
  CHECK(f.books->credit->load(0) == 0);
}

TEST_CASE("a callback changed between jobs applies to results after it",
          "[actors][engine]") {
  fixture f;
  auto a = f.open_with_arg();
  int second = 0;
  f.books->intake->set_callback(
    {[&](const tensors&, void*, const failure&) { ++second; }, nullptr});
  f.sched.run();
  f.deliver({f.ok(a)});
  CHECK(f.calls.empty());
  CHECK(second == 1);
  // No callback: the result waits for Wait, unbounded by the window.
  f.books->intake->set_callback({});
  auto b = f.open_with_arg();
  f.deliver({f.ok(b)});
  CHECK(second == 1);
  CHECK_FALSE(f.books->table.wait(b, std::chrono::milliseconds(0)).error);
}

TEST_CASE("cancel takes jobs still in the intake too", "[actors][engine]") {
  fixture f;
  auto a = f.open_with_arg();
  auto b = f.submit_with_arg(); // not yet taken by the actor
  f.self->send(f.engine, cancel_atom::value, std::string("shutdown"));
  f.sched.run();
  uint64_t cancelled = 0;
  f.self->receive([&](uint64_t n) { cancelled = n; });
  CHECK(cancelled == 2);
  REQUIRE(f.calls.size() == 2);
  CHECK(f.ended_with(a) == errc::cancelled);
  CHECK(f.ended_with(b) == errc::cancelled);
  CHECK(f.books->credit->load(0) == 0);
}

TEST_CASE("results followed by a message that brings no result still end",
          "[actors][engine]") {
  fixture f;
  auto a = f.open_with_arg();
  // The results wait for the next message, which is a callback change:
  // they must end then, not at some later result.
  f.self->send(f.engine, done_atom::value, job_results{f.ok(a)});
  f.books->intake->set_error_handler(nullptr);
  f.sched.run();
  CHECK(f.calls.size() == 1);
  CHECK(f.books->table.open_count() == 0);
}

TEST_CASE("a callback may Wait for a job that ended before it in its batch",
          "[actors][engine]") {
  fixture f;
  auto a = f.open_with_arg(), b = f.open_with_arg();
  bool got_a = false;
  f.books->intake->set_callback(
    {[&](const tensors&, void* arg, const failure&) {
       if (reinterpret_cast<uintptr_t>(arg) == b)
         got_a = !f.books->table.wait(a, std::chrono::milliseconds(0)).error;
     },
     nullptr});
  f.sched.run();
  f.deliver({f.ok(a), f.ok(b)});
  CHECK(got_a);
}
