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
  bool sync = false;
  int bound = 0;
  int buffer_count = InferenceOption::default_buffer_count();
  app.add_option("-m,--model", path, "model file (.onnx)")->required();
  app.add_option("-l,--loops", loops, "number of inferences");
  app.add_flag("-s,--sync", sync, "one job at a time (Run), else RunAsync");
  app.add_option("-b,--bound", bound, "bound option 0..6 (NPU_ALL..NPU_02)");
  app.add_option("--buffer-count", buffer_count, "jobs in flight per device");
  CLI11_PARSE(app, argc, argv);
  try {
    InferenceOption opt;
    opt.bound = static_cast<bound_option>(bound);
    opt.buffer_count = buffer_count;
    InferenceEngine ie{path, opt};
    std::vector<uint8_t> input(ie.GetInputSize(), 0);
    auto raw = blob::borrow(input.data(), input.size(), nullptr);
    ie.Run({raw}); // warm-up
    std::atomic<int> errors{0};
    ie.RegisterCallback([&](const tensors&, void*, const failure& err) {
      errors += err ? 1 : 0;
      return 0;
    });
    auto start = std::chrono::steady_clock::now();
    std::vector<uint64_t> ids;
    for (int i = 0; i < loops; ++i) {
      if (sync)
        ie.Run({raw});
      else
        ids.push_back(ie.RunAsync({raw}));
    }
    for (auto id : ids)
      ie.Wait(id);
    std::chrono::duration<double> secs
      = std::chrono::steady_clock::now() - start;
    auto lat = ie.GetLatencyVector();
    std::sort(lat.begin(), lat.end());
    auto pct = [&](double p) { return lat[size_t(p * (lat.size() - 1))]; };
    auto npu = ie.GetNpuInferenceTime();
    std::printf("model       %s\n", path.c_str());
    std::printf("devices     ");
    for (auto& d : ie.GetRuntime()->devices())
      std::printf("%s ", to_string(d).c_str());
    std::printf("%s\n",
                ie.IsSimulated() ? "(SIMULATED NPU: no real compute)" : "");
    std::printf("mode        %s, %d inferences, %d errors\n",
                sync ? "sync Run" : "RunAsync + callback", loops,
                errors.load());
    std::printf("FPS         %.1f\n", loops / secs.count());
    std::printf("latency     mean %.0f us, p50 %lld us, p99 %lld us\n",
                ie.GetLatency().mean, (long long) pct(0.5),
                (long long) pct(0.99));
    std::printf("NPU time    mean %.0f us per inference\n", npu.mean);
    return errors == 0 ? 0 : 1;
  } catch (const Error& e) {
    std::fprintf(stderr, "run_model: %s: %s\n", to_string(e.code()), e.what());
    return 2;
  }
}
