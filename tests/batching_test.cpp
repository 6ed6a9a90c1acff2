// Dynamic batching: which models batch, merged calls on a lane, and jobs
// of an engine run together on its cores, each ending with its own outputs.
#include <catch2/catch.hpp>

#include <atomic>
#include <cstring>
#include <random>
#include <thread>

#include "actorrt/inference_engine.hpp"
#include "actors/runtime.hpp"
#include "device/batching.hpp"
#include "device/registry.hpp"
#include "device/simulated_executor.hpp"
#include "engine_on_runtime.hpp"
#include "models.hpp"

using namespace actorrt;
using actorrt::test::model_path;
using namespace std::chrono_literals;

namespace {

/// Jobs of `m` with random inputs of `batch` samples each.
std::vector<job> random_jobs(const model& m, int n, unsigned seed,
                             int64_t batch = 1) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> value(-1, 1);
  std::vector<job> jobs(n);
  for (auto& j : jobs) {
    std::vector<blob> inputs;
    for (auto& meta : m.input_metas()) {
      auto bytes = blob::allocate(meta->byte_size() * batch);
      for (size_t i = 0; i < bytes.size / sizeof(float); ++i) {
        float x = value(rng);
        std::memcpy(bytes.data + i * sizeof x, &x, sizeof x);
      }
      inputs.push_back(bytes);
    }
    j.inputs = attach(m.input_metas(), inputs, batch);
    j.outputs = attach(m.output_metas(), {}, batch);
  }
  return jobs;
}

/// Copies of `jobs` with fresh outputs, run one call each.
std::vector<job> one_by_one(executor& lane, const std::vector<job>& jobs) {
  auto copy = jobs;
  for (auto& j : copy)
    for (auto& out : j.outputs)
      out.bytes = {};
  lane.run_batch(copy);
  return copy;
}

bool same_floats(const blob& a, const blob& b) {
  if (a.size != b.size)
    return false;
  for (size_t i = 0; i < a.size / sizeof(float); ++i) {
    float x, y;
    std::memcpy(&x, a.data + i * sizeof x, sizeof x);
    std::memcpy(&y, b.data + i * sizeof y, sizeof y);
    if (std::fabs(x - y) > 1e-4f + 1e-3f * std::fabs(y))
      return false;
  }
  return true;
}

/// The CPU backends this process can run: OpenCV DNN, and ONNX Runtime
/// when its library loads.
std::vector<std::string> cpu_backends() {
  if (ort_available())
    return {"ort", "opencv"};
  return {"opencv"};
}

/// Fails every call of more than one sample; runs single samples.
struct no_batches : simulated_executor {
  explicit no_batches(const model& m) : simulated_executor(m, {}, 0) {}
  int64_t run(const tensors& inputs, tensors& outputs) override {
    if (inputs.front().info().shape[0] > 1)
      throw DeviceIO("no batches here");
    return simulated_executor::run(inputs, outputs);
  }
};

/// A raw input whose first 8 bytes carry `key` (the simulated NPU echoes
/// them per sample into the output).
blob keyed(size_t size, uint64_t key) {
  auto b = blob::allocate(size);
  std::memset(b.data, 0, size);
  std::memcpy(b.data, &key, sizeof key);
  return b;
}

uint64_t key_of(const tensors& outputs) {
  uint64_t key = 0;
  std::memcpy(&key, outputs.at(0).bytes.data, sizeof key);
  return key;
}

std::unique_ptr<InferenceEngine> engine_on(const std::string& devices,
                                           const std::string& name,
                                           InferenceOption option) {
  return std::make_unique<InferenceEngine>(
    open_engine(std::make_shared<runtime>(parse_devices(devices)),
                model_path(name), option));
}

} // namespace

TEST_CASE("which models batch: symbolic, re-declared, or not at all",
          "[batching]") {
  auto symbolic = model::load(model_path("strided_32"));
  CHECK(symbolic->batchable());
  CHECK(symbolic->batching().rfind("yes (dimension 0 is symbolic)", 0) == 0);
  auto fixed = model::load(model_path("tiny_cnn"));
  CHECK_FALSE(fixed->batchable());
  auto variant = fixed->batch_variant();
  REQUIRE(variant);
  CHECK(variant->batchable());
  CHECK(variant->input_size() == fixed->input_size());
  CHECK(fixed->batching().find("re-declared") != std::string::npos);
  auto reshaped = model::load(model_path("fixed_reshape"));
  CHECK_FALSE(reshaped->batch_variant());
  CHECK(reshaped->batching().rfind("no: ", 0) == 0);
  // A model whose outputs hang on no batch axis at all.
  CHECK(model::load(model_path("nms"))->batching().rfind("no: ", 0) == 0);
}

TEST_CASE("a merged call gives each job the outputs of its own run",
          "[batching]") {
  for (auto& kind : cpu_backends()) {
    INFO(kind);
    auto m = model::load(model_path("strided_32"));
    auto lane = make_executor({kind, 1, ""}, *m, {});
    auto jobs = random_jobs(*m, 7, 1);
    jobs.push_back(random_jobs(*m, 1, 2, 3).front()); // brings 3 samples
    // Caller memory for one job's output: written in place.
    auto given = blob::allocate(m->output_size());
    jobs[2].outputs = attach(m->output_metas(), {given});
    auto reference = one_by_one(*lane, jobs);
    std::vector<blob> reuse;
    run_merged(*lane, jobs, 4, reuse);
    // Calls of at most 4 samples: 4 + 3 jobs, then the 3-sample job alone.
    CHECK(jobs[0].run_jobs == 4);
    CHECK(jobs[0].first_in_run);
    CHECK_FALSE(jobs[1].first_in_run);
    CHECK(jobs[4].run_jobs == 3);
    CHECK(jobs[7].run_jobs == 1);
    for (size_t j = 0; j < jobs.size(); ++j) {
      INFO("job " << j);
      REQUIRE_FALSE(jobs[j].error);
      CHECK(
        same_floats(jobs[j].outputs[0].bytes, reference[j].outputs[0].bytes));
    }
    CHECK(jobs[2].outputs[0].bytes.data == given.data);
    CHECK(jobs[7].outputs[0].info().shape[0] == 3);
  }
}

TEST_CASE("multi-input models merge every input and split every output",
          "[batching]") {
  auto fixed = model::load(model_path("multi_io"));
  auto m = fixed->batch_variant();
  REQUIRE(m);
  for (auto& kind : cpu_backends()) {
    INFO(kind);
    auto lane = make_executor({kind, 1, ""}, *m, {});
    CHECK_FALSE(check_batching(*lane, *m));
    auto jobs = random_jobs(*m, 5, 4);
    auto reference = one_by_one(*lane, jobs);
    std::vector<blob> reuse;
    run_merged(*lane, jobs, 5, reuse);
    CHECK(jobs[0].run_jobs == 5);
    for (size_t j = 0; j < jobs.size(); ++j)
      for (size_t k = 0; k < jobs[j].outputs.size(); ++k) {
        INFO("job " << j << " output " << k);
        CHECK(
          same_floats(jobs[j].outputs[k].bytes, reference[j].outputs[k].bytes));
      }
  }
}

TEST_CASE("a merged call that fails runs its jobs one by one", "[batching]") {
  auto m = model::load(model_path("strided_32"));
  no_batches lane{*m};
  auto jobs = random_jobs(*m, 5, 3);
  std::vector<blob> reuse;
  run_merged(lane, jobs, 8, reuse);
  for (auto& j : jobs) {
    CHECK_FALSE(j.error);
    CHECK(j.run_jobs == 1);
    CHECK(j.first_in_run);
  }
  CHECK(check_batching(lane, *m).message.find("no batches here")
        != std::string::npos);
}

TEST_CASE("the check at load accepts a re-declared batch axis that computes "
          "the same",
          "[batching]") {
  auto fixed = model::load(model_path("tiny_cnn"));
  auto variant = fixed->batch_variant();
  REQUIRE(variant);
  for (auto& kind : cpu_backends()) {
    INFO(kind);
    auto lane = make_executor({kind, 1, ""}, *variant, {});
    CHECK_FALSE(check_batching(*lane, *variant));
  }
}

TEST_CASE("an engine's queued jobs run as batches, each with its own outputs",
          "[batching]") {
  for (auto name : {"strided_32", "tiny_cnn"}) {
    INFO(name);
    InferenceOption option;
    option.max_batch_size = 8;
    option.buffer_count = 40;
    auto ie = engine_on("sim:1:2ms:batch=0.1", name, option);
    std::atomic<int> wrong{0}, ended{0};
    ie->RegisterCallback([&](const tensors& out, void* arg, const failure& e) {
      if (e || key_of(out) != reinterpret_cast<uintptr_t>(arg))
        ++wrong;
      ++ended;
      return 0;
    });
    for (uint64_t k = 1; k <= 200; ++k)
      ie->RunAsync({keyed(ie->GetInputSize(), k)}, reinterpret_cast<void*>(k));
    for (int i = 0; i < 1000 && ended < 200; ++i)
      std::this_thread::sleep_for(10ms);
    CHECK(ended == 200);
    CHECK(wrong == 0);
    auto stats = ie->GetStats();
    CHECK(stats.mean_batch > 2.0);
    CHECK(stats.mean_batch <= 8.0);
    REQUIRE(stats.cores.size() == 1);
    CHECK(stats.cores[0].mean_batch == Approx(stats.mean_batch));
  }
  // Off: one job per call.
  InferenceOption off;
  off.max_batch_size = 1;
  off.buffer_count = 40;
  auto ie = engine_on("sim:1:1ms", "strided_32", off);
  std::vector<uint64_t> ids;
  for (int i = 0; i < 30; ++i)
    ids.push_back(ie->RunAsync({blob::allocate(ie->GetInputSize())}));
  for (auto id : ids)
    ie->Wait(id);
  CHECK(ie->GetStats().mean_batch == 1.0);
}

TEST_CASE("a batch waits for the delay to fill, and not when it is full",
          "[batching]") {
  InferenceOption option;
  option.max_batch_size = 4;
  option.batch_delay_us = 300000;
  auto ie = engine_on("sim:1", "strided_32", option);
  auto start = std::chrono::steady_clock::now();
  ie->Run({blob::allocate(ie->GetInputSize())});
  auto alone = std::chrono::steady_clock::now() - start;
  CHECK(alone >= 300ms); // one job: the core waited for company
  CHECK(alone < 3s);
  start = std::chrono::steady_clock::now();
  std::vector<uint64_t> ids;
  for (int i = 0; i < 4; ++i)
    ids.push_back(ie->RunAsync({blob::allocate(ie->GetInputSize())}));
  for (auto id : ids)
    ie->Wait(id);
  // Four jobs fill the batch: it runs at once, as one call.
  CHECK(std::chrono::steady_clock::now() - start < 300ms);
  CHECK(ie->GetStats().mean_batch == Approx(5.0 / 2));
}

TEST_CASE("batching options are checked", "[batching]") {
  for (auto bad : {0, -1, InferenceOption::max_batch_bound + 1}) {
    InferenceOption option;
    option.max_batch_size = bad;
    CHECK_THROWS_AS(option.validate(), InvalidArgument);
  }
  InferenceOption option;
  option.batch_delay_us = -5;
  CHECK_THROWS_WITH(option.validate(), Catch::Contains("batch_delay_us"));
}

TEST_CASE("a lane merges only while merging pays, and looks again now and then",
          "[batching]") {
  batch_gain gain;
  CHECK(gain.merge()); // nothing known: try
  gain.record(1, 1000);
  gain.record(4, 4000); // no faster per job
  int merged = 0;
  for (int i = 0; i < 2 * batch_gain::retry_every; ++i)
    merged += gain.merge();
  CHECK(merged == 2); // only the retries
  for (int i = 0; i < 10; ++i)
    gain.record(4, 1600); // 400 ns a job: pays
  merged = 0;
  for (int i = 0; i < batch_gain::retry_every; ++i)
    merged += gain.merge();
  CHECK(merged == batch_gain::retry_every - 1); // one single, to look again
  // A lane that never ran a job alone tries one.
  batch_gain busy;
  busy.record(2, 4000);
  int singles = 0;
  for (int i = 0; i < batch_gain::retry_every; ++i)
    singles += !busy.merge();
  CHECK(singles == 1);
}

TEST_CASE("a call too quick for the clock still counts as measured",
          "[batching]") {
  batch_gain gain;
  CHECK(gain.job_ns() == 0); // not measured yet
  gain.record(1, 0);         // a zero-latency simulated core
  CHECK(gain.job_ns() > 0);
  CHECK(gain.job_ns() < 2);
  gain.record(1, -5); // a clock gone backwards is not a measure
  CHECK(gain.job_ns() < 2);
}

TEST_CASE("one preempted call does not turn a lane to merging", "[batching]") {
  batch_gain gain;
  gain.record(1, 1000);
  gain.record(4, 4800); // 1,200 ns a job merged: does not pay
  gain.record(1, 5000); // a single job that lost its CPU on the way
  int merged = 0;
  for (int i = 0; i < batch_gain::retry_every; ++i)
    merged += gain.merge();
  CHECK(merged == 1); // only the retry
  for (int i = 0; i < 20; ++i)
    gain.record(1, 3000); // singles really became slower
  merged = 0;
  for (int i = 0; i < batch_gain::retry_every; ++i)
    merged += gain.merge();
  CHECK(merged == batch_gain::retry_every - 1);
}
