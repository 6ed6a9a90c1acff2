// One measured run of an engine, shared by the tools: RunAsync + callback
// at full load, open loop at a target rate, or Run one job at a time, with
// a progress bar on a terminal and an early stop on Ctrl-C.
#pragma once

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <unistd.h>

#include "actorrt/inference_engine.hpp"
#include "core/clock.hpp"

namespace actorrt::tools {

/// How much to run: `loops` jobs, or for `seconds` when loops is 0; open
/// loop at `fps` jobs/s when above 0; one Run at a time when `single`.
struct load {
  int loops = 0;
  double seconds = 0;
  double fps = 0;
  bool single = false;
  /// DX-RT's --skip-io: the callback keeps no outputs (nothing is written
  /// afterwards), so the figures are the runtime's and the lanes' alone.
  bool skip_io = false;
};

/// What a measured run saw: per-job end-to-end latency (submit → result),
/// compute time, errors.
struct run_record {
  std::mutex mtx;
  std::vector<int64_t> submitted;
  std::vector<int64_t> latency_us;
  std::vector<int64_t> compute_us;
  std::atomic<int> errors{0};
  std::atomic<int> done{0};
  tensors last_outputs;
};

/// A one-line progress bar on a terminal, for runs longer than a second.
class progress {
public:
  progress(const run_record& r, int total, double seconds)
    : record_(r), total_(total), seconds_(seconds),
      shown_(::isatty(STDERR_FILENO) != 0) {
    if (shown_)
      thread_ = std::thread([this] { loop(); });
  }
  ~progress() {
    stop_ = true;
    if (thread_.joinable())
      thread_.join();
    if (drawn_)
      std::fprintf(stderr, "\r%60s\r", "");
  }

private:
  void loop() {
    auto start = std::chrono::steady_clock::now();
    while (!stop_) {
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
      std::chrono::duration<double> t
        = std::chrono::steady_clock::now() - start;
      if (t.count() < 1.0)
        continue;
      double share = total_ > 0 ? double(record_.done) / total_
                                : std::min(1.0, t.count() / seconds_);
      int width = 30, filled = int(share * width);
      std::fprintf(stderr, "\r[%s%s] %3.0f%% %d jobs",
                   std::string(size_t(filled), '#').c_str(),
                   std::string(size_t(width - filled), '.').c_str(),
                   share * 100, record_.done.load());
      drawn_ = true;
    }
  }

  const run_record& record_;
  int total_;
  double seconds_;
  bool shown_;
  bool drawn_ = false;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

/// RunAsync + callback at full load (or open-loop at `fps`); Run one at a
/// time with `single`. Stops early on Ctrl-C and still reports.
inline double measure(InferenceEngine& ie, const load& s, const blob& input,
                      run_record& r, const std::atomic<bool>& interrupted) {
  int total = s.loops > 0 ? s.loops : 0;
  size_t capacity = total > 0 ? size_t(total) : 1u << 20;
  r.submitted.assign(capacity, 0);
  ie.RegisterCallback(
    [&r, keep = !s.skip_io](const tensors& out, void* arg, const failure& e) {
      auto i = reinterpret_cast<size_t>(arg);
      auto now = now_ns();
      std::lock_guard<std::mutex> guard{r.mtx};
      if (e)
        ++r.errors;
      else if (keep)
        r.last_outputs = out;
      r.latency_us.push_back((now - r.submitted[i]) / 1000);
      ++r.done;
      return 0;
    });
  auto start = std::chrono::steady_clock::now();
  auto deadline = start
                  + std::chrono::duration_cast<std::chrono::nanoseconds>(
                    std::chrono::duration<double>(s.seconds));
  progress bar{r, total, s.seconds};
  size_t sent = 0;
  for (; sent < capacity && !interrupted; ++sent) {
    if (total == 0 && std::chrono::steady_clock::now() >= deadline)
      break;
    if (s.fps > 0) // open loop: each job at its own time, late or not
      std::this_thread::sleep_until(
        start
        + std::chrono::duration_cast<std::chrono::nanoseconds>(
          std::chrono::duration<double>(double(sent) / s.fps)));
    r.submitted[sent] = now_ns();
    if (s.single) {
      try {
        auto out = ie.Run({input});
        std::lock_guard<std::mutex> guard{r.mtx};
        r.latency_us.push_back((now_ns() - r.submitted[sent]) / 1000);
        r.last_outputs = out;
      } catch (const Error&) {
        ++r.errors;
      }
      ++r.done;
    } else {
      ie.RunAsync({input}, reinterpret_cast<void*>(sent));
    }
  }
  while (r.done < int(sent))
    std::this_thread::sleep_for(std::chrono::microseconds(200));
  std::chrono::duration<double> secs = std::chrono::steady_clock::now() - start;
  ie.RegisterCallback(nullptr);
  auto npu = ie.GetNpuInferenceTimeVector();
  npu.erase(npu.begin(), npu.end() - std::min(npu.size(), sent));
  r.compute_us = std::move(npu);
  return secs.count();
}

} // namespace actorrt::tools
