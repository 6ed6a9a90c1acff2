#include <catch2/catch.hpp>

#include <algorithm>
#include <atomic>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <future>
#include <map>
#include <mutex>
#include <set>
#include <thread>

#include <sched.h>
#include <unistd.h>

#include <nlohmann/json.hpp>
#include <opencv2/dnn.hpp>

#include "actorrt/inference_engine.hpp"
#include "actors/runtime.hpp"
#include "actors/runtime_cpus.hpp"
#include "core/cpu_contention.hpp"
#include "device/registry.hpp"
#include "device/simulated_executor.hpp"
#include "engine_on_runtime.hpp"
#include "models.hpp"

using namespace actorrt;
using actorrt::test::model_path;
using namespace std::chrono_literals;

namespace {

std::shared_ptr<runtime> make_runtime(const std::string& devices) {
  return std::make_shared<runtime>(parse_devices(devices));
}

/// An engine's state on `rt`: InferenceEngine ie{on(rt, path)}.
InferenceEngine::state_ptr on(std::shared_ptr<runtime> rt,
                              const std::string& path,
                              const InferenceOption& option = {},
                              EngineSettings settings = {}) {
  return open_engine(std::move(rt), path, option, std::move(settings));
}

/// A raw input whose first 8 bytes carry `key`; the simulated NPU echoes
/// them into the output, so an output names the input it came from.
blob keyed_input(size_t size, uint64_t key) {
  auto b = blob::allocate(size);
  std::memset(b.data, 0, size);
  std::memcpy(b.data, &key, sizeof key);
  return b;
}

/// Raises `peak` to `value` if that is higher (many threads may call it).
void raise_to(std::atomic<int>& peak, int value) {
  int seen = peak.load();
  while (value > seen && !peak.compare_exchange_weak(seen, value)) {
  }
}

uint64_t key_of(const tensors& outputs) {
  uint64_t key = 0;
  std::memcpy(&key, outputs.at(0).bytes.data, sizeof key);
  return key;
}

/// Fails every job whose key is a multiple of 10; a simulated NPU otherwise.
struct flaky_executor : simulated_executor {
  using simulated_executor::simulated_executor;
  int64_t run(const tensors& inputs, tensors& outputs) override {
    // Every sample's key: a batched call fails when any of its jobs would.
    auto& in = inputs.at(0);
    auto samples = size_t(in.info().shape[0]);
    for (size_t s = 0; s < samples; ++s) {
      uint64_t key = 0;
      std::memcpy(&key, in.bytes.data + s * (in.bytes.size / samples),
                  sizeof key);
      if (key % 10 == 0)
        throw std::runtime_error("injected fault for key "
                                 + std::to_string(key));
    }
    return simulated_executor::run(inputs, outputs);
  }
};

std::map<int, uint64_t> jobs_per_core(runtime& rt, int device = -1) {
  std::map<int, uint64_t> result;
  for (auto& c : rt.report())
    if (device < 0 || c.device == device)
      result[c.device * 100 + c.core] += c.jobs;
  return result;
}

} // namespace

TEST_CASE("Run equals a direct OpenCV DNN forward", "[engine]") {
  auto rt = make_runtime("cpu:3");
  InferenceEngine ie{on(rt, model_path("tiny_cnn"), {})};
  CHECK_FALSE(ie.IsSimulated());
  // One lane per core, on the backend the engine asked for.
  auto lanes = ie.GetLaneBackends();
  REQUIRE(lanes.size() == 3);
  CHECK(lanes[0] == (ort_available() ? "0:0 onnxruntime" : "0:0 opencv-dnn"));
  InferenceOption opencv;
  opencv.use_ort = false;
  InferenceEngine on_opencv{on(rt, model_path("tiny_cnn"), opencv)};
  CHECK(on_opencv.GetLaneBackends().at(2) == "0:2 opencv-dnn");
  std::vector<float> input(3 * 32 * 32);
  for (size_t i = 0; i < input.size(); ++i)
    input[i] = std::sin(0.01f * i);
  auto out = ie.Run(input.data(), input.size() * sizeof(float));
  auto net = cv::dnn::readNetFromONNX(model_path("tiny_cnn"));
  int dims[] = {1, 3, 32, 32};
  net.setInput(cv::Mat(4, dims, CV_32F, input.data()));
  cv::Mat expected = net.forward();
  REQUIRE(out.size() == 1);
  REQUIRE(out[0].bytes.size == 40);
  for (int i = 0; i < 10; ++i)
    CHECK(std::abs(out[0].as<float>()[i] - expected.ptr<float>()[i]) <= 1e-5);
  CHECK(ie.GetLatency().count == 1);
  CHECK(ie.GetNpuInferenceTime().count == 1);
  CHECK(ie.GetNpuInferenceTime().last <= ie.GetLatency().last);
}

TEST_CASE("10k jobs from 3 threads are answered exactly once", "[engine]") {
  auto rt = make_runtime("sim:3");
  InferenceEngine ie{on(rt, model_path("tiny_cnn"), {})};
  CHECK(ie.IsSimulated());
  constexpr uint64_t per_thread = 3334;
  std::mutex mtx;
  std::map<uint64_t, int> seen;
  std::atomic<int> mismatched{0};
  std::atomic<int> failed{0};
  ie.RegisterCallback([&](const tensors& out, void* arg, const failure& err) {
    if (err) {
      ++failed;
      return 0;
    }
    auto key = reinterpret_cast<uintptr_t>(arg);
    if (key_of(out) != key)
      ++mismatched;
    std::lock_guard<std::mutex> guard{mtx};
    ++seen[key];
    return 0;
  });
  std::vector<std::thread> threads;
  for (uint64_t t = 0; t < 3; ++t)
    threads.emplace_back([&, t] {
      for (uint64_t i = 0; i < per_thread; ++i) {
        uint64_t key = t * 1000000 + i + 1;
        ie.RunAsync({keyed_input(ie.GetInputSize(), key)},
                    reinterpret_cast<void*>(key));
      }
    });
  for (auto& t : threads)
    t.join();
  auto latency = ie.GetLatency();
  CHECK(latency.count + 6 >= 3 * per_thread); // at most 6 still in flight
  for (int i = 0; i < 1000 && ie.GetStats().in_flight != 0; ++i)
    std::this_thread::sleep_for(10ms);
  CHECK(ie.Dispose() == 0); // all ended: nothing to cancel
  CHECK_THROWS_AS(ie.GetLatency(), InvalidOperation);
  CHECK(failed == 0);
  CHECK(mismatched == 0);
  CHECK(seen.size() == 3 * per_thread);
  bool all_once = true;
  for (auto& [key, n] : seen)
    all_once = all_once && n == 1;
  CHECK(all_once);
}

TEST_CASE("bound option NPU_1 runs every job on core 1", "[engine]") {
  auto rt = make_runtime("sim:3");
  InferenceOption opt;
  opt.bound = bound_option::npu_1;
  InferenceEngine ie{on(rt, model_path("tiny_cnn"), opt)};
  std::vector<uint64_t> ids;
  for (int i = 0; i < 30; ++i)
    ids.push_back(ie.RunAsync({blob::allocate(ie.GetInputSize())}));
  for (auto id : ids)
    ie.Wait(id);
  auto counts = jobs_per_core(*rt);
  CHECK(counts[0] == 0);
  CHECK(counts[1] == 30);
  CHECK(counts[2] == 0);
}

TEST_CASE("NPU_ALL spreads jobs over every core", "[engine]") {
  auto rt = make_runtime("sim:3:2ms");
  InferenceEngine ie{on(rt, model_path("tiny_cnn"), {})};
  std::vector<uint64_t> ids;
  for (int i = 0; i < 60; ++i)
    ids.push_back(ie.RunAsync({blob::allocate(ie.GetInputSize())}));
  for (auto id : ids)
    ie.Wait(id);
  for (auto& [core, n] : jobs_per_core(*rt)) {
    INFO("core " << core);
    CHECK(n >= 10);
  }
}

TEST_CASE("devices restricts an engine to the listed devices", "[engine]") {
  auto rt = make_runtime("sim:3,sim:3");
  InferenceOption opt;
  opt.devices = {1};
  InferenceEngine ie{on(rt, model_path("tiny_cnn"), opt)};
  CHECK(ie.GetMaxInFlight() == 6);
  for (int i = 0; i < 20; ++i)
    ie.Run({blob::allocate(ie.GetInputSize())});
  uint64_t on_device_1 = 0;
  for (auto& c : rt->report()) {
    if (c.device == 0)
      CHECK(c.jobs == 0);
    else
      on_device_1 += c.jobs;
  }
  CHECK(on_device_1 == 20);
  opt.devices = {5};
  CHECK_THROWS_AS(InferenceEngine(on(rt, model_path("tiny_cnn"), opt)),
                  InvalidArgument);
  InferenceEngine both{on(rt, model_path("tiny_cnn"), {})};
  CHECK(both.GetMaxInFlight() == 12);
}

TEST_CASE("Wait times out, and the job stays waitable", "[engine]") {
  auto rt = make_runtime("sim:1:300ms");
  InferenceEngine ie{on(rt, model_path("tiny_cnn"), {})};
  auto id = ie.RunAsync({blob::allocate(ie.GetInputSize())});
  CHECK_THROWS_AS(ie.Wait(id, 10ms), Timeout);
  CHECK(ie.Wait(id, 5000ms).size() == 1);
}

TEST_CASE("Wait on unknown or finished ids says so", "[engine]") {
  auto rt = make_runtime("sim:3");
  InferenceEngine ie{on(rt, model_path("tiny_cnn"), {})};
  CHECK_THROWS_AS(ie.Wait(12345), InvalidArgument);
  auto id = ie.RunAsync({blob::allocate(ie.GetInputSize())});
  ie.Wait(id);
  CHECK_THROWS_WITH(ie.Wait(id), Catch::Contains("already waited"));
}

TEST_CASE("bad inputs are rejected and the engine keeps serving", "[engine]") {
  auto rt = make_runtime("cpu:2");
  InferenceEngine ie{on(rt, model_path("tiny_cnn"), {})};
  CHECK_THROWS_AS(ie.RunAsync({blob::allocate(1)}), InvalidArgument);
  CHECK_THROWS_WITH(ie.Run({blob::allocate(12287)}),
                    Catch::Contains("12287") && Catch::Contains("12288"));
  CHECK(ie.Run({blob::allocate(ie.GetInputSize())}).size() == 1);
}

TEST_CASE("bad models fail the constructor with typed errors", "[engine]") {
  auto rt = make_runtime("cpu:2");
  CHECK_THROWS_AS(InferenceEngine(on(rt, "/no/such.onnx", {})), FileNotFound);
  // A model OpenCV DNN cannot run, on a device with no other backend.
  CHECK_THROWS_AS(InferenceEngine(on(make_runtime("opencv:1"),
                                     model_path("clip_opset13"), {})),
                  InvalidModel);
  InferenceOption bad;
  bad.buffer_count = 0;
  CHECK_THROWS_AS(InferenceEngine(on(rt, model_path("tiny_cnn"), bad)),
                  InvalidArgument);
  // The runtime still serves other engines after those failures.
  InferenceEngine ie{on(rt, model_path("tiny_cnn"), {})};
  CHECK(ie.Run({blob::allocate(ie.GetInputSize())}).size() == 1);
}

TEST_CASE("Dispose lets running jobs finish, cancels the rest, then refuses "
          "calls",
          "[engine]") {
  auto rt = make_runtime("sim:3:200ms");
  InferenceOption one_each;
  one_each.max_batch_size = 1;
  InferenceEngine ie{on(rt, model_path("tiny_cnn"), one_each)};
  std::atomic<int> ended{0}, ok{0};
  ie.RegisterCallback([&](const tensors&, void*, const failure& e) {
    ++ended;
    ok += !e;
    return 0;
  });
  for (int i = 0; i < 6; ++i)
    ie.RunAsync({blob::allocate(ie.GetInputSize())});
  std::this_thread::sleep_for(60ms); // three cores took one each
  CHECK(ie.Dispose() == 3);
  CHECK(ended == 6);
  CHECK(ok == 3);
  CHECK(ie.Dispose() == 0); // idempotent
  CHECK_THROWS_AS(ie.RunAsync({blob::allocate(ie.GetInputSize())}),
                  InvalidOperation);
  CHECK_THROWS_AS(ie.Wait(1), InvalidOperation);
}

TEST_CASE("Dispose past its deadline cancels what is left, once each",
          "[engine]") {
  auto rt = make_runtime("sim:1:400ms");
  EngineSettings s;
  s.dispose_timeout = 50ms;
  InferenceEngine ie{on(rt, model_path("tiny_cnn"), {}, s)};
  std::atomic<int> cancelled{0}, ok{0};
  ie.RegisterCallback([&](const tensors&, void*, const failure& err) {
    (err.code == errc::cancelled ? cancelled : ok)++;
    return 0;
  });
  for (int i = 0; i < 3; ++i)
    ie.RunAsync({blob::allocate(ie.GetInputSize())});
  CHECK(ie.Dispose() == 3);
  CHECK(cancelled == 3);
  std::this_thread::sleep_for(500ms); // the core finishes the first one late
  CHECK(ok == 0);
  CHECK(cancelled == 3);
}

TEST_CASE("executor faults fail their jobs only", "[engine]") {
  register_backend(
    "flaky", [](const model& m, const device_spec&, const lane_request&) {
      return std::unique_ptr<executor>(new flaky_executor(m, {}, 0));
    });
  auto rt = make_runtime("flaky:3");
  InferenceEngine ie{on(rt, model_path("tiny_cnn"), {})};
  std::vector<uint64_t> ids;
  for (uint64_t key = 1; key <= 100; ++key)
    ids.push_back(ie.RunAsync({keyed_input(ie.GetInputSize(), key)}));
  int errors = 0, good = 0;
  for (uint64_t i = 0; i < ids.size(); ++i) {
    try {
      auto out = ie.Wait(ids[i]);
      CHECK(key_of(out) == i + 1);
      ++good;
    } catch (const DeviceIO& e) {
      CHECK_THAT(e.what(), Catch::Contains("injected fault"));
      CHECK((i + 1) % 10 == 0);
      ++errors;
    }
  }
  CHECK(errors == 10);
  CHECK(good == 90);
}

TEST_CASE("callback and Wait both see the same job", "[engine]") {
  auto rt = make_runtime("sim:3");
  InferenceEngine ie{on(rt, model_path("tiny_cnn"), {})};
  std::mutex mtx;
  std::map<uint64_t, const uint8_t*> from_callback;
  ie.RegisterCallback([&](const tensors& out, void* arg, const failure&) {
    std::lock_guard<std::mutex> guard{mtx};
    from_callback[reinterpret_cast<uintptr_t>(arg)] = out[0].bytes.data;
    return 0;
  });
  std::vector<uint64_t> ids;
  for (uint64_t key = 1; key <= 20; ++key)
    ids.push_back(ie.RunAsync({keyed_input(ie.GetInputSize(), key)},
                              reinterpret_cast<void*>(key)));
  for (uint64_t i = 0; i < ids.size(); ++i) {
    auto out = ie.Wait(ids[i]);
    CHECK(key_of(out) == i + 1);
    std::lock_guard<std::mutex> guard{mtx};
    CHECK(from_callback.at(i + 1) == out[0].bytes.data); // same buffer
  }
}

namespace {

/// Waits for each of `ids`: how many still had a result. The others must
/// fail saying `why`.
size_t still_waitable(InferenceEngine& ie, const std::vector<uint64_t>& ids,
                      const std::string& why) {
  size_t kept = 0;
  for (auto id : ids)
    try {
      auto out = ie.Wait(id);
      CHECK(out.at(0).bytes.size == ie.GetOutputSize());
      ++kept;
    } catch (const InvalidArgument& e) {
      CHECK_THAT(e.what(), Catch::Contains(why));
    }
  return kept;
}

/// An engine of `model` on simulated cores, with `s`'s retention bounds.
InferenceEngine::state_ptr retaining(const std::string& model,
                                     EngineSettings s) {
  return on(make_runtime("sim:3"), model_path(model), {}, std::move(s));
}

/// Submits `n` jobs nobody waits for yet: their ids.
std::vector<uint64_t> submit(InferenceEngine& ie, int n) {
  auto input = blob::allocate(ie.GetInputSize());
  std::vector<uint64_t> ids;
  for (int i = 0; i < n; ++i)
    ids.push_back(ie.RunAsync({input}));
  return ids;
}

/// Waits (10 s at most) until every job `ie` took has ended.
void until_all_ended(InferenceEngine& ie) {
  for (int i = 0; i < 1000 && ie.GetStats().in_flight != 0; ++i)
    std::this_thread::sleep_for(10ms);
  REQUIRE(ie.GetStats().in_flight == 0);
}

} // namespace

TEST_CASE("unwaited results are released past the retention window",
          "[engine]") {
  EngineSettings s;
  s.retention = 16;
  InferenceEngine ie{retaining("tiny_cnn", s)};
  ie.RegisterCallback([](const tensors&, void*, const failure&) { return 0; });
  auto ids = submit(ie, 500);
  CHECK_NOTHROW(ie.Wait(ids.back()));
  CHECK(ie.GetHeldResults() <= 16);
  CHECK_THROWS_WITH(ie.Wait(ids.front()), Catch::Contains("released"));
  CHECK_NOTHROW(ie.Wait(ids[ids.size() - 2]));
}

TEST_CASE("without a callback, unwaited results are kept to a count bound",
          "[engine]") {
  EngineSettings s;
  s.retention_without_callback = 16;
  InferenceEngine ie{retaining("tiny_cnn", s)};
  auto ids = submit(ie, 100);
  until_all_ended(ie);
  // Before the bound, all 100 were held until waited for.
  CHECK(ie.GetHeldResults() == 16);
  CHECK(still_waitable(ie, ids, "newest 16 and") == 16);
}

TEST_CASE("unwaited results of several MB are released past a byte bound",
          "[engine]") {
  EngineSettings s;
  s.retention_bytes = size_t(15) << 20; // three outputs of 4.9 MB
  InferenceEngine ie{retaining("mask_640", s)};
  ie.RegisterCallback([](const tensors&, void*, const failure&) { return 0; });
  auto ids = submit(ie, 60);
  until_all_ended(ie);
  // Without the byte bound all 60 (294 MB) would still be held.
  auto held = ie.GetHeldResults();
  CHECK((held >= 1 && held <= 3));
  CHECK(still_waitable(ie, ids, "15 MiB") == held);
  CHECK(ie.GetHeldResults() == 0);
}

namespace {

/// Holds every job until the test opens the gate; counts jobs started.
struct gated_executor : simulated_executor {
  static inline std::mutex mtx;
  static inline std::condition_variable cv;
  static inline bool open = true;
  static inline int started = 0;

  gated_executor(const model& m) : simulated_executor(m, {}, 0) {}
  int64_t run(const tensors& inputs, tensors& outputs) override {
    std::unique_lock<std::mutex> guard{mtx};
    ++started;
    cv.notify_all();
    cv.wait(guard, [] { return open; });
    return simulated_executor::run(inputs, outputs);
  }
  static void set(bool is_open) {
    std::lock_guard<std::mutex> guard{mtx};
    open = is_open;
    cv.notify_all();
  }
  static void wait_started(int n) {
    std::unique_lock<std::mutex> guard{mtx};
    cv.wait(guard, [n] { return started >= n; });
  }
};

} // namespace

TEST_CASE("a core that dies fails its jobs, the others keep serving",
          "[engine]") {
  register_backend("gated",
                   [](const model& m, const device_spec&, const lane_request&) {
                     return std::unique_ptr<executor>(new gated_executor(m));
                   });
  auto rt = make_runtime("gated:3");
  InferenceEngine ie{on(rt, model_path("tiny_cnn"), {})};
  InferenceOption only0;
  only0.bound = bound_option::npu_0;
  InferenceEngine on0{on(rt, model_path("tiny_cnn"), only0)};
  // Core 0:0 runs one job (held at the gate) while a second waits in its
  // mailbox; then the core dies.
  gated_executor::set(false);
  auto running = on0.RunAsync({blob::allocate(on0.GetInputSize())});
  gated_executor::wait_started(1);
  auto waiting = on0.RunAsync({blob::allocate(on0.GetInputSize())});
  while (jobs_per_core(*rt)[0] < 2)
    std::this_thread::sleep_for(1ms);
  rt->kill_core(0, 0);
  gated_executor::set(true);
  CHECK(on0.Wait(running, 5000ms).size() == 1); // it finishes what it runs
  CHECK_THROWS_WITH(on0.Wait(waiting, 5000ms), Catch::Contains("NPU core 0:0"));
  CHECK_THROWS_AS(on0.Run({blob::allocate(on0.GetInputSize())}), DeviceIO);
  auto report = rt->report();
  CHECK_FALSE(report[0].alive);
  for (int i = 0; i < 10; ++i)
    CHECK(ie.Run({blob::allocate(ie.GetInputSize())}).size() == 1);
  CHECK_THROWS_AS(InferenceEngine(on(rt, model_path("tiny_cnn"), only0)),
                  InvalidArgument);
}

TEST_CASE("RunBatch fills the caller's buffers in order", "[engine]") {
  auto rt = make_runtime("sim:3");
  InferenceEngine ie{on(rt, model_path("tiny_cnn"), {})};
  std::vector<std::vector<blob>> in, out;
  for (uint64_t key = 1; key <= 8; ++key) {
    in.push_back({keyed_input(ie.GetInputSize(), key)});
    out.push_back({blob::allocate(ie.GetOutputSize())});
  }
  ie.RunBatch(in, out);
  for (uint64_t i = 0; i < 8; ++i) {
    uint64_t key;
    std::memcpy(&key, out[i][0].data, sizeof key);
    CHECK(key == i + 1);
  }
  out[3] = {blob::allocate(1)};
  CHECK_THROWS_AS(ie.RunBatch(in, out), InvalidArgument);
}

TEST_CASE("callbacks may submit follow-up jobs without deadlock", "[engine]") {
  auto rt = make_runtime("sim:1");
  InferenceOption opt;
  opt.buffer_count = 1; // every callback runs while its engine is "full"
  InferenceEngine ie{on(rt, model_path("tiny_cnn"), opt)};
  std::atomic<int> chained{0};
  std::atomic<bool> wait_refused{false};
  std::promise<void> all_done;
  ie.RegisterCallback([&](const tensors&, void* arg, const failure&) {
    auto step = reinterpret_cast<uintptr_t>(arg);
    if (step < 20) {
      auto next = ie.RunAsync({blob::allocate(ie.GetInputSize())},
                              reinterpret_cast<void*>(step + 1));
      try {
        ie.Wait(next); // not finished yet: refused, not a deadlock
      } catch (const InvalidOperation&) {
        wait_refused = true;
      }
    }
    if (++chained == 20)
      all_done.set_value();
    return 0;
  });
  ie.RunAsync({blob::allocate(ie.GetInputSize())}, reinterpret_cast<void*>(1));
  REQUIRE(all_done.get_future().wait_for(10s) == std::future_status::ready);
  CHECK(wait_refused);
}

TEST_CASE("Dispose racing submitters: every accepted job ends once",
          "[engine]") {
  for (int round = 0; round < 5; ++round) {
    // Six jobs in flight on one 10 ms core outlast the 3 ms dispose
    // timeout: some end by cancellation, the rest normally.
    auto rt = make_runtime("sim:1:10ms");
    EngineSettings s;
    s.dispose_timeout = 3ms;
    InferenceEngine ie{on(rt, model_path("tiny_cnn"), {}, s)};
    std::mutex mtx;
    std::map<uint64_t, int> ended;
    ie.RegisterCallback([&](const tensors&, void* arg, const failure&) {
      std::lock_guard<std::mutex> guard{mtx};
      ++ended[reinterpret_cast<uintptr_t>(arg)];
      return 0;
    });
    std::atomic<uint64_t> accepted{0};
    std::vector<std::thread> threads;
    for (uint64_t t = 0; t < 3; ++t)
      threads.emplace_back([&, t] {
        for (uint64_t i = 1;; ++i) {
          try {
            ie.RunAsync({blob::allocate(ie.GetInputSize())},
                        reinterpret_cast<void*>(t << 32 | i));
            ++accepted;
          } catch (const InvalidOperation&) {
            return; // disposed
          }
        }
      });
    while (accepted < 8) // some ended normally, six are in flight
      std::this_thread::sleep_for(1ms);
    CHECK(ie.Dispose() > 0);
    for (auto& t : threads)
      t.join();
    std::lock_guard<std::mutex> guard{mtx};
    CHECK(ended.size() == accepted);
    bool once = true;
    for (auto& [arg, n] : ended)
      once = once && n == 1;
    CHECK(once);
  }
}

TEST_CASE("outputs go into caller buffers when given", "[engine]") {
  auto rt = make_runtime("sim:3");
  InferenceEngine ie{on(rt, model_path("multi_io"), {})};
  auto raw = blob::allocate(ie.GetOutputSize());
  auto out = ie.Run({keyed_input(ie.GetInputSize(), 5)}, {raw});
  REQUIRE(out.size() == 2);
  CHECK(out[0].bytes.data == raw.data);
  CHECK(out[1].bytes.data == raw.data + out[0].bytes.size);
  CHECK(key_of(out) == 5);
  // One buffer per output works too; wrong sizes are refused up front.
  std::vector<blob> per_output{blob::allocate(ie.GetOutputs()[0].byte_size()),
                               blob::allocate(ie.GetOutputs()[1].byte_size())};
  auto id = ie.RunAsync({keyed_input(ie.GetInputSize(), 6)}, nullptr, nullptr,
                        per_output);
  CHECK(ie.Wait(id)[1].bytes.data == per_output[1].data);
  CHECK_THROWS_AS(ie.RunAsync({keyed_input(ie.GetInputSize(), 7)}, nullptr,
                              nullptr, {blob::allocate(3)}),
                  InvalidArgument);
}

namespace {

/// Counts how many jobs run on the device at once.
struct counting_executor : simulated_executor {
  static inline std::atomic<int> running{0}, peak{0};
  counting_executor(const model& m)
    : simulated_executor(m, simulated_settings::parse("2ms"), 0) {}
  int64_t run(const tensors& inputs, tensors& outputs) override {
    // Samples, not calls: a batched call runs several jobs at once.
    int samples = int(inputs.front().info().shape[0]);
    raise_to(peak, running += samples);
    auto started = simulated_executor::run(inputs, outputs);
    running -= samples;
    return started;
  }
};

} // namespace

TEST_CASE("engines sharing a device share its max load", "[engine]") {
  register_backend("counting",
                   [](const model& m, const device_spec&, const lane_request&) {
                     return std::unique_ptr<executor>(new counting_executor(m));
                   });
  auto rt = make_runtime("counting:3");
  InferenceOption opt;
  opt.buffer_count = 2;
  InferenceEngine a{on(rt, model_path("tiny_cnn"), opt)};
  InferenceEngine b{on(rt, model_path("tiny_cnn"), opt)};
  std::vector<std::thread> threads;
  for (auto* ie : {&a, &b})
    threads.emplace_back([ie] {
      std::vector<uint64_t> ids;
      for (int i = 0; i < 30; ++i)
        ids.push_back(ie->RunAsync({blob::allocate(ie->GetInputSize())}));
      for (auto id : ids)
        ie->Wait(id);
    });
  for (auto& t : threads)
    t.join();
  // Three cores, but never more than buffer_count jobs on the device.
  CHECK(counting_executor::peak == 2);
}

TEST_CASE("jobs in flight never exceed buffer_count", "[engine]") {
  register_backend("counting",
                   [](const model& m, const device_spec&, const lane_request&) {
                     return std::unique_ptr<executor>(new counting_executor(m));
                   });
  counting_executor::peak = 0;
  auto rt = make_runtime("counting:3");
  InferenceOption opt;
  opt.buffer_count = 2;
  InferenceEngine ie{on(rt, model_path("tiny_cnn"), opt)};
  std::atomic<int> ended{0};
  ie.RegisterCallback([&](const tensors&, void*, const failure&) {
    ++ended;
    return 0;
  });
  std::vector<std::thread> threads;
  for (int t = 0; t < 3; ++t)
    threads.emplace_back([&] {
      for (int i = 0; i < 20; ++i)
        ie.RunAsync({blob::allocate(ie.GetInputSize())});
    });
  for (auto& t : threads)
    t.join();
  CHECK(ie.GetPeakInFlight() == 2);
  ie.Dispose();
  CHECK(ended == 60);
  // Counted where jobs run: three cores, never more than two jobs at once.
  CHECK(counting_executor::peak == 2);
}

TEST_CASE("a model with a dynamic batch axis runs the batch it is given",
          "[engine]") {
  for (auto devices : {"cpu:2", "sim:2"}) {
    INFO(devices);
    auto rt = make_runtime(devices);
    InferenceEngine ie{on(rt, model_path("dynamic_batch"), {})};
    std::vector<float> x(4 * 6);
    for (size_t i = 0; i < x.size(); ++i)
      x[i] = float(i) - 10;
    auto out = ie.Run(x.data(), x.size() * sizeof(float));
    REQUIRE(out.size() == 1);
    CHECK(out[0].info().shape == std::vector<int64_t>{4, 6});
    REQUIRE(out[0].bytes.size == x.size() * sizeof(float));
    if (!ie.IsSimulated())
      for (size_t i = 0; i < x.size(); ++i)
        CHECK(out[0].as<float>()[i] == std::max(x[i], 0.0f));
    // Batch 1 still works, and a partial sample is refused.
    CHECK(ie.Run(x.data(), 6 * sizeof(float))[0].info().shape
          == std::vector<int64_t>{1, 6});
    CHECK_THROWS_AS(ie.Run(x.data(), 7 * sizeof(float)), InvalidArgument);
  }
}

TEST_CASE("an interrupted Run gives its job up: it still ends, nothing is "
          "held",
          "[engine]") {
  auto rt = make_runtime("sim:1:1000ms");
  EngineSettings settings;
  std::atomic<int> polls{0};
  settings.interrupt = [&polls] {
    if (++polls == 2)
      throw std::runtime_error("interrupted");
  };
  InferenceEngine ie{on(rt, model_path("tiny_cnn"), {}, settings)};
  auto in = keyed_input(ie.GetInputSize(), 1);
  auto start = std::chrono::steady_clock::now();
  CHECK_THROWS_WITH(ie.Run({in}), "interrupted");
  CHECK(std::chrono::steady_clock::now() - start < 900ms);
  // The job goes on and ends once; its result is dropped, not held.
  CHECK(ie.Dispose() == 0);
  CHECK(polls >= 2);
}

TEST_CASE("Dispose inside a callback while another Dispose runs returns at "
          "once; Dispose is bounded while a callback blocks",
          "[engine]") {
  auto rt = make_runtime("sim:1");
  InferenceEngine ie{on(rt, model_path("tiny_cnn"), {})};
  std::promise<void> entered;
  std::atomic<bool> inner_returned{false};
  ie.RegisterCallback([&](const tensors&, void*, const failure&) {
    entered.set_value();
    std::this_thread::sleep_for(300ms); // the outer Dispose is under way
    ie.Dispose();                       // must not wait for this callback
    inner_returned = true;
    std::this_thread::sleep_for(1500ms);
    return 0;
  });
  ie.RunAsync({keyed_input(ie.GetInputSize(), 1)});
  entered.get_future().wait();
  auto start = std::chrono::steady_clock::now();
  ie.Dispose(500ms);
  auto took = std::chrono::steady_clock::now() - start;
  CHECK(took < 1200ms); // not the callback's 1.8 s
  std::this_thread::sleep_for(400ms);
  CHECK(inner_returned);
}

TEST_CASE("Run inside a callback is refused before a job is made", "[engine]") {
  auto rt = make_runtime("sim:1");
  InferenceEngine ie{on(rt, model_path("tiny_cnn"), {})};
  std::promise<std::string> said;
  ie.RegisterCallback([&](const tensors&, void*, const failure&) {
    try {
      ie.Run({keyed_input(ie.GetInputSize(), 2)});
      said.set_value("ran");
    } catch (const InvalidOperation& e) {
      said.set_value(e.what());
    }
    return 0;
  });
  auto id = ie.RunAsync({keyed_input(ie.GetInputSize(), 1)});
  CHECK_THAT(said.get_future().get(), Catch::Contains("inside a callback"));
  ie.Wait(id);
  CHECK(ie.GetPeakInFlight() == 1); // the refused Run opened no job
}

TEST_CASE("a trace holds every stage of every job recorded, once",
          "[engine][trace]") {
  auto rt = make_runtime("sim:2");
  InferenceEngine ie{on(rt, model_path("tiny_cnn"), {})};
  std::atomic<int> called{0};
  ie.RegisterCallback([&](const tensors&, void*, const failure&) {
    ++called;
    return 0;
  });
  auto path = std::string(ACTORRT_MODEL_DIR) + "/../engine_test_trace.json";
  StartTrace(path);
  std::vector<uint64_t> ids;
  for (int i = 0; i < 50; ++i)
    ids.push_back(ie.RunAsync({keyed_input(ie.GetInputSize(), uint64_t(i))}));
  for (auto id : ids)
    ie.Wait(id);
  CHECK(StopTrace() == 50);
  CHECK(StopTrace() == 0); // stopped
  ie.Wait(ie.RunAsync({keyed_input(ie.GetInputSize(), 99)}));
  std::ifstream in(path);
  auto doc = nlohmann::json::parse(in);
  std::map<std::string, std::set<uint64_t>> jobs_per_stage;
  std::map<std::string, int> events_per_stage;
  for (auto& e : doc["traceEvents"])
    if (e["ph"] == "X") {
      jobs_per_stage[e["name"]].insert(e["args"]["job"].get<uint64_t>());
      ++events_per_stage[e["name"]];
    }
  for (auto stage :
       {"submitted", "dispatched", "compute", "delivered", "callback"}) {
    CHECK(jobs_per_stage[stage].size() == 50);
    CHECK(events_per_stage[stage] == 50);
  }
  CHECK_THROWS_AS(StartTrace("/nonexistent/dir/t.json"), InvalidArgument);
}

namespace {

/// Name and allowed CPUs ("0-1") of each thread of this process.
std::vector<std::pair<std::string, std::string>> thread_cpus() {
  std::vector<std::pair<std::string, std::string>> threads;
  for (auto& task : std::filesystem::directory_iterator("/proc/self/task")) {
    std::ifstream status{task.path() / "status"};
    std::string line, name, cpus;
    while (std::getline(status, line)) {
      if (line.rfind("Name:\t", 0) == 0)
        name = line.substr(6);
      if (line.rfind("Cpus_allowed_list:\t", 0) == 0)
        cpus = line.substr(19);
    }
    threads.emplace_back(name, cpus);
  }
  return threads;
}

/// Sets an environment variable for one scope.
struct scoped_env {
  scoped_env(const char* name, const std::string& value) : name_(name) {
    ::setenv(name, value.c_str(), 1);
  }
  ~scoped_env() {
    ::unsetenv(name_);
  }
  const char* name_;
};

} // namespace

TEST_CASE("ACTORRT_RUNTIME_CPUS keeps the runtime's threads there, and a "
          "lane beside them, only while jobs come one at a time",
          "[engine]") {
  cpu_set_t set;
  REQUIRE(::sched_getaffinity(0, sizeof set, &set) == 0);
  if (CPU_COUNT(&set) < 2)
    return; // nothing to tell apart on one CPU
  int last = 0;
  for (int c = 0; c < CPU_SETSIZE; ++c)
    if (CPU_ISSET(c, &set))
      last = c;
  auto whole = thread_cpus().front().second; // the main thread's
  auto kept = std::to_string(last);
  /// CPU lanes of device 0 on the runtime's CPU and on all.
  auto lanes = [&] {
    std::pair<int, int> beside_and_free{0, 0};
    for (auto& [name, cpus] : thread_cpus())
      if (name == "lane 0:0" || name == "lane 0:1") {
        beside_and_free.first += cpus == kept;
        beside_and_free.second += cpus == whole;
      }
    return beside_and_free;
  };
  /// The runtime's own threads (CAF's, and the simulated core's, which
  /// only hands jobs on) on the runtime's CPU and on all.
  auto runtime_threads = [&] {
    std::pair<int, int> kept_and_free{0, 0};
    for (auto& [name, cpus] : thread_cpus())
      if (name == "lane 1:0" || name.rfind("caf.", 0) == 0) {
        kept_and_free.first += cpus == kept;
        kept_and_free.second += cpus == whole;
      }
    return kept_and_free;
  };
  {
    scoped_env cpus{"ACTORRT_RUNTIME_CPUS", kept};
    auto rt = make_runtime("cpu:2,sim:1");
    InferenceOption on_lanes;
    on_lanes.devices = {0};
    InferenceEngine ie{on(rt, model_path("tiny_cnn"), on_lanes)};
    std::vector<float> input(3 * 32 * 32, 0.5f);
    CHECK(lanes() == std::make_pair(0, 2)); // CPU lanes compute: every CPU
    CHECK(runtime_threads().first == 0);    // nothing kept before any job
    // A caller's Runs with a moment between them: back to back, the
    // scheduler may hear a core's answer only after the next Run when other
    // test processes hold the CPUs, and the Runs do not count as lone.
    for (int i = 0; i < 20; ++i) {
      CHECK(ie.Run(input.data(), input.size() * sizeof(float)).size() == 1);
      std::this_thread::sleep_for(1ms);
    }
    // Lone Runs: the runtime's threads, and the lane that ran them, sit on
    // the runtime's CPU; the caller keeps its own. Not where other tasks
    // held the CPUs meanwhile: the scheduler then sleeps instead of
    // polling, with the same effect as back-to-back Runs.
    if (cpus_contended()) {
      WARN("the CPUs were contended: lone-Run placement not checked");
    } else {
      CHECK(lanes() == std::make_pair(1, 1));
      CHECK(runtime_threads().first >= 4); // CAF's workers, engine, sim core
      CHECK(runtime_threads().second == 0);
    }
    CHECK(thread_cpus().front().second == whole);
    // Jobs that overlap: every thread goes wherever it can again.
    std::vector<uint64_t> ids;
    for (int i = 0; i < 300; ++i)
      ids.push_back(ie.RunAsync({blob::allocate(ie.GetInputSize())}));
    for (auto id : ids)
      CHECK(ie.Wait(id).size() == 1);
    CHECK(lanes() == std::make_pair(0, 2));
    CHECK(runtime_threads().first == 0);
    CHECK(runtime_threads().second >= 4);
  }
  for (auto bad : {"x", "-1", "0,", "1.5", "99999"}) {
    scoped_env cpus{"ACTORRT_RUNTIME_CPUS", bad};
    CHECK_THROWS_AS(make_runtime("sim:1"), InvalidArgument);
  }
}

TEST_CASE("runtime processes claim different CPUs for their threads, until "
          "none is left",
          "[engine]") {
  cpu_set_t set;
  REQUIRE(::sched_getaffinity(0, sizeof set, &set) == 0);
  auto dir = std::filesystem::temp_directory_path()
             / ("actorrt_claims_" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  // Each claim holds its lock file as another process's would.
  std::vector<int> claimed;
  for (int c = claim_cpu(dir); c >= 0; c = claim_cpu(dir))
    claimed.push_back(c);
  REQUIRE(int(claimed.size()) == CPU_COUNT(&set));
  CHECK(std::is_sorted(claimed.rbegin(), claimed.rend())); // highest first
  for (int c : claimed)
    CHECK(CPU_ISSET(c, &set));
  std::filesystem::remove_all(dir);
  {
    scoped_env off{"ACTORRT_RUNTIME_CPUS", "off"};
    CHECK(runtime_cpus_from_environment().empty());
  }
  ::unsetenv("ACTORRT_RUNTIME_CPUS"); // the default: auto
  auto cpus = runtime_cpus_from_environment();
  int n = CPU_COUNT(&set);
  if (n < 2 || n >= auto_below_cpus)
    CHECK(cpus.empty());
  CHECK(cpus.size() <= 1); // one, unless other processes hold them all
  for (int c : cpus)
    CHECK(CPU_ISSET(c, &set));
}
