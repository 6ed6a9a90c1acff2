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

struct fixture : actorrt::test::deterministic_system {
  model_ptr m = model::load(model_path("tiny_cnn"));
  std::shared_ptr<engine_books> books = std::make_shared<engine_books>(16);
  engine_actor engine;
  caf::scoped_actor self{sys};
  /// What the callback saw: (job id via its user argument, error code).
  std::vector<std::pair<uintptr_t, errc>> calls;
  int scopes = 0;

  fixture() {
    books->model = m;
    books->model_id = 1;
    books->devices = {0};
    books->credit = std::make_shared<admission>();
    books->scheduler = sys.spawn(scheduler, scheduler_settings{});
    books->set_callback(
      [this](const tensors& outputs, void* arg, const failure& error) {
        if (!error)
          REQUIRE(outputs.size() == 1);
        calls.emplace_back(reinterpret_cast<uintptr_t>(arg), error.code);
      },
      [this](const std::function<void()>& run) {
        ++scopes;
        run();
      });
    engine = sys.spawn(actorrt::engine, books);
    sched.run();
  }

  ~fixture() {
    self->send_exit(engine, caf::exit_reason::user_shutdown);
    self->send_exit(books->scheduler, caf::exit_reason::user_shutdown);
    sched.run();
  }

  job_id opened = 0;

  /// Opens a job as a submission does: a credit of device 0, then the
  /// table. Its user argument is its id (ids count from 1).
  job_id open_with_arg() {
    job_ticket t;
    t.device = books->credit->acquire_now({0});
    t.ptr = reinterpret_cast<void*>(uintptr_t(++opened));
    auto id = books->table.open(std::move(t));
    REQUIRE(id == opened);
    return id;
  }

  job_result ok(job_id id) {
    job_result r;
    r.id = id;
    r.outputs = {blob::allocate(m->outputs()[0].byte_size())};
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
  CHECK(f.books->table.wait(b, std::chrono::milliseconds(0)).error.code
        == errc::device_io);
  CHECK_THROWS_AS(f.books->table.wait(c, std::chrono::milliseconds(0)),
                  Timeout);
  CHECK(f.books->counters.done.load() == 1);
  CHECK(f.books->counters.failed.load() == 1);
  CHECK(f.books->latency.summary().count == 2);
  CHECK(f.books->npu_time.summary().count == 1); // failed jobs ran nothing
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
  CHECK(f.books->latest().size() == 1);
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
  CHECK(f.books->table.wait(b, std::chrono::milliseconds(0)).error.code
        == errc::cancelled);
  CHECK(f.books->credit->load(0) == 0);
}

TEST_CASE("a callback that throws is reported; the other jobs still end",
          "[actors][engine]") {
  fixture f;
  std::vector<job_id> reported;
  f.books->set_error_handler([&](job_id id, const std::string& what) {
    CHECK(what == "boom");
    reported.push_back(id);
  });
  f.books->set_callback([&](const tensors&, void* arg, const failure&) {
    f.calls.emplace_back(reinterpret_cast<uintptr_t>(arg), errc::none);
    if (reinterpret_cast<uintptr_t>(arg) == 1)
      throw std::runtime_error("boom");
  });
  auto a = f.open_with_arg(), b = f.open_with_arg();
  f.deliver({f.ok(a), f.ok(b)});
  CHECK(f.calls.size() == 2);
  CHECK(reported == std::vector<job_id>{a});
  CHECK_FALSE(f.books->table.wait(a, std::chrono::milliseconds(0)).error);
  CHECK(f.books->credit->load(0) == 0);
}
