// Lane efficiency on a real model (default: resnet18-shaped, 224x224):
// ActorRT over CPU lanes vs a direct single-lane executor loop, vs one
// OpenCV DNN net with 2 threads, and 3 lanes vs 2 lanes on this host.
#include <cstdio>
#include <cstring>
#include <vector>

#include <CLI/CLI.hpp>
#include <opencv2/core.hpp>
#include <opencv2/dnn.hpp>

#include "actorrt/inference_engine.hpp"
#include "actors/runtime.hpp"
#include "bench_util.hpp"
#include "core/model.hpp"
#include "device/opencv_executor.hpp"

using namespace actorrt;

namespace {

double direct_lane_fps(const model& m, int n) {
  opencv_executor lane{m};
  tensors inputs;
  for (auto& meta : m.input_metas()) {
    auto b = blob::allocate(meta->byte_size());
    std::memset(b.data, 0, b.size);
    inputs.push_back({meta, b});
  }
  // Fresh outputs each time, as a lane in the runtime gets them.
  auto run = [&] {
    auto outputs = attach(m.output_metas(), {});
    lane.run(inputs, outputs);
  };
  run();
  auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < n; ++i)
    run();
  return n / bench::seconds_since(start);
}

double net_fps(const std::string& path, const model& m, int threads, int n) {
  cv::setNumThreads(threads);
  auto net = cv::dnn::readNetFromONNX(path);
  auto& in = m.inputs().front();
  std::vector<int> dims(in.shape.begin(), in.shape.end());
  cv::Mat x(int(dims.size()), dims.data(), CV_32F, cv::Scalar(0));
  net.setInput(x);
  net.forward();
  auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < n; ++i) {
    net.setInput(x);
    net.forward();
  }
  double fps = n / bench::seconds_since(start);
  cv::setNumThreads(1); // lanes run single-threaded
  return fps;
}

double runtime_fps(const std::string& path, const std::string& devices, int n) {
  auto engine = bench::make_engine(path, devices);
  auto& ie = *engine;
  auto input = bench::zero_input(ie);
  ie.Run({input}); // warm-up
  auto start = std::chrono::steady_clock::now();
  std::vector<uint64_t> ids;
  for (int i = 0; i < n; ++i)
    ids.push_back(ie.RunAsync({input}));
  for (auto id : ids)
    ie.Wait(id);
  return n / bench::seconds_since(start);
}

} // namespace

int main(int argc, char** argv) {
  CLI::App app{"ActorRT CPU-lane efficiency"};
  std::string path = std::string(ACTORRT_MODEL_DIR) + "/resnet18.onnx";
  int n = 60;
  app.add_option("-m,--model", path, "model");
  app.add_option("-n,--inferences", n, "inferences per measurement");
  CLI11_PARSE(app, argc, argv);
  auto m = model::load(path);
  std::printf("lane efficiency: %s, 2 rounds of %d inferences each, %u "
              "hardware threads\n",
              path.c_str(), n, std::thread::hardware_concurrency());
  // Alternating rounds, so drift in a noisy machine hits every setup alike.
  double one = 0, rt2 = 0, rt3 = 0, net2 = 0;
  for (int round = 0; round < 2; ++round) {
    one += direct_lane_fps(*m, n) / 2;
    rt2 += runtime_fps(path, "cpu:2", n) / 2;
    rt3 += runtime_fps(path, "cpu:3", n) / 2;
    net2 += net_fps(path, *m, 2, n) / 2;
  }
  std::printf("direct single-lane executor loop  %8.2f inf/s\n", one);
  std::printf("one OpenCV net, 2 threads         %8.2f inf/s\n", net2);
  std::printf("ActorRT RunAsync, cpu:2           %8.2f inf/s\n", rt2);
  std::printf("ActorRT RunAsync, cpu:3           %8.2f inf/s\n", rt3);
  std::printf("ratio cpu:2 / (2 x single lane)   %8.3f  (target >= 0.97)\n",
              rt2 / (2 * one));
  std::printf("ratio cpu:2 / 2-thread net        %8.3f  (target >= 1.10)\n",
              rt2 / net2);
  std::printf("ratio cpu:3 / cpu:2               %8.3f  (must not be < 1 by "
              "more than noise)\n",
              rt3 / rt2);
  return 0;
}
