#include <catch2/catch.hpp>

#include <thread>

#include <onnx/onnx_pb.h>

#include "actors/admission.hpp"
#include "actors/claim_budget.hpp"
#include "actors/core_picker.hpp"
#include "actors/engine_actor.hpp"
#include "actors/job_table.hpp"
#include "actors/runtime.hpp"
#include "actors/scheduling_policy.hpp"
#include "actors/spin.hpp"
#include "core/cpu_contention.hpp"
#include "core/errors.hpp"
#include "models.hpp"

using namespace actorrt;
using actorrt::test::model_path;
using lane = scheduling_policy::lane;

namespace {

core_report core_at(int device, int core) {
  core_report r;
  r.device = device;
  r.core = core;
  return r;
}

/// A policy over `devices` × 3 cores with model 1 ready everywhere.
scheduling_policy three_core_devices(int devices, int depth = 2) {
  scheduling_policy p{depth};
  for (int d = 0; d < devices; ++d)
    for (int c = 0; c < 3; ++c)
      p.set_lane(p.add_core(core_at(d, c)), 1, lane::ready);
  return p;
}

} // namespace

TEST_CASE("the policy picks the least-loaded eligible core", "[actors]") {
  auto p = three_core_devices(2);
  placement all;
  // Six picks spread over both devices before any core gets a second job.
  std::vector<int> per_device(2);
  for (int i = 0; i < 6; ++i) {
    auto slot = p.pick(1, all, -1);
    REQUIRE(slot);
    CHECK(p.in_flight(*slot) == 0);
    p.started(*slot);
    ++per_device[p.report(*slot).device];
  }
  CHECK(per_device == std::vector<int>{3, 3});
  for (int i = 0; i < 6; ++i)
    p.started(*p.pick(1, all, -1));
  CHECK_FALSE(p.pick(1, all, -1)); // depth 2 everywhere: queue
  CHECK_FALSE(p.has_room());
  p.finished(4);
  CHECK(p.pick(1, all, -1) == size_t{4});
  p.started(4);
  // A job holding device 0's credit stays on device 0.
  p.finished(1);
  CHECK_FALSE(p.pick(1, all, 1));
  CHECK(p.pick(1, all, 0) == size_t{1});
}

TEST_CASE("one job at a time stays on the core that ran the last one",
          "[actors]") {
  auto p = three_core_devices(1);
  placement all;
  auto first = p.pick(1, all, -1);
  REQUIRE(first);
  p.started(*first);
  auto second = p.pick(1, all, -1); // the first still runs: another core
  REQUIRE(second);
  CHECK(*second != *first);
  p.started(*second);
  p.finished(*first);
  p.finished(*second);
  for (int i = 0; i < 5; ++i) {
    auto slot = p.pick(1, all, -1);
    CHECK(slot == second);
    p.started(*slot);
    p.finished(*slot);
  }
}

TEST_CASE("the policy honours devices, bound cores and dead cores",
          "[actors]") {
  auto p = three_core_devices(2);
  placement npu1_dev1{{1}, bound_core_mask(bound_option::npu_1)};
  for (int i = 0; i < 2; ++i) {
    auto slot = p.pick(1, npu1_dev1, -1);
    REQUIRE(slot);
    CHECK(p.report(*slot).device == 1);
    CHECK(p.report(*slot).core == 1);
    p.started(*slot);
  }
  CHECK_FALSE(p.pick(1, npu1_dev1, -1));
  CHECK(p.can_serve(1, npu1_dev1, -1));
  p.set_alive(4, false);
  CHECK_FALSE(p.can_serve(1, npu1_dev1, -1));
  CHECK(p.can_serve(1, placement{}, -1));
}

TEST_CASE("the policy only routes a model to cores whose lane is ready",
          "[actors]") {
  scheduling_policy p{2};
  auto a = p.add_core(core_at(0, 0));
  auto b = p.add_core(core_at(0, 1));
  placement all;
  CHECK_FALSE(p.can_serve(7, all, -1)); // nowhere loaded
  p.set_lane(a, 7, lane::loading);
  CHECK(p.can_serve(7, all, -1)); // will be: the job waits
  CHECK_FALSE(p.pick(7, all, -1));
  p.set_lane(a, 7, lane::ready, "onnxruntime");
  p.set_lane(b, 7, lane::failed);
  for (int i = 0; i < 2; ++i) {
    auto slot = p.pick(7, all, -1);
    REQUIRE(slot);
    CHECK(*slot == a);
    p.started(*slot);
  }
  // Its report is the policy's own record: the lanes it runs, its load.
  CHECK(p.report(a).lanes
        == std::map<uint64_t, std::string>{{7, "onnxruntime"}});
  CHECK(p.report(b).lanes.empty());
  CHECK(p.report(a).in_flight == 2);
  CHECK(p.report(a).jobs == 2);
  CHECK_FALSE(p.pick(7, all, -1)); // b has room, but not the model
  p.set_stalled(a, true);
  p.finished(a, 2);
  CHECK_FALSE(p.pick(7, all, -1)); // a stalled: nothing new until it answers
  p.set_stalled(a, false);
  CHECK(p.pick(7, all, -1) == a);
  p.started(a);
  CHECK(p.reports()[a].in_flight == 1);
  CHECK(p.reports()[a].jobs == 3);
  p.forget_model(7);
  CHECK_FALSE(p.can_serve(7, all, -1));
  CHECK(p.report(a).lanes.empty());
}

TEST_CASE("a node's core picker gives a batch to the core that frees first",
          "[actors]") {
  core_picker p{3};
  for (size_t core : {0, 1, 2})
    p.loaded(core, 1);
  // All idle: the core the client addressed; then idle ones.
  CHECK(p.take(1, 1, 1, 10) == size_t{1});
  CHECK(p.take(1, 1, 1, 20) == size_t{0});
  CHECK(p.take(1, 1, 1, 30) == size_t{2});
  // Each runs one; core 1's started first, so it frees first: the next
  // two go behind it and core 0's (started next), whatever the client
  // addressed.
  CHECK(p.take(1, 2, 1, 40) == size_t{1});
  CHECK(p.take(1, 2, 1, 40) == size_t{0});
  // Core 0 answered, so its second job started then (50); core 2 answered
  // and is idle: it takes the next, then core 0 (its job started at 50,
  // core 2's at 70), then core 2 (core 0 holds two).
  p.answered(0, 1, 50);
  p.answered(2, 1, 60);
  CHECK(p.take(1, 1, 1, 70) == size_t{2});
  CHECK(p.take(1, 1, 1, 70) == size_t{0});
  CHECK(p.take(1, 1, 1, 70) == size_t{2});
  // A model only core 0 holds goes there however busy it is; one no core
  // holds goes nowhere, nor to a core that stopped.
  p.loaded(0, 2);
  CHECK(p.take(2, 1, 1, 80) == size_t{0});
  CHECK_FALSE(p.take(3, 0, 1, 80));
  p.unloaded(0, 2);
  CHECK_FALSE(p.take(2, 0, 1, 80));
  p.stopped(1);
  CHECK_FALSE(p.alive(1));
  CHECK(p.alive(0));
  CHECK(p.take(1, 1, 1, 80) != size_t{1});
}

TEST_CASE("guards on several threads share a core picker", "[actors]") {
  core_picker p{2};
  p.loaded(0, 1);
  p.loaded(1, 1);
  std::atomic<int> unplaced{0}; // Catch2 asserts on the test's thread only
  auto guard = [&p, &unplaced](size_t addressed) {
    for (int i = 0; i < 20000; ++i) {
      if (auto core = p.take(1, addressed, 2, i))
        p.answered(*core, 2, i + 1);
      else
        ++unplaced;
    }
  };
  std::thread a(guard, 0), b(guard, 1);
  a.join();
  b.join();
  CHECK(unplaced == 0);
  // Every job counted was answered: both cores idle, so the next goes to
  // the core addressed, either one.
  CHECK(p.take(1, 1, 1, 0) == size_t{1});
  CHECK(p.take(1, 0, 1, 0) == size_t{0});
}

TEST_CASE("a claim budget serves claims in turn and ends waits when closed",
          "[actors]") {
  claim_budget budget{100};
  REQUIRE(budget.take(60));
  std::vector<int> order;
  std::mutex mtx;
  auto claim = [&](int who, uint64_t n) {
    return std::thread([&, who, n] {
      if (budget.take(n)) {
        std::lock_guard<std::mutex> guard{mtx};
        order.push_back(who);
      }
    });
  };
  // Whether `n` claims wait (within 5 s).
  auto waiting = [&](uint64_t n) {
    auto end = std::chrono::steady_clock::now() + std::chrono::seconds(5);
    while (budget.waiting() != n && std::chrono::steady_clock::now() < end)
      std::this_thread::yield();
    return budget.waiting() == n;
  };
  auto big = claim(1, 80);
  // The big claim waits for 80 of which 40 are free; a small one that came
  // after it waits behind it although 40 would do.
  REQUIRE(waiting(1));
  auto small = claim(2, 10);
  CHECK(waiting(2));
  {
    std::lock_guard<std::mutex> guard{mtx};
    CHECK(order.empty());
  }
  budget.give(60); // now both fit, in turn
  big.join();
  small.join();
  CHECK(order.size() == 2);
  CHECK(budget.available() == 10);
  // Closing ends a wait that could never be served.
  auto stuck = claim(3, 50);
  CHECK(waiting(1));
  budget.close();
  stuck.join();
  CHECK(order.size() == 2);
  CHECK_FALSE(budget.take(1));
}

TEST_CASE("admission blocks per device, shared by engines, and closes",
          "[actors]") {
  admission credit;
  std::atomic<bool> open{false}, closed{false};
  // Least-loaded device first: 0, 1, 0, 1.
  CHECK(credit.acquire({0, 1}, 2, open) == 0);
  CHECK(credit.acquire({0, 1}, 2, open) == 1);
  CHECK(credit.acquire({0, 1}, 2, open) == 0);
  // Another engine on device 1 only: one credit left there.
  CHECK(credit.acquire({1}, 2, closed) == 1);
  std::atomic<int> got{-2};
  std::thread t([&] { got = credit.acquire({0, 1}, 2, open); });
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  CHECK(got == -2); // both devices full: blocked
  credit.release(1);
  t.join();
  CHECK(got == 1);
  CHECK(credit.load(0) == 2);
  CHECK(credit.acquire_now({0}) == 0); // past the limit, never blocks
  CHECK(credit.load(0) == 3);
  std::thread u([&] { got = credit.acquire({0}, 2, closed); });
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  closed = true;
  credit.wake_all();
  u.join();
  CHECK(got == -1);
}

TEST_CASE("the job table ends each job once and bounds what it keeps",
          "[actors]") {
  job_table t{{2}};
  for (job_id id = 1; id <= 4; ++id)
    CHECK(t.open() == id);
  CHECK(t.open_count() == 4);
  using kept = job_table::kept;
  t.publish(1, {{}, {}}, kept::beside_callback);
  t.publish(1, {{}, {errc::device_io, "second"}},
            kept::beside_callback); // ends nothing
  CHECK(t.open_count() == 3);
  for (job_id id = 2; id <= 4; ++id)
    t.publish(id, {{}, {errc::device_io, "boom"}}, kept::beside_callback);
  CHECK(t.held() == 2); // job 1 and 2 released
  CHECK(t.open_count() == 0);
  CHECK(t.peak_open() == 4);
  CHECK(t.wait_idle(std::chrono::milliseconds(0)));
  CHECK_THROWS_WITH(t.wait(1, std::nullopt), Catch::Contains("no result"));
  CHECK_THROWS_WITH(t.wait(99, std::nullopt), Catch::Contains("never issued"));
  CHECK(t.wait(4, std::nullopt).error.message == "boom");
  CHECK_THROWS_AS(t.wait(4, std::nullopt), InvalidArgument);
  CHECK(t.open() == 5);
  CHECK_FALSE(t.wait_idle(std::chrono::milliseconds(10)));
  CHECK_THROWS_AS(t.wait(5, std::chrono::milliseconds(10)), Timeout);
  t.forget(5);
  CHECK(t.open_count() == 0);
  CHECK(t.wait_idle(std::chrono::milliseconds(0)));
}

TEST_CASE("the job table keeps unwaited results within its bounds: bytes "
          "beside a callback, a count without",
          "[actors]") {
  job_table t{{100, 3000}}; // bytes bind first here
  using kept = job_table::kept;
  auto outputs_of = [](size_t bytes) {
    tensor out;
    out.bytes = blob::allocate(bytes);
    return job_table::outcome{{out}, {}};
  };
  for (job_id id = 1; id <= 4; ++id) {
    t.open();
    t.publish(id, outputs_of(1000), kept::beside_callback);
  }
  CHECK(t.held() == 3); // 3000 bytes: job 1 released
  CHECK_THROWS_WITH(t.wait(1, std::nullopt), Catch::Contains("3000"));
  // A result taken by Wait leaves the bound: the next one releases nothing.
  CHECK(t.wait(2, std::nullopt).outputs.at(0).bytes.size == 1000);
  t.open();
  t.publish(5, outputs_of(1000), kept::beside_callback);
  CHECK(t.held() == 3);
  CHECK(t.wait(3, std::nullopt).outputs.size() == 1);
  // The newest is kept whatever its size, alone.
  t.open();
  t.publish(6, outputs_of(10000), kept::beside_callback);
  CHECK(t.held() == 1);
  CHECK(t.wait(6, std::nullopt).outputs.at(0).bytes.size == 10000);
  CHECK(t.held() == 0);
  // Without a callback: bounded by count (DX-RT's horizon), and by bytes
  // only as a last resort (a quarter of the host's memory by default); a
  // Run's own result is not bounded at all.
  job_table plain{{100, 3000, 3}};
  CHECK(result_retention{}.bytes_without_callback == quarter_of_host_memory());
  for (job_id id = 1; id <= 5; ++id) {
    plain.open();
    plain.publish(id, outputs_of(5000), kept::without_callback);
  }
  CHECK(plain.held() == 3); // 15000 bytes: the count binds, not 3000 bytes
  CHECK_THROWS_WITH(plain.wait(2, std::nullopt),
                    Catch::Contains("newest 3 and"));
  CHECK(plain.wait(3, std::nullopt).outputs.at(0).bytes.size == 5000);
  for (job_id id = 6; id <= 9; ++id) {
    plain.open();
    plain.publish(id, outputs_of(5000), kept::until_waited);
  }
  CHECK(plain.held() == 6);
  job_table small{{100, 3000, 100, 12000}};
  for (job_id id = 1; id <= 5; ++id) {
    small.open();
    small.publish(id, outputs_of(5000), kept::without_callback);
  }
  CHECK(small.held() == 2);
  CHECK_THROWS_WITH(small.wait(3, std::nullopt),
                    Catch::Contains("12000 bytes without one"));
}

TEST_CASE("a thread polls for its budget, then gives up; at once while "
          "the CPUs are contended",
          "[actors]") {
  using namespace std::chrono;
  std::atomic<bool> ready{false};
  auto is_ready = [&] { return ready.load(); };
  CHECK_FALSE(spin_until(is_ready, nanoseconds(0)));
  // Another test process may hold a CPU for a slice meanwhile (a loaded
  // test run): then the poll rightly ends early.
  auto start = steady_clock::now();
  CHECK_FALSE(spin_until(is_ready, milliseconds(3)));
  CHECK((steady_clock::now() - start >= milliseconds(3) || cpus_contended()));
  std::thread t([&] {
    std::this_thread::sleep_for(microseconds(200));
    ready = true;
  });
  CHECK((spin_until(is_ready, seconds(10)) || cpus_contended()));
  t.join();
  // A yield came back a slice late: no poll, whatever its budget.
  ready = false;
  note_yield(steady_clock::now(), milliseconds(4));
  start = steady_clock::now();
  CHECK_FALSE(spin_until(is_ready, seconds(10)));
  CHECK(steady_clock::now() - start < seconds(1));
}

TEST_CASE("a thread polls longer after its work came soon after a poll "
          "gave up, shorter (down to not at all) after it came late",
          "[actors]") {
  using namespace std::chrono;
  auto most = spin_budget();
  if (most < microseconds(80))
    return;            // ACTORRT_SPIN_US set low: no room to adapt
  std::thread([most] { // a fresh thread: a fresh window
    auto t = steady_clock::now();
    auto first = adapted_budget(t);
    CHECK(first == nanoseconds(microseconds(50)));
    CHECK(adapted_budget(t) == first); // no missed poll: unchanged
    poll_missed(t);
    t += microseconds(60); // the work came 60 us after the poll gave up
    CHECK(adapted_budget(t) == std::min(most, first * 2));
    for (int i = 0; i < 10; ++i) {
      poll_missed(t);
      t += most / 2;
      CHECK(adapted_budget(t) <= most);
    }
    CHECK(adapted_budget(t) == most);
    // Work that comes later than the longest poll halves it, then ends it.
    auto length = most;
    while (length.count() > 0) {
      poll_missed(t);
      t += 2 * most;
      auto next = adapted_budget(t);
      CHECK(next < length);
      length = next;
    }
    // A near miss starts it again.
    poll_missed(t);
    t += microseconds(5);
    CHECK(adapted_budget(t) == microseconds(10));
  })
    .join();
}

TEST_CASE("nobody polls while CPU lanes hold every CPU", "[actors]") {
  auto& slots = cpu_slots::host();
  std::vector<std::unique_ptr<cpu_slots::lease>> held;
  while (!slots.all_held())
    held.push_back(std::make_unique<cpu_slots::lease>(slots));
  int asked = 0;
  CHECK_FALSE(poll([&] { return ++asked > 1000000; }));
  CHECK(asked == 1); // looked once, polled not at all
}

TEST_CASE("an engine that may use every device uses those added later, "
          "and the living first",
          "[actors]") {
  admission credit;
  std::atomic<bool> open{false};
  credit.add_device(0);
  CHECK(credit.device_count() == 1);
  CHECK(credit.acquire({}, 2, open) == 0);
  CHECK(credit.acquire({}, 2, open) == 0);
  // Device 0 is full; a waiter gets device 1 as soon as it is added.
  std::atomic<int> got{-2};
  std::thread t([&] { got = credit.acquire({}, 2, open); });
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  CHECK(got == -2);
  credit.add_device(1);
  t.join();
  CHECK(got == 1);
  CHECK(credit.device_count() == 2);
  // Device 1 stops: its load of 1 no longer draws jobs, device 0 does.
  credit.release(0, 2);
  credit.remove_device(1);
  credit.release(1);
  CHECK(credit.device_count() == 1);
  CHECK(credit.acquire({}, 2, open) == 0);
  // With no device alive, jobs still get a credit (and end with the
  // scheduler's error) instead of waiting forever.
  credit.remove_device(0);
  CHECK(credit.device_count() == 2);
  CHECK(credit.acquire_now({}) >= 0);
  // A named list is unaffected.
  CHECK(credit.acquire({1}, 2, open) == 1);
}

TEST_CASE("Wait and admission get what comes while they poll and after",
          "[actors]") {
  // Each result comes once right away (caught while polling) and once long
  // after the poll budget (caught asleep).
  for (auto delay :
       {std::chrono::microseconds(0), std::chrono::microseconds(20'000)}) {
    job_table table{{4}};
    auto id = table.open();
    std::thread publisher([&] {
      std::this_thread::sleep_for(delay);
      table.publish(id, {{}, {errc::device_io, "late"}},
                    job_table::kept::until_waited);
    });
    CHECK(table.wait(id, std::nullopt).error.message == "late");
    publisher.join();

    admission credit;
    std::atomic<bool> closed{false};
    REQUIRE(credit.acquire({0}, 1, closed) == 0);
    std::thread releaser([&] {
      std::this_thread::sleep_for(delay);
      credit.release(0);
    });
    CHECK(credit.acquire({0}, 1, closed) == 0);
    releaser.join();
    CHECK(credit.load(0) == 1);
  }
}

TEST_CASE("messages survive CAF serialisation (remote cores)", "[actors]") {
  caf::actor_system_config cfg;
  add_actorrt_types(cfg);
  caf::actor_system sys{cfg};
  auto m = model::load(model_path("tiny_cnn"));
  job_batch batch{3, {}, {}};
  job j;
  j.id = 7;
  j.inputs = attach(m->input_metas(),
                    split_inputs(m->inputs(), blob::allocate(m->input_size())));
  j.outputs = attach(m->output_metas(), {blob::allocate(40)});
  j.device = 1;
  j.deadline = now_ns() + 5'000'000'000;
  j.priority = 2;
  batch.jobs.push_back(std::move(j));
  batch.jobs[0].inputs[0].bytes.data[5] = 42;
  model_handle handle{3, m, "opencv"};
  job_results results(2);
  results[0].id = 7;
  results[0].error = {errc::timeout, "late"};
  results[1].id = 8;
  results[1].outputs = attach(m->output_metas(), {blob::allocate(40)});
  results[1].outputs[0].bytes.data[39] = 9;
  tensors outputs = attach(m->output_metas(), {blob::allocate(40)});
  std::vector<char> buf;
  caf::binary_serializer sink{sys, buf};
  REQUIRE_FALSE(sink(batch, handle, results, outputs));
  job_batch batch2;
  model_handle handle2;
  job_results results2;
  tensors outputs2;
  caf::binary_deserializer source{sys, buf};
  REQUIRE_FALSE(source(batch2, handle2, results2, outputs2));
  CHECK(batch2.model == 3);
  REQUIRE(batch2.jobs.size() == 1);
  CHECK(batch2.jobs[0].id == 7);
  CHECK(batch2.jobs[0].device == 1);
  REQUIRE(batch2.jobs[0].inputs.size() == 1);
  CHECK(batch2.jobs[0].inputs[0].bytes.size == m->input_size());
  CHECK(batch2.jobs[0].inputs[0].bytes.data[5] == 42);
  CHECK(batch2.jobs[0].inputs[0].bytes.data
        != batch.jobs[0].inputs[0].bytes.data);
  // Bytes only: the core describes them with its lane's model; the
  // caller's output memory stays home.
  CHECK_FALSE(batch2.jobs[0].inputs[0].meta);
  CHECK(batch2.jobs[0].outputs.empty());
  // The deadline travels as the time left, on the receiver's clock.
  auto left = batch2.jobs[0].deadline - now_ns();
  CHECK(left > 4'000'000'000);
  CHECK(left <= 5'000'000'000);
  CHECK(batch2.jobs[0].priority == 2);
  CHECK_FALSE(batch2.jobs[0].control); // stays in its process
  REQUIRE(handle2.ptr);
  CHECK(handle2.backend == "opencv");
  CHECK(handle2.ptr->input_size() == m->input_size());
  REQUIRE(results2.size() == 2);
  CHECK(results2[0].error.code == errc::timeout);
  // Bytes only: the engine describes them with its model.
  REQUIRE(results2[1].outputs.size() == 1);
  CHECK_FALSE(results2[1].outputs[0].meta);
  CHECK(results2[1].outputs[0].bytes.size == 40);
  CHECK(results2[1].outputs[0].bytes.data[39] == 9);
  REQUIRE(outputs2.size() == 1);
  CHECK(outputs2[0].info().shape == m->outputs()[0].shape);
  CHECK(outputs2[0].bytes.size == 40);
}

TEST_CASE("a blob that claims more bytes than its message holds is refused",
          "[actors]") {
  caf::actor_system_config cfg;
  add_actorrt_types(cfg);
  caf::actor_system sys{cfg};
  auto bytes = blob::allocate(1000);
  std::fill(bytes.data, bytes.data + bytes.size, uint8_t{7});
  std::vector<char> buf;
  caf::binary_serializer sink{sys, buf};
  REQUIRE_FALSE(sink(bytes));
  blob whole;
  caf::binary_deserializer all{sys, buf};
  REQUIRE_FALSE(all(whole));
  REQUIRE(whole.size == 1000);
  CHECK(whole.data[999] == 7);
  // Cut short: the size still claims 1000 bytes.
  buf.resize(buf.size() - 1);
  blob cut;
  caf::binary_deserializer source{sys, buf};
  CHECK(source(cut) == caf::sec::end_of_stream);
  CHECK(cut.size == 0);
}

TEST_CASE("model bytes from the network pass the untrusted-model checks",
          "[actors]") {
  caf::actor_system_config cfg;
  add_actorrt_types(cfg);
  caf::actor_system sys{cfg};
  auto good = model::load(model_path("tiny_cnn"));
  // A Conv with strides of 0 (its divisions by them would fault), sent as
  // a model_handle is: id, backend, batching (max, delay), name,
  // digest, bytes.
  onnx::ModelProto proto;
  REQUIRE(proto.ParseFromString(good->bytes()));
  bool patched = false;
  for (auto& node : *proto.mutable_graph()->mutable_node())
    for (auto& attr : *node.mutable_attribute())
      if (attr.name() == "strides")
        for (auto& v : *attr.mutable_ints())
          v = 0, patched = true;
  REQUIRE(patched);
  std::string bad;
  REQUIRE(proto.SerializeToString(&bad));
  for (auto& bytes : {bad, std::string("not an ONNX model at all")}) {
    std::vector<char> buf;
    caf::binary_serializer sink{sys, buf};
    REQUIRE_FALSE(sink(uint64_t{5}, std::string("opencv"), 1, 0,
                       std::string("evil"), std::string("d1g35t"), bytes));
    model_handle handle;
    caf::binary_deserializer source{sys, buf};
    // Decoded (not a malformed message that would cost the link), refused.
    REQUIRE_FALSE(source(handle));
    CHECK_FALSE(handle.ptr);
    CHECK(handle.refused.code == errc::invalid_model);
    // The core answers the load with that failure and keeps serving.
    auto top = start_devices(sys, {{"sim", 1, ""}});
    caf::scoped_actor self{sys};
    self
      ->request(top.cores.at(0), caf::infinite, load_atom::value,
                std::move(handle))
      .receive(
        [&](failure& f, std::string&) {
          CHECK(f.code == errc::invalid_model);
          CHECK_FALSE(f.message.empty());
        },
        [&](caf::error& e) { FAIL(sys.render(e)); });
    model_handle fine{6, good, "sim"};
    self->request(top.cores.at(0), caf::infinite, load_atom::value, fine)
      .receive([&](failure& f, std::string&) { CHECK_FALSE(f); },
               [&](caf::error& e) { FAIL(sys.render(e)); });
    stop_devices(top);
  }
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
  auto engine = spawn_engine(sys, top, m, opt);
  caf::scoped_actor self{sys};
  int answered = 0;
  // Three at once with a credit of 1: the scheduler queues what waits.
  for (int i = 0; i < 3; ++i)
    self->send(engine, infer_atom::value,
               std::vector<blob>{blob::allocate(m->input_size())});
  for (int i = 0; i < 3; ++i)
    self->receive(
      [&](tensors& out) {
        REQUIRE(out.size() == 1);
        CHECK(out[0].bytes.size == 40);
        CHECK(out[0].info().name == m->outputs()[0].name);
        ++answered;
      },
      [&](caf::error& e) { FAIL(sys.render(e)); });
  CHECK(answered == 3);
  // Every credit comes back (just after the answers: once per batch).
  for (int i = 0; i < 1000 && top.credit->load(0) != 0; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  CHECK(top.credit->load(0) == 0);
  // A wrong size is an error reply, and the engine keeps serving.
  self
    ->request(engine, caf::infinite, infer_atom::value,
              std::vector<blob>{blob::allocate(3)})
    .receive([&](tensors&) { FAIL("expected an error"); },
             [&](caf::error& e) {
               CHECK(to_failure(sys, e).code == errc::invalid_argument);
             });
  self->send_exit(engine, caf::exit_reason::user_shutdown);
  stop_devices(top);
}
