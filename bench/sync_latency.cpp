// Latency that ActorRT adds to a synchronous Run: over the executor's own
// time, on one CPU lane and on a simulated zero-latency core, and over one
// 1-thread ONNX Runtime session called directly.
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <vector>

#include <spawn.h>
#include <sys/wait.h>

#include <CLI/CLI.hpp>

#include "actorrt/inference_engine.hpp"
#include "actors/runtime.hpp"
#include "bench_util.hpp"
#include "core/model.hpp"
#include "device/ort_executor.hpp"
#include "device/registry.hpp"

using namespace actorrt;

namespace {

/// Run p50 of one 1-thread ORT session called in a loop, in us.
double direct_ort_p50(const std::string& path, int n) {
  auto m = model::load(path);
  ort_executor lane{*m, 1};
  auto inputs = zero_tensors(m->input_metas());
  std::vector<double> total;
  for (int i = 0; i < n + 50; ++i) {
    auto start = std::chrono::steady_clock::now();
    auto outputs = attach(m->output_metas(), {});
    lane.run(inputs, outputs);
    if (i >= 50)
      total.push_back(bench::seconds_since(start) * 1e6);
  }
  return bench::percentile(total, 0.5);
}

/// Returns Run's p50 in us.
double measure(const std::string& devices, const std::string& path, int n) {
  auto engine = bench::make_engine(path, devices);
  auto& ie = *engine;
  auto input = bench::zero_input(ie);
  for (int i = 0; i < 50; ++i)
    ie.Run({input});
  // NPU times are read from the engine's recent list between chunks of
  // runs: asking after every Run put a request to the engine between any
  // two Runs, which a plain Run loop does not have.
  const size_t chunk = 1000; // within DX-RT's recent window
  std::vector<double> added, total;
  while (total.size() < size_t(n)) {
    size_t from = total.size();
    for (size_t i = from; i < std::min(size_t(n), from + chunk); ++i) {
      auto start = std::chrono::steady_clock::now();
      ie.Run({input});
      total.push_back(bench::seconds_since(start) * 1e6);
    }
    auto npu = ie.GetNpuInferenceTimeVector();
    auto runs = total.size() - from;
    for (size_t i = 0; i < runs; ++i)
      added.push_back(total[from + i] - double(npu[npu.size() - runs + i]));
  }
  std::printf("%-8s Run total p50 %7.1f us p99 %7.1f us | added by runtime "
              "p50 %6.1f us p99 %6.1f us (target p50 <= 20 us)%s\n",
              devices.c_str(), bench::percentile(total, 0.5),
              bench::percentile(total, 0.99), bench::percentile(added, 0.5),
              bench::percentile(added, 0.99),
              ie.IsSimulated() ? "  [SIMULATED NPU]" : "");
  return bench::percentile(total, 0.5);
}

} // namespace

int main(int argc, char** argv) {
  CLI::App app{"Latency ActorRT adds to a synchronous Run"};
  std::string path = std::string(ACTORRT_MODEL_DIR) + "/tiny_cnn.onnx";
  int n = 5000;
  app.add_option("-m,--model", path, "model");
  app.add_option("-n,--runs", n, "runs per measurement");
  CLI11_PARSE(app, argc, argv);
  std::printf("sync latency: %s, %d runs, %s\n", path.c_str(), n,
              bench::runtime_threads().c_str());
  if (ort_available()) {
    // Alternated, so that both see the same machine.
    double run = measure("ort:3", path, n);
    double direct = direct_ort_p50(path, n);
    run = std::min(run, measure("ort:3", path, n));
    direct = std::min(direct, direct_ort_p50(path, n));
    std::printf("one 1-thread ORT session Run p50 %.1f us: ActorRT adds "
                "%.1f us (target <= 20 us)\n",
                direct, run - direct);
  } else {
    measure("cpu:3", path, n);
  }
  measure("sim:3", path, n);
  std::fflush(stdout);
  // The same in a child with the other placement (the runtime is per
  // process): both in one run.
  if (std::getenv("ACTORRT_BENCH_CHILD"))
    return 0;
  ::setenv("ACTORRT_BENCH_CHILD", "1", 1);
  bool kept = !runtime_cpus_from_environment().empty();
  ::setenv("ACTORRT_RUNTIME_CPUS", kept ? "off" : "auto", 1);
  pid_t child = 0;
  if (::posix_spawn(&child, "/proc/self/exe", nullptr, nullptr, argv, environ)
      != 0)
    return 1;
  int status = 0;
  ::waitpid(child, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : 1;
}
