// What a caller may say about a job: a deadline for a core to start it, a
// priority, and cancellation; every job still ends exactly once.
#include <catch2/catch.hpp>

#include <atomic>
#include <cstring>
#include <map>
#include <mutex>
#include <thread>

#include "actorrt/inference_engine.hpp"
#include "actors/runtime.hpp"
#include "device/registry.hpp"
#include "engine_on_runtime.hpp"
#include "models.hpp"

using namespace actorrt;
using actorrt::test::model_path;
using namespace std::chrono_literals;
using cancel_result = InferenceEngine::CancelResult;

namespace {

/// One simulated core of `latency`, jobs one per call, room for many.
std::unique_ptr<InferenceEngine> one_core(const std::string& latency,
                                          InferenceOption option = {}) {
  option.max_batch_size = 1;
  option.buffer_count = 100;
  return std::make_unique<InferenceEngine>(
    open_engine(std::make_shared<runtime>(parse_devices("sim:1:" + latency)),
                model_path("tiny_cnn"), option));
}

/// How each job ended, as its callback saw it, in the order they ended.
struct endings {
  std::mutex mtx;
  std::map<uint64_t, std::vector<errc>> by_key;
  std::vector<uint64_t> order;

  void watch(InferenceEngine& ie) {
    ie.RegisterCallback([this](const tensors&, void* arg, const failure& e) {
      std::lock_guard<std::mutex> guard{mtx};
      auto key = reinterpret_cast<uintptr_t>(arg);
      by_key[key].push_back(e.code);
      order.push_back(key);
      return 0;
    });
  }
  int count(errc code) {
    std::lock_guard<std::mutex> guard{mtx};
    int n = 0;
    for (auto& [key, codes] : by_key)
      n += codes.size() == 1 && codes[0] == code;
    return n;
  }
  bool each_once(size_t jobs) {
    std::lock_guard<std::mutex> guard{mtx};
    for (auto& [key, codes] : by_key)
      if (codes.size() != 1)
        return false;
    return by_key.size() == jobs;
  }
};

void* key(uintptr_t k) {
  return reinterpret_cast<void*>(k);
}

blob input(InferenceEngine& ie) {
  auto b = blob::allocate(ie.GetInputSize());
  std::memset(b.data, 0, b.size);
  return b;
}

} // namespace

TEST_CASE("a job whose deadline passes before a core starts it ends with "
          "Timeout, unrun, once",
          "[terms]") {
  auto ie = one_core("60ms");
  endings seen;
  seen.watch(*ie);
  auto first = ie->RunAsync({input(*ie)}, key(1));
  std::vector<uint64_t> late;
  for (uintptr_t k = 2; k <= 41; ++k) // 32 reach the core, 8 stay queued
    late.push_back(ie->RunAsync({input(*ie)}, JobOptions{20, {}}, key(k)));
  CHECK(ie->Wait(first).size() == 1);
  for (auto id : late)
    CHECK_THROWS_AS(ie->Wait(id), Timeout);
  CHECK(seen.count(errc::timeout) == 40);
  CHECK(seen.each_once(41));
  auto stats = ie->GetStats();
  REQUIRE(stats.cores.size() == 1);
  CHECK(stats.cores[0].jobs_done == 1); // none of them occupied the core
  CHECK(stats.runs == 1);
  // A deadline far enough away is met; the engine's default applies too.
  CHECK(ie->Run({input(*ie)}, JobOptions{5000, {}}).size() == 1);
  InferenceOption strict;
  strict.timeout_ms = 40; // the first starts in time, the second cannot
  auto quick = one_core("150ms", strict);
  auto a = quick->RunAsync({input(*quick)});
  auto b = quick->RunAsync({input(*quick)});
  CHECK(quick->Wait(a).size() == 1);
  CHECK_THROWS_AS(quick->Wait(b), Timeout);
}

TEST_CASE("cancel: a job not started never runs, a running one is reported "
          "cancelled",
          "[terms]") {
  auto ie = one_core("300ms");
  endings seen;
  seen.watch(*ie);
  auto running = ie->RunAsync({input(*ie)}, key(1));
  auto queued = ie->RunAsync({input(*ie)}, key(2));
  auto kept = ie->RunAsync({input(*ie)}, key(3));
  std::this_thread::sleep_for(100ms); // the first has started
  CHECK(ie->Cancel(running) == cancel_result::Running);
  CHECK(ie->Cancel(queued) == cancel_result::NotStarted);
  auto start = std::chrono::steady_clock::now();
  CHECK_THROWS_AS(ie->Wait(queued), Cancelled);
  CHECK(std::chrono::steady_clock::now() - start < 150ms); // ended at once
  CHECK_THROWS_WITH(ie->Wait(running), Catch::Contains("while it ran"));
  CHECK(ie->Wait(kept).size() == 1);
  CHECK(seen.count(errc::cancelled) == 2);
  CHECK(seen.each_once(3));
  // Ended, unknown: typed errors, and the engine keeps working.
  CHECK_THROWS_AS(ie->Cancel(queued), InvalidArgument);
  CHECK_THROWS_AS(ie->Cancel(kept), InvalidArgument);
  CHECK_THROWS_WITH(ie->Cancel(12345), Catch::Contains("never issued"));
  auto stats = ie->GetStats();
  CHECK(stats.cores[0].jobs_done + stats.cores[0].jobs_failed == 2);
  CHECK(ie->Run({input(*ie)}).size() == 1);
}

TEST_CASE("Dispose cancels what no core started and lets the running finish",
          "[terms]") {
  auto ie = one_core("300ms");
  endings seen;
  seen.watch(*ie);
  for (uintptr_t k = 1; k <= 6; ++k)
    ie->RunAsync({input(*ie)}, key(k));
  std::this_thread::sleep_for(100ms); // the first has started
  auto start = std::chrono::steady_clock::now();
  CHECK(ie->Dispose() == 5);
  // It waited for the running job only, not for another one after it.
  CHECK(std::chrono::steady_clock::now() - start < 550ms);
  CHECK(seen.count(errc::none) == 1);
  CHECK(seen.count(errc::cancelled) == 5);
  CHECK(seen.each_once(6));
}

TEST_CASE("queued jobs of a higher priority start first", "[terms]") {
  auto ie = one_core("100ms");
  endings seen;
  seen.watch(*ie);
  ie->RunAsync({input(*ie)}, key(100));
  std::this_thread::sleep_for(40ms); // it occupies the core
  std::vector<uint64_t> ids;
  for (uintptr_t k = 1; k <= 4; ++k) {
    ids.push_back(ie->RunAsync({input(*ie)}, JobOptions{{}, 0}, key(k)));
    ids.push_back(ie->RunAsync({input(*ie)}, JobOptions{{}, 2}, key(10 + k)));
  }
  for (auto id : ids)
    ie->Wait(id);
  std::lock_guard<std::mutex> guard{seen.mtx};
  REQUIRE(seen.order.size() == 9);
  // After the first: the four high ones (10+k), in order, then the low.
  CHECK(seen.order == std::vector<uint64_t>{100, 11, 12, 13, 14, 1, 2, 3, 4});
}

TEST_CASE("bad job terms are typed errors and nothing is lost", "[terms]") {
  auto ie = one_core("0ms");
  CHECK_THROWS_AS(ie->RunAsync({input(*ie)}, JobOptions{-1, {}}),
                  InvalidArgument);
  CHECK_THROWS_AS(ie->RunAsync({input(*ie)}, JobOptions{{}, 3}),
                  InvalidArgument);
  CHECK_THROWS_AS(ie->Run({input(*ie)}, JobOptions{{}, -1}), InvalidArgument);
  InferenceOption bad;
  bad.priority = 5;
  CHECK_THROWS_AS(bad.validate(), InvalidArgument);
  CHECK(ie->GetStats().in_flight == 0);
  CHECK(ie->Run({input(*ie)}, JobOptions{0, 2}).size() == 1);
}
