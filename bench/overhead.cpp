// Runtime overhead: simulated zero-latency NPU cores (no compute), so all
// that is measured is ActorRT itself: RunAsync → actors → callback. Then
// the same in a child with jemalloc preloaded: every job is made on the
// caller's thread and freed on the engine's, which glibc's malloc pays for.
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <string>
#include <thread>
#include <unistd.h>
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

/// Debian's libjemalloc2.
constexpr const char* jemalloc = "/usr/lib/x86_64-linux-gnu/libjemalloc.so.2";

/// The rates a child with jemalloc preloaded measures (its
/// "rate BUFFER_COUNT THREADS JOBS_PER_S" lines), by buffer count and
/// threads; empty when it did not run.
std::map<std::pair<int, int>, double> rates_with_jemalloc(int argc,
                                                          char** argv) {
  std::map<std::pair<int, int>, double> rates;
  char self[4096] = {};
  if (::readlink("/proc/self/exe", self, sizeof self - 1) <= 0)
    return rates;
  std::string command = std::string("ACTORRT_BENCH_CHILD=1 LD_PRELOAD=")
                        + jemalloc + " '" + self + "'";
  for (int i = 1; i < argc; ++i)
    command += std::string(" '") + argv[i] + "'";
  FILE* child = ::popen(command.c_str(), "r");
  if (!child)
    return rates;
  int buffer_count = 0, threads = 0;
  double rate = 0;
  while (std::fscanf(child, " rate %d %d %lf", &buffer_count, &threads, &rate)
         == 3)
    rates[{buffer_count, threads}] = rate;
  ::pclose(child);
  return rates;
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

  bool child = std::getenv("ACTORRT_BENCH_CHILD") != nullptr;
  std::map<std::pair<int, int>, double> rates;
  if (!child)
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
      rates[{buffer_count, threads}] = rate;
      if (child) {
        std::printf("rate %d %d %.0f\n", buffer_count, threads, rate);
        continue;
      }
      std::printf("buffer_count %3d, RunAsync -> callback, %d submitting "
                  "thread(s): %9.0f jobs/s %6.2f us/job (target %.0fk "
                  "jobs/s: ratio %.3f)\n",
                  buffer_count, threads, rate, 1e6 / rate, target / 1e3,
                  rate / target);
    }
  }
  if (child)
    return 0;
  std::fflush(stdout);
  if (::access(jemalloc, R_OK) != 0) {
    std::printf("with jemalloc: not measured (%s is not installed: Debian's "
                "libjemalloc2)\n",
                jemalloc);
    return 0;
  }
  for (auto& [key, rate] : rates_with_jemalloc(argc, argv))
    std::printf("with jemalloc (LD_PRELOAD), buffer_count %3d, %d thread(s): "
                "%9.0f jobs/s (%.2fx glibc's malloc above)\n",
                key.first, key.second, rate, rate / rates[key]);
  return 0;
}
