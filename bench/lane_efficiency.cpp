// Lane efficiency on a real model (default: resnet18-shaped, 224x224), for
// one CPU backend (ONNX Runtime when present, else OpenCV DNN): ActorRT over
// 2 lanes vs a direct single-lane executor loop, vs two lanes driven by hand
// on two threads, vs one multi-threaded session/net (what a user calling the
// library directly gets), and 3 lanes vs 2 on this host.
#include <atomic>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <thread>
#include <vector>

#include <CLI/CLI.hpp>
#include <opencv2/core.hpp>
#include <opencv2/dnn.hpp>
#include <sys/wait.h>
#include <unistd.h>

#include "actorrt/inference_engine.hpp"
#include "actors/runtime.hpp"
#include "bench_util.hpp"
#include "core/host_memory.hpp"
#include "core/model.hpp"
#include "device/opencv_executor.hpp"
#include "device/ort_executor.hpp"
#include "device/registry.hpp"

using namespace actorrt;

namespace {

double net_fps(const std::string& path, const model& m, int threads, int n);

std::unique_ptr<executor> make_lane(const std::string& backend, const model& m,
                                    int threads = 1) {
  if (backend == "ort")
    return std::make_unique<ort_executor>(m, threads);
  return std::make_unique<opencv_executor>(m);
}

double lane_fps(executor& lane, const model& m, int n) {
  auto inputs = zero_tensors(m.input_metas());
  // Fresh outputs each time, as a lane in the runtime gets them.
  auto run = [&] {
    auto outputs = attach(m.output_metas(), {});
    lane.run(inputs, outputs);
  };
  for (int i = 0; i < 4; ++i)
    run(); // warm-up: the first runs are slow
  auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < n; ++i)
    run();
  return n / bench::seconds_since(start);
}

double direct_lane_fps(const std::string& backend, const model& m, int n) {
  return lane_fps(*make_lane(backend, m), m, n);
}

/// `count` lanes, each looped by its own thread: with two, the best a user
/// gets from two single-threaded sessions by hand.
double lanes_by_hand_fps(const std::string& backend, const model& m, int count,
                         int n) {
  std::vector<std::unique_ptr<executor>> lanes;
  for (int i = 0; i < count; ++i)
    lanes.push_back(make_lane(backend, m));
  auto start = std::chrono::steady_clock::now();
  std::vector<std::thread> threads;
  for (int i = 0; i < count; ++i)
    threads.emplace_back([&, i] { lane_fps(*lanes[i], m, n / count); });
  for (auto& t : threads)
    t.join();
  return (n / count) * count / bench::seconds_since(start);
}

/// One session with 2 intra-op threads (ORT), one net with 2 threads
/// (OpenCV): the library used directly, alone on the host.
double session_fps(const std::string& backend, const std::string& path,
                   const model& m, int threads, int n) {
  if (backend == "ort") {
    auto lane = make_lane(backend, m, threads);
    return lane_fps(*lane, m, n);
  }
  return net_fps(path, m, threads, n);
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

/// As a user drives it: RunAsync + callback, default options.
double runtime_fps(const std::string& path, const std::string& devices, int n) {
  auto engine = bench::make_engine(path, devices);
  auto& ie = *engine;
  auto input = bench::zero_input(ie);
  // Warm-up on every lane (their first runs are slow): async, so that the
  // jobs spread over the lanes as the measured ones will.
  std::vector<uint64_t> warm;
  for (int i = 0; i < 4 * ie.GetMaxInFlight(); ++i)
    warm.push_back(ie.RunAsync({input}));
  for (auto id : warm)
    ie.Wait(id);
  std::atomic<int> done{0};
  ie.RegisterCallback([&](const tensors&, void*, const failure&) {
    ++done;
    return 0;
  });
  auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < n; ++i)
    ie.RunAsync({input});
  while (done < n)
    std::this_thread::sleep_for(std::chrono::microseconds(200));
  return n / bench::seconds_since(start);
}

} // namespace

/// Resident memory now, in MiB.
double rss_mib() {
  return double(resident_bytes()) / (1 << 20);
}

/// RSS that three ORT lanes of the model add, each measured in a child
/// process of its own (memory a parent freed would hide their cost): one
/// session each, as by hand, and the runtime's lanes, which share one.
void lane_memory(const model& m) {
  auto measure = [&m](bool share) {
    int fds[2];
    if (::pipe(fds) != 0)
      return -1.0;
    double grew = -1;
    if (::fork() == 0) {
      auto before = rss_mib();
      std::vector<std::unique_ptr<executor>> lanes;
      for (int i = 0; i < 3; ++i)
        lanes.push_back(std::make_unique<ort_executor>(m, 1, share));
      grew = rss_mib() - before;
      (void) !::write(fds[1], &grew, sizeof grew);
      ::_exit(0);
    }
    ::close(fds[1]);
    (void) !::read(fds[0], &grew, sizeof grew);
    ::close(fds[0]);
    ::wait(nullptr);
    return grew;
  };
  double own = measure(false), shared = measure(true);
  std::printf("RSS of 3 ORT lanes: a session each %7.1f MiB, one shared "
              "session %7.1f MiB (ratio %.2f)\n",
              own, shared, own > 0 ? shared / own : 0.0);
}

int main(int argc, char** argv) {
  CLI::App app{"ActorRT CPU-lane efficiency"};
  std::string path = std::string(ACTORRT_MODEL_DIR) + "/resnet18.onnx";
  int n = 60;
  std::string backend = ort_available() ? "ort" : "opencv";
  app.add_option("-m,--model", path, "model");
  app.add_option("-n,--inferences", n, "inferences per measurement");
  app.add_option("-b,--backend", backend, "ort or opencv")
    ->check(CLI::IsMember({"ort", "opencv"}));
  CLI11_PARSE(app, argc, argv);
  auto m = model::load(path);
  std::printf("lane efficiency: %s on %s, 2 rounds of %d inferences each, "
              "%u hardware threads\n",
              path.c_str(), backend.c_str(), n,
              std::thread::hardware_concurrency());
  if (backend == "ort")
    lane_memory(*m); // before any thread starts: it forks
  // Alternating rounds, so drift in a noisy machine hits every setup alike.
  double one = 0, two = 0, three = 0, rt2 = 0, rt3 = 0, lib2 = 0;
  for (int round = 0; round < 2; ++round) {
    one += direct_lane_fps(backend, *m, n) / 2;
    two += lanes_by_hand_fps(backend, *m, 2, n) / 2;
    three += lanes_by_hand_fps(backend, *m, 3, n) / 2;
    rt2 += runtime_fps(path, backend + ":2", n) / 2;
    rt3 += runtime_fps(path, backend + ":3", n) / 2;
    lib2 += session_fps(backend, path, *m, 2, n) / 2;
  }
  std::printf("direct single-lane executor loop  %8.2f inf/s\n", one);
  std::printf("two lanes by hand, two threads    %8.2f inf/s\n", two);
  std::printf("three lanes by hand (host slots)  %8.2f inf/s\n", three);
  std::printf("one %-11s 2 threads        %8.2f inf/s\n",
              backend == "ort" ? "ORT session," : "OpenCV net,", lib2);
  std::printf("ActorRT RunAsync, 2 lanes         %8.2f inf/s\n", rt2);
  std::printf("ActorRT RunAsync, 3 lanes         %8.2f inf/s\n", rt3);
  std::printf("ratio 2 lanes / (2 x single lane) %8.3f  (target >= 0.97)\n",
              rt2 / (2 * one));
  std::printf("ratio 2 lanes / two by hand       %8.3f  (target >= 1.00)\n",
              rt2 / two);
  std::printf("ratio 2 lanes / 2-thread library  %8.3f  (target >= 1.00)\n",
              rt2 / lib2);
  std::printf("ratio 3 lanes / 2 lanes           %8.3f  (must not be < 1 by "
              "more than noise)\n",
              rt3 / rt2);
  std::printf("ratio 3 by hand / 2 by hand       %8.3f\n", three / two);
  return 0;
}
