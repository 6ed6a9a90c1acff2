// Runtime overhead: simulated zero-latency NPU cores (no compute), so all
// that is measured is ActorRT itself: RunAsync → actors → callback.
#include <atomic>
#include <cstdio>
#include <thread>
#include <vector>

#include <CLI/CLI.hpp>

#include "actorrt/inference_engine.hpp"
#include "actors/runtime.hpp"
#include "bench_util.hpp"

using namespace actorrt;

namespace {

double jobs_per_second(InferenceEngine& ie, int jobs, int threads) {
  std::atomic<int> done{0};
  ie.RegisterCallback([&](const tensors&, void*, const failure&) {
    ++done;
    return 0;
  });
  auto input = bench::zero_input(ie);
  auto start = std::chrono::steady_clock::now();
  std::vector<std::thread> submitters;
  for (int t = 0; t < threads; ++t)
    submitters.emplace_back([&] {
      for (int i = 0; i < jobs / threads; ++i)
        ie.RunAsync({input});
    });
  for (auto& t : submitters)
    t.join();
  while (done < jobs / threads * threads)
    std::this_thread::yield();
  return jobs / threads * threads / bench::seconds_since(start);
}

} // namespace

int main(int argc, char** argv) {
  CLI::App app{"ActorRT overhead on simulated zero-latency NPU cores"};
  int jobs = 200000;
  std::vector<int> buffer_counts{6, 100};
  std::vector<int> thread_counts{1, 3};
  app.add_option("-n,--jobs", jobs, "jobs per measurement");
  app.add_option("-b,--buffer-count", buffer_counts, "buffer counts to run");
  app.add_option("-t,--threads", thread_counts, "submitting threads to run");
  CLI11_PARSE(app, argc, argv);

  std::printf("overhead benchmark: SIMULATED NPU (sim:3, zero latency, no "
              "compute), tiny_cnn, %d jobs, %s\n",
              jobs, bench::runtime_threads().c_str());
  for (int buffer_count : buffer_counts) {
    InferenceOption opt;
    opt.buffer_count = buffer_count;
    auto engine = bench::make_engine(
      std::string(ACTORRT_MODEL_DIR) + "/tiny_cnn.onnx", "sim:3", opt);
    auto& ie = *engine;
    jobs_per_second(ie, jobs / 10, 1); // warm-up
    // The aims: 300k jobs/s at DX-RT's default of 6, 1M at 100.
    double target = buffer_count < 100 ? 300e3 : 1e6;
    for (int threads : thread_counts) {
      double rate = jobs_per_second(ie, jobs, threads);
      std::printf("buffer_count %3d, RunAsync -> callback, %d submitting "
                  "thread(s): %9.0f jobs/s %6.2f us/job (target %.0fk "
                  "jobs/s: ratio %.3f)\n",
                  buffer_count, threads, rate, 1e6 / rate, target / 1e3,
                  rate / target);
    }
  }
  return 0;
}
