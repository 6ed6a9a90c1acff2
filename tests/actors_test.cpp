#include <catch2/catch.hpp>

#include <thread>

#include "actors/engine_actor.hpp"
#include "actors/inflight_limiter.hpp"
#include "actors/job_table.hpp"
#include "actors/runtime.hpp"
#include "actors/scheduling_policy.hpp"
#include "core/errors.hpp"
#include "models.hpp"

using namespace actorrt;
using actorrt::test::model_path;

TEST_CASE("the policy picks the least-loaded eligible core", "[actors]") {
  scheduling_policy p{2};
  for (int d = 0; d < 2; ++d)
    for (int c = 0; c < 3; ++c)
      p.add_core(d, c);
  placement all;
  // Six picks spread over both devices before any core gets a second job.
  std::vector<int> per_device(2);
  for (int i = 0; i < 6; ++i) {
    auto slot = p.pick(all);
    REQUIRE(slot);
    CHECK(p.in_flight(*slot) == 0);
    p.started(*slot);
    ++per_device[p.device_of(*slot)];
  }
  CHECK(per_device == std::vector<int>{3, 3});
  for (int i = 0; i < 6; ++i)
    p.started(*p.pick(all));
  CHECK_FALSE(p.pick(all)); // depth 2 everywhere: queue
  p.finished(4);
  CHECK(p.pick(all) == size_t{4});
}

TEST_CASE("the policy honours devices, bound cores and dead cores",
          "[actors]") {
  scheduling_policy p{2};
  for (int d = 0; d < 2; ++d)
    for (int c = 0; c < 3; ++c)
      p.add_core(d, c);
  placement npu1_dev1{{1}, bound_core_mask(bound_option::npu_1)};
  for (int i = 0; i < 2; ++i) {
    auto slot = p.pick(npu1_dev1);
    REQUIRE(slot);
    CHECK(p.device_of(*slot) == 1);
    CHECK(p.core_of(*slot) == 1);
    p.started(*slot);
  }
  CHECK_FALSE(p.pick(npu1_dev1));
  CHECK(p.can_serve(npu1_dev1));
  p.set_alive(4, false);
  CHECK_FALSE(p.can_serve(npu1_dev1));
  CHECK(p.can_serve(placement{}));
}

TEST_CASE("the policy caps jobs per device (max load)", "[actors]") {
  scheduling_policy p{2};
  for (int d = 0; d < 2; ++d)
    for (int c = 0; c < 3; ++c)
      p.add_core(d, c);
  placement capped{{}, ~0u, 2};
  std::vector<int> per_device(2);
  while (auto slot = p.pick(capped)) {
    p.started(*slot);
    ++per_device[p.device_of(*slot)];
  }
  CHECK(per_device == std::vector<int>{2, 2});
  CHECK(p.pick(placement{})); // uncapped jobs still find room
}

TEST_CASE("the limiter blocks at its limit and wakes on release", "[actors]") {
  inflight_limiter lim{2};
  CHECK(lim.acquire());
  CHECK(lim.acquire());
  std::atomic<bool> third{false};
  std::thread t([&] {
    lim.acquire();
    third = true;
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  CHECK_FALSE(third);
  lim.release();
  t.join();
  CHECK(third);
  CHECK(lim.peak() == 2);
  CHECK_FALSE(lim.drain(std::chrono::milliseconds(10)));
  lim.release();
  lim.release();
  CHECK(lim.drain(std::chrono::milliseconds(10)));
  lim.close();
  CHECK_FALSE(lim.acquire());
}

TEST_CASE("the job table ends each job once and bounds what it keeps",
          "[actors]") {
  job_table t{2};
  for (job_id id = 1; id <= 4; ++id)
    t.open(id);
  CHECK(t.claim(1));
  CHECK_FALSE(t.claim(1));
  t.publish(1, {{}, {}}, true);
  for (job_id id = 2; id <= 4; ++id) {
    t.claim(id);
    t.publish(id, {{}, {errc::device_io, "boom"}}, true);
  }
  CHECK(t.held() == 2); // job 1 and 2 released
  CHECK_THROWS_WITH(t.wait(1, std::nullopt), Catch::Contains("no result"));
  CHECK_THROWS_WITH(t.wait(99, std::nullopt), Catch::Contains("never issued"));
  CHECK(t.wait(4, std::nullopt).error.message == "boom");
  CHECK_THROWS_AS(t.wait(4, std::nullopt), InvalidArgument);
  t.open(5);
  CHECK_THROWS_AS(t.wait(5, std::chrono::milliseconds(10)), Timeout);
  auto open = t.claim_all_open();
  REQUIRE(open.size() == 1);
  CHECK(open[0].first == 5);
}

TEST_CASE("messages survive CAF serialisation (remote cores)", "[actors]") {
  caf::actor_system_config cfg;
  add_actorrt_types(cfg);
  caf::actor_system sys{cfg};
  auto m = model::load(model_path("tiny_cnn"));
  core_job job{7, 3, split_inputs(m->inputs(), blob::allocate(m->input_size())),
               caf::actor{}, 11};
  job.inputs[0].bytes.data[5] = 42;
  model_handle handle{3, m};
  std::vector<char> buf;
  caf::binary_serializer sink{sys, buf};
  REQUIRE_FALSE(sink(job, handle));
  core_job job2;
  model_handle handle2;
  caf::binary_deserializer source{sys, buf};
  REQUIRE_FALSE(source(job2, handle2));
  CHECK(job2.id == 7);
  CHECK(job2.model_id == 3);
  REQUIRE(job2.inputs.size() == 1);
  CHECK(job2.inputs[0].info.shape == m->inputs()[0].shape);
  CHECK(job2.inputs[0].bytes.size == m->input_size());
  CHECK(job2.inputs[0].bytes.data[5] == 42);
  CHECK(job2.inputs[0].bytes.data != job.inputs[0].bytes.data);
  REQUIRE(handle2.ptr);
  CHECK(handle2.ptr->input_size() == m->input_size());
}

TEST_CASE("the engine actor answers infer requests from a plain actor",
          "[actors]") {
  caf::actor_system_config cfg;
  add_actorrt_types(cfg);
  caf::actor_system sys{cfg};
  auto top = start_devices(sys, {{"cpu", 2, ""}});
  auto m = model::load(model_path("tiny_cnn"));
  InferenceOption opt;
  opt.buffer_count = 1;
  auto engine = spawn_engine(sys, top.scheduler, m, opt);
  caf::scoped_actor self{sys};
  int answered = 0;
  // Three at once with a limit of 1 per device: the engine queues them.
  for (int i = 0; i < 3; ++i)
    self->send(engine, infer_atom::value,
               tensors{{{}, blob::allocate(m->input_size())}});
  for (int i = 0; i < 3; ++i)
    self->receive(
      [&](tensors& out) {
        REQUIRE(out.size() == 1);
        CHECK(out[0].bytes.size == 40);
        ++answered;
      },
      [&](caf::error& e) { FAIL(sys.render(e)); });
  CHECK(answered == 3);
  // A wrong size is an error reply, and the engine keeps serving.
  self
    ->request(engine, caf::infinite, infer_atom::value,
              tensors{{{}, blob::allocate(3)}})
    .receive([&](tensors&) { FAIL("expected an error"); },
             [&](caf::error& e) {
               CHECK(to_failure(sys, e).code == errc::invalid_argument);
             });
  self->send_exit(engine, caf::exit_reason::user_shutdown);
  stop_devices(top);
}
