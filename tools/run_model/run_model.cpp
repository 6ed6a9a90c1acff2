// Runs a model on ActorRT and prints throughput and latency, like DX-RT's
// run_model. Usage: run_model -m model.onnx [-l loops] [--sync] [-b bound]
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <vector>

#include <CLI/CLI.hpp>

#include "actorrt/inference_engine.hpp"
#include "actors/runtime.hpp"

using namespace actorrt;

int main(int argc, char** argv) {
  CLI::App app{"Run an ONNX model on ActorRT and report FPS and latency"};
  std::string path;
  int loops = 300;
  int warmup = 5;
  bool single = false;
  int bound = 0;
  int buffer_count = InferenceOption::default_buffer_count();
  app.add_option("-m,--model", path, "model file (.onnx)")->required();
  app.add_option("-l,--loops", loops, "number of inferences");
  app.add_option("-w,--warmup-runs", warmup, "runs before measuring");
  app.add_flag("-s,--single", single, "one job at a time (Run), else RunAsync");
  app.add_option("-n,--npu", bound, "bound option 0..6 (NPU_ALL..NPU_02)");
  app.add_option("--buffer-count", buffer_count, "jobs in flight per device");
  CLI11_PARSE(app, argc, argv);
  try {
    InferenceOption opt;
    opt.bound = static_cast<bound_option>(bound);
    opt.buffer_count = buffer_count;
    InferenceEngine ie{path, opt};
    std::vector<uint8_t> input(ie.GetInputSize(), 0);
    auto raw = blob::borrow(input.data(), input.size(), nullptr);
    for (int i = 0; i < warmup; ++i)
      ie.Run({raw});
    std::atomic<int> errors{0};
    ie.RegisterCallback([&](const tensors&, void*, const failure& err) {
      errors += err ? 1 : 0;
      return 0;
    });
    auto start = std::chrono::steady_clock::now();
    std::vector<uint64_t> ids;
    for (int i = 0; i < loops; ++i) {
      if (single)
        ie.Run({raw});
      else
        ids.push_back(ie.RunAsync({raw}));
    }
    for (auto id : ids)
      ie.Wait(id);
    std::chrono::duration<double> secs
      = std::chrono::steady_clock::now() - start;
    // The measured jobs are the newest samples (the windows hold 1024).
    auto measured = [&](std::vector<int64_t> xs) {
      xs.erase(xs.begin(), xs.end() - std::min<size_t>(xs.size(), loops));
      return xs;
    };
    auto lat = measured(ie.GetLatencyVector());
    auto npu = measured(ie.GetNpuInferenceTimeVector());
    auto mean_ms = [](const std::vector<int64_t>& xs) {
      double sum = 0;
      for (auto x : xs)
        sum += x;
      return xs.empty() ? 0.0 : sum / xs.size() / 1e3;
    };
    std::sort(lat.begin(), lat.end());
    auto pct = [&](double p) {
      return lat.empty() ? 0.0 : lat[size_t(p * (lat.size() - 1))] / 1e3;
    };
    std::printf("model  %s\ndevices", path.c_str());
    for (auto& d : ie.GetRuntime()->devices())
      std::printf(" %s", to_string(d).c_str());
    std::printf("%s\nlanes ",
                ie.IsSimulated() ? "  (SIMULATED NPU: no real compute)" : "");
    for (auto& lane : ie.GetLaneBackends())
      std::printf(" [%s]", lane.c_str());
    std::printf("\nmode   %s\n", single ? "single (Run, one job at a time)"
                                        : "benchmark (RunAsync + callback)");
    std::printf("============================================================"
                "\n* Benchmark Result (%d inputs)\n",
                loops);
    std::printf("  - NPU Processing Time Average : %.3f ms\n", mean_ms(npu));
    std::printf("  - Latency Average : %.3f ms (p50 %.3f ms, p99 %.3f ms)\n",
                mean_ms(lat), pct(0.5), pct(0.99));
    std::printf("  - FPS : %.2f\n", loops / secs.count());
    std::printf("  - Errors : %d\n", errors.load());
    std::printf("============================================================"
                "\n");
    return errors == 0 ? 0 : 1;
  } catch (const Error& e) {
    std::fprintf(stderr, "run_model: %s: %s\n", to_string(e.code()), e.what());
    return 2;
  }
}
