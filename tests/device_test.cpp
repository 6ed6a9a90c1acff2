#include <catch2/catch.hpp>

#include <atomic>
#include <cmath>
#include <cstring>
#include <random>
#include <thread>

#include <pthread.h>
#include <sched.h>

#include <opencv2/dnn.hpp>

#include "core/clock.hpp"
#include "core/errors.hpp"
#include "device/cpu_slots.hpp"
#include "device/opencv_executor.hpp"
#include "device/ort_executor.hpp"
#include "device/registry.hpp"
#include "device/simulated_executor.hpp"
#include "models.hpp"

using namespace actorrt;
using actorrt::test::model_path;

namespace {

tensors random_inputs(const model& m, unsigned seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> dist(-1, 1);
  tensors result;
  for (auto& meta : m.input_metas()) {
    auto bytes = blob::allocate(meta->byte_size());
    auto* f = reinterpret_cast<float*>(bytes.data);
    for (size_t i = 0; i < meta->element_count(); ++i)
      f[i] = dist(rng);
    result.push_back({meta, bytes});
  }
  return result;
}

/// Runs one job into outputs the executor allocates.
tensors run(executor& lane, const model& m, const tensors& inputs) {
  auto outputs = attach(m.output_metas(), {});
  lane.run(inputs, outputs);
  return outputs;
}

} // namespace

namespace {

std::vector<int> my_cpus() {
  cpu_set_t set;
  CPU_ZERO(&set);
  ::pthread_getaffinity_np(::pthread_self(), sizeof set, &set);
  std::vector<int> cpus;
  for (int c = 0; c < CPU_SETSIZE; ++c)
    if (CPU_ISSET(c, &set))
      cpus.push_back(c);
  return cpus;
}

} // namespace

TEST_CASE("lanes taking turns keep their slot's CPU while they hold it",
          "[device]") {
  using namespace std::chrono_literals;
  auto all = my_cpus();
  if (all.size() < 2) {
    WARN("one CPU: nothing to pin");
    return;
  }
  cpu_slots slots{{all[0], all[1]}};
  std::atomic<bool> alone_done{false}, lane_holds{false}, let_go{false};
  int lane_cpu = -1;
  std::thread lane([&] {
    {
      cpu_slots::lease first{slots}; // no hold before: not pinned
      CHECK(first.pinned_cpu() == -1);
      std::this_thread::sleep_for(3ms);
    }
    {
      cpu_slots::lease spare{slots}; // a slot to spare: not pinned
      CHECK(spare.pinned_cpu() == -1);
      std::this_thread::sleep_for(3ms);
    }
    alone_done = true;
    while (!let_go) // the other lane holds a slot now
      std::this_thread::yield();
    {
      cpu_slots::lease last{slots}; // the last slot, after a long hold
      REQUIRE(last.pinned_cpu() >= 0);
      lane_cpu = last.pinned_cpu();
      CHECK(my_cpus() == std::vector<int>{lane_cpu});
      CHECK(::sched_getcpu() == lane_cpu);
      lane_holds = true;
      std::this_thread::sleep_for(50ms);
    }
    CHECK(my_cpus() == all); // released: free to move again
    { cpu_slots::lease brief{slots}; }
    cpu_slots::lease after_brief{slots};
    CHECK(after_brief.pinned_cpu() == -1);
  });
  std::thread other([&] {
    while (!alone_done)
      std::this_thread::yield();
    {
      cpu_slots::lease mine{slots};
      let_go = true;
      while (!lane_holds)
        std::this_thread::yield();
      std::this_thread::sleep_for(3ms); // a long hold
    }
    // The lane holds the other slot: this one is the last, on another CPU.
    cpu_slots::lease mine{slots};
    CHECK(mine.pinned_cpu() >= 0);
    CHECK(mine.pinned_cpu() != lane_cpu);
  });
  lane.join();
  other.join();
}

TEST_CASE("the slots say when lanes hold every CPU", "[device]") {
  cpu_slots slots{{0, 1}};
  CHECK_FALSE(slots.all_held());
  {
    cpu_slots::lease one{slots};
    CHECK_FALSE(slots.all_held());
    {
      cpu_slots::lease two{slots};
      CHECK(slots.all_held());
    }
    CHECK_FALSE(slots.all_held());
  }
  CHECK_FALSE(cpu_slots{{}}.all_held()); // CPUs not known: never
}

TEST_CASE("the OpenCV lane matches a direct OpenCV DNN forward", "[device]") {
  for (auto name : {"tiny_cnn", "multi_io", "detector"}) {
    INFO(name);
    auto m = model::load(model_path(name));
    opencv_executor lane{*m};
    auto inputs = random_inputs(*m, 7);
    auto outputs = run(lane, *m, inputs);
    auto net = cv::dnn::readNetFromONNX(model_path(name));
    for (auto& in : inputs) {
      std::vector<int> dims(in.info().shape.begin(), in.info().shape.end());
      net.setInput(
        cv::Mat(int(dims.size()), dims.data(), CV_32F, in.bytes.data),
        in.info().name);
    }
    std::vector<cv::String> names;
    for (auto& o : m->outputs())
      names.push_back(o.name);
    std::vector<cv::Mat> expected;
    net.forward(expected, names);
    REQUIRE(outputs.size() == expected.size());
    for (size_t k = 0; k < outputs.size(); ++k) {
      CHECK(outputs[k].info().shape == m->outputs()[k].shape);
      REQUIRE(outputs[k].bytes.size == expected[k].total() * sizeof(float));
      auto* got = outputs[k].as<float>();
      auto* want = expected[k].ptr<float>();
      float max_diff = 0;
      for (size_t i = 0; i < expected[k].total(); ++i)
        max_diff = std::max(max_diff, std::abs(got[i] - want[i]));
      CHECK(max_diff <= 1e-5f);
    }
  }
}

TEST_CASE("outputs depend on the inputs (no constant results)", "[device]") {
  auto m = model::load(model_path("tiny_cnn"));
  opencv_executor lane{*m};
  auto before = now_ns();
  auto in = random_inputs(*m, 1);
  auto a = attach(m->output_metas(), {});
  auto started = lane.run(in, a);
  CHECK(started >= before); // after any wait for a slot
  CHECK(started <= now_ns());
  auto b = run(lane, *m, random_inputs(*m, 2));
  CHECK(std::memcmp(a[0].bytes.data, b[0].bytes.data, a[0].bytes.size) != 0);
}

TEST_CASE("the simulated NPU echoes input 0 and honours its latency",
          "[device]") {
  auto m = model::load(model_path("tiny_cnn"));
  simulated_executor sim{*m, simulated_settings::parse("20ms"), 0};
  CHECK(sim.is_simulated());
  auto inputs = random_inputs(*m, 3);
  auto start = std::chrono::steady_clock::now();
  auto out = run(sim, *m, inputs);
  CHECK(std::chrono::steady_clock::now() - start
        >= std::chrono::milliseconds(20));
  REQUIRE(out.size() == 1);
  CHECK(out[0].bytes.size == 40);
  CHECK(std::memcmp(out[0].bytes.data, inputs[0].bytes.data, 40) == 0);
  auto by_macs = simulated_settings::parse("1gmacs");
  CHECK(by_macs.gmacs_per_second == 1.0);
}

TEST_CASE("the simulated NPU runs a queued job when the one before it ends, "
          "however late its thread comes",
          "[device]") {
  auto m = model::load(model_path("tiny_cnn"));
  simulated_executor sim{*m, simulated_settings::parse("20ms"), 0};
  auto sent_at = [&](int64_t queued) {
    std::vector<job> jobs(1);
    jobs[0].inputs = random_inputs(*m, 1);
    jobs[0].outputs = attach(m->output_metas(), {});
    jobs[0].queued = queued;
    return jobs;
  };
  const int64_t ms = 1000000;
  auto sent = now_ns();
  auto first = sent_at(sent), second = sent_at(sent);
  sim.run_batch(first);
  CHECK(first[0].finished - first[0].started == 20 * ms);
  // Its thread comes 15 ms late; the device started the next at once.
  std::this_thread::sleep_for(std::chrono::milliseconds(15));
  sim.run_batch(second);
  CHECK(second[0].started == first[0].finished);
  CHECK(second[0].finished == first[0].finished + 20 * ms);
  CHECK(now_ns() >= second[0].finished); // never ahead of its model
  // One sent after the device fell idle starts when it is run.
  std::this_thread::sleep_for(std::chrono::milliseconds(5));
  auto late = sent_at(now_ns());
  auto before = now_ns();
  sim.run_batch(late);
  CHECK(late[0].started >= before);
  CHECK(late[0].finished - late[0].started == 20 * ms);
  // Without a sending time, as before: from when it is run.
  auto unknown = sent_at(0);
  before = now_ns();
  sim.run_batch(unknown);
  CHECK(unknown[0].started >= before);
}

TEST_CASE("simulated NPU faults: failures, a crash, a stall, on the cores "
          "named",
          "[device]") {
  auto m = model::load(model_path("tiny_cnn"));
  auto inputs = random_inputs(*m, 1);
  simulated_executor failing{*m, simulated_settings::parse(":fail=1"), 0};
  CHECK_THROWS_AS(run(failing, *m, inputs), DeviceIO);
  CHECK_THROWS_WITH(run(failing, *m, inputs), Catch::Contains("fail="));

  auto dying = simulated_settings::parse("1us:die_after=2:cores=1");
  simulated_executor spared{*m, dying, 0}, doomed{*m, dying, 1};
  for (int i = 0; i < 2; ++i)
    CHECK_NOTHROW(run(doomed, *m, inputs));
  CHECK_THROWS_AS(run(doomed, *m, inputs), lane_lost);
  for (int i = 0; i < 4; ++i)
    CHECK_NOTHROW(run(spared, *m, inputs));

  simulated_executor stalling{
    *m, simulated_settings::parse(":stall_after=1:stall_for=50ms"), 0};
  run(stalling, *m, inputs);
  auto start = std::chrono::steady_clock::now();
  run(stalling, *m, inputs);
  CHECK(std::chrono::steady_clock::now() - start
        >= std::chrono::milliseconds(50));

  for (auto bad : {"sim:1:1ms:fail=2", "sim:1:1ms:explode=1", "sim:1:1parsec",
                   "sim:1::cores=40", "sim:1::stall_for=5"})
    CHECK_THROWS_AS(parse_devices(bad), InvalidArgument);
}

TEST_CASE("device lists parse, and bad ones name the culprit", "[device]") {
  auto devs = parse_devices("cpu:3,sim:2:250us");
  REQUIRE(devs.size() == 2);
  CHECK(devs[0].kind == "cpu");
  CHECK(devs[0].cores == 3);
  CHECK(devs[1].param == "250us");
  CHECK(parse_devices("sim")[0].cores == 3);
  CHECK_THROWS_WITH(parse_devices("gpu:2"), Catch::Contains("'gpu'"));
  CHECK_THROWS_AS(parse_devices("cpu:0"), InvalidArgument);
  CHECK_THROWS_AS(parse_devices("cpu:x"), InvalidArgument);
  CHECK_THROWS_AS(parse_devices(""), InvalidArgument);
  auto m = model::load(model_path("tiny_cnn"));
  CHECK_THROWS_AS(make_executor({"sim", 1, "5parsecs"}, *m, {}),
                  InvalidArgument);
}

namespace {

/// Every backend kind this process can run.
std::vector<std::string> kinds() {
  std::vector<std::string> result{"cpu", "opencv", "sim"};
  if (ort_available())
    result.push_back("ort");
  else
    WARN("ONNX Runtime not available: " << ort_library::load_error());
  return result;
}

} // namespace

TEST_CASE("every registered backend honours the executor contract",
          "[device][conformance]") {
  for (auto& kind : kinds()) {
    for (auto name : {"tiny_cnn", "multi_io", "detector", "dynamic_batch"}) {
      INFO(kind << " " << name);
      auto m = model::load(model_path(name));
      auto lane = make_executor({kind, 1, ""}, *m, {});
      CHECK(lane->is_simulated() == (kind == "sim"));
      auto out = run(*lane, *m, random_inputs(*m, 5));
      REQUIRE(out.size() == m->outputs().size());
      for (size_t k = 0; k < out.size(); ++k) {
        CHECK(out[k].info().name == m->outputs()[k].name);
        CHECK(out[k].info().shape == m->outputs()[k].shape);
        CHECK(out[k].info().type == m->outputs()[k].type);
        CHECK(out[k].bytes.size == m->outputs()[k].byte_size());
      }
    }
  }
}

TEST_CASE("executors write into caller memory and run batches",
          "[device][conformance]") {
  for (auto& kind : kinds()) {
    INFO(kind);
    auto m = model::load(model_path("multi_io"));
    auto lane = make_executor({kind, 1, ""}, *m, {});
    auto reference = run(*lane, *m, random_inputs(*m, 9));
    // Caller buffers: written in place, no other memory.
    std::vector<blob> given;
    for (auto& meta : m->output_metas())
      given.push_back(blob::allocate(meta->byte_size()));
    auto outputs = attach(m->output_metas(), given);
    lane->run(random_inputs(*m, 9), outputs);
    for (size_t k = 0; k < given.size(); ++k) {
      CHECK(outputs[k].bytes.data == given[k].data);
      CHECK(std::memcmp(given[k].data, reference[k].bytes.data, given[k].size)
            == 0);
    }
    // The batch entry point: each job its own outputs and times.
    std::vector<job> jobs(3);
    for (unsigned i = 0; i < 3; ++i) {
      jobs[i].inputs = random_inputs(*m, 9);
      jobs[i].outputs = attach(m->output_metas(), {});
    }
    lane->run_batch(jobs);
    CHECK_FALSE(jobs[0].error);
    CHECK(jobs[0].started > 0);
    CHECK(jobs[0].finished >= jobs[0].started);
    CHECK(jobs[2].outputs[0].bytes.data != jobs[1].outputs[0].bytes.data);
    CHECK(std::memcmp(jobs[2].outputs[0].bytes.data, reference[0].bytes.data,
                      reference[0].bytes.size)
          == 0);
  }
}

TEST_CASE("operators OpenCV cannot run fail at load as InvalidModel",
          "[device]") {
  auto m = model::load(model_path("clip_opset13"));
  CHECK_THROWS_AS(opencv_executor{*m}, InvalidModel);
  CHECK_THROWS_WITH(opencv_executor{*m}, Catch::Contains("OpenCV DNN"));
  // The simulated NPU runs anything with declared shapes.
  CHECK_NOTHROW(simulated_executor{*m, {}, 0});
}

TEST_CASE("the ONNX Runtime lane matches the OpenCV lane", "[device][ort]") {
  if (!ort_available()) {
    WARN("skipped: " << ort_library::load_error());
    return;
  }
  for (auto name : {"tiny_cnn", "multi_io", "detector"}) {
    INFO(name);
    auto m = model::load(model_path(name));
    ort_executor ort{*m};
    opencv_executor cv{*m};
    CHECK(ort.name() == "onnxruntime");
    auto inputs = random_inputs(*m, 11);
    auto a = run(ort, *m, inputs);
    auto b = run(cv, *m, inputs);
    REQUIRE(a.size() == b.size());
    for (size_t k = 0; k < a.size(); ++k) {
      float max_diff = 0;
      for (size_t i = 0; i < a[k].info().element_count(); ++i)
        max_diff = std::max(
          max_diff, std::abs(a[k].as<float>()[i] - b[k].as<float>()[i]));
      CHECK(max_diff <= 1e-4f);
    }
  }
}

TEST_CASE("an ONNX Runtime error fails the job and the lane keeps serving",
          "[device][ort]") {
  if (!ort_available()) {
    WARN("skipped: " << ort_library::load_error());
    return;
  }
  auto m = model::load(model_path("tiny_cnn"));
  ort_executor lane{*m};
  auto bad = random_inputs(*m, 1);
  bad[0].bytes.size = 12; // fewer bytes than the declared shape needs
  auto outputs = attach(m->output_metas(), {});
  CHECK_THROWS_AS(lane.run(bad, outputs), DeviceIO);
  CHECK(run(lane, *m, random_inputs(*m, 2)).size() == 1);
}

TEST_CASE("a CPU lane falls back to the other backend per model",
          "[device][ort]") {
  auto m = model::load(model_path("clip_opset13")); // OpenCV 4.6 refuses it
  if (!ort_available()) {
    CHECK_THROWS_AS(make_executor({"cpu", 1, ""}, *m, {0, "opencv"}),
                    InvalidModel);
    return;
  }
  auto lane = make_executor({"cpu", 1, ""}, *m, {0, "opencv"});
  CHECK(lane->name() == "onnxruntime");
  CHECK(run(*lane, *m, random_inputs(*m, 3)).size() == 1);
  CHECK_THROWS_WITH(make_executor({"opencv", 1, ""}, *m, {}),
                    Catch::Contains("OpenCV DNN cannot run"));
  CHECK_THROWS_AS(make_executor({"cpu", 1, ""}, *m, {0, "tpu"}),
                  InvalidArgument);
}
