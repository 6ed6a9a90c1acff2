// DX-RT's dxrt-cli for ActorRT's devices: -s/--status lists the devices of
// every running ActorRT process (from their status files: cores, backends,
// jobs, utilisation, in flight), or this process's own when none runs;
// -m/--monitor SEC refreshes that in place; -i/--info the configuration.
#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <fstream>
#include <set>
#include <thread>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>
#include <unistd.h>

#include "actors/node_actor.hpp"
#include "actors/runtime.hpp"
#include "actors/status_file.hpp"
#include "core/inference_option.hpp"
#include "core/model.hpp"
#include "device/ort_library.hpp"
#include "device/registry.hpp"

using namespace actorrt;
using json = nlohmann::json;

namespace {

std::atomic<bool> interrupted{false};

std::string lanes_note(const std::string& kind, bool simulated) {
  if (simulated)
    return " (SIMULATED NPU: latency model, no compute)";
  if (kind == "opencv")
    return " (CPU lanes, OpenCV DNN)";
  if (kind == "ort")
    return " (CPU lanes, ONNX Runtime)";
  if (kind == "cpu")
    return ort_available() ? " (CPU lanes, ONNX Runtime; OpenCV DNN for "
                             "models it cannot run)"
                           : " (CPU lanes, OpenCV DNN)";
  return "";
}

/// One running process's status file: its devices, then each core.
void print_process(const json& s) {
  std::printf("* Process %d (%s): %llu jobs done, %llu failed, latency mean "
              "%.3f ms, p99 %.3f ms\n",
              s.value("pid", 0), s.value("program", "?").c_str(),
              (unsigned long long) s.value("jobs_done", 0ull),
              (unsigned long long) s.value("jobs_failed", 0ull),
              s["latency_ms"].value("mean", 0.0),
              s["latency_ms"].value("p99", 0.0));
  int shown = -1;
  for (auto& c : s["cores"]) {
    int d = c.value("device", 0);
    bool local = c.value("local", true);
    if (d != shown) {
      shown = d;
      auto load = s["devices"].value(std::to_string(d), json::object());
      int count = 0;
      for (auto& other : s["cores"])
        count += other.value("device", -1) == d;
      std::printf(
        "  Device %d: %s, %d NPU cores%s, %s; %d jobs admitted, %d queued\n", d,
        c.value("kind", "?").c_str(), count,
        lanes_note(c.value("kind", ""), c.value("simulated", false)).c_str(),
        local ? "this host" : ("node " + c.value("host", "?")).c_str(),
        load.value("admitted", 0), load.value("queued", 0));
    }
    std::string backends;
    for (auto& b : c["backends"])
      backends += (backends.empty() ? "" : ",") + b.get<std::string>();
    std::printf("    NPU %d: %-7s %8llu dispatched %3d in flight",
                c.value("core", 0),
                c.value("alive", false) ? "running" : "stopped",
                (unsigned long long) c.value("dispatched", 0ull),
                c.value("in_flight", 0));
    if (c.contains("utilisation"))
      std::printf("  %8llu done %4llu failed  %5.1f%% busy  %.3f ms/job",
                  (unsigned long long) c.value("jobs_done", 0ull),
                  (unsigned long long) c.value("jobs_failed", 0ull),
                  c.value("utilisation", 0.0) * 100,
                  c.value("compute_ms", 0.0));
    std::printf("  %s\n", backends.empty() ? "(no model)" : backends.c_str());
  }
}

/// This process's own devices: starting them shows they come up (each core
/// actor answers).
void print_own(const std::vector<device_spec>& devices) {
  runtime rt{devices, {}, default_nodes()};
  auto cores = rt.report();
  std::set<int> ids;
  for (auto& c : cores)
    ids.insert(c.device);
  for (int d : ids) {
    const core_report* first = nullptr;
    int count = 0;
    for (auto& c : cores)
      if (c.device == d) {
        first = first ? first : &c;
        ++count;
      }
    bool local = size_t(d) < devices.size();
    std::printf("* Device %d: %s, %d NPU cores%s, %s\n", d,
                local ? to_string(devices[d]).c_str() : first->kind.c_str(),
                count, lanes_note(first->kind, first->simulated).c_str(),
                local ? "this host" : ("node " + first->host).c_str());
    for (auto& c : cores)
      if (c.device == d)
        std::printf("  NPU %d: %s\n", c.core, c.alive ? "running" : "stopped");
  }
}

/// Running processes' devices, or this process's own when none runs.
/// Returns how many running processes it showed.
size_t print_status(const std::vector<device_spec>& devices, bool own) {
  auto dir = status_dir();
  size_t shown = 0;
  for (auto& text :
       dir.empty() ? std::vector<std::string>{} : read_status_files(dir)) {
    auto s = json::parse(text, nullptr, false);
    if (s.is_discarded() || !s.contains("cores"))
      continue; // being replaced; the next read has it
    print_process(s);
    ++shown;
  }
  if (shown == 0) {
    if (own) {
      std::printf("(no running ActorRT process; this process's devices)\n");
      print_own(devices);
    } else {
      std::printf("(no running ActorRT process)\n");
    }
  }
  return shown;
}

void print_info() {
  std::printf("ActorRT 0.1.0 on CAF %d.%d.%d, %u host threads\n",
              CAF_VERSION / 10000, CAF_VERSION / 100 % 100, CAF_VERSION % 100,
              std::thread::hardware_concurrency());
  std::printf("ACTORRT_DEVICES: %s\n",
              std::getenv("ACTORRT_DEVICES")
                ? std::getenv("ACTORRT_DEVICES")
                : "(unset: one CPU device with 3 cores)");
  std::printf("default buffer count (max load per device): %d\n",
              InferenceOption::default_buffer_count());
  if (auto* ort = ort_library::get())
    std::printf("ONNX Runtime: %s (%s)\n", ort->version().c_str(),
                ort->path().c_str());
  else
    std::printf("ONNX Runtime: no: %s\n", ort_library::load_error().c_str());
  std::printf("ONNX: %s\nOpenCV: %s\nbuild: %s\n", onnx_version().c_str(),
              opencv_version().c_str(), ACTORRT_BUILD_TYPE);
  std::ifstream cpuinfo("/proc/cpuinfo");
  std::string line;
  while (std::getline(cpuinfo, line))
    if (line.rfind("model name", 0) == 0) {
      std::printf("host CPU: %s\n", line.substr(line.find(':') + 2).c_str());
      break;
    }
  std::printf("ACTORRT_NODES: %s\n", std::getenv("ACTORRT_NODES")
                                       ? std::getenv("ACTORRT_NODES")
                                       : "(unset: this host only)");
  auto dir = status_dir();
  std::printf("status files: %s\n",
              dir.empty() ? "off (ACTORRT_STATUS=off)" : dir.c_str());
}

} // namespace

int main(int argc, char** argv) {
  CLI::App app{"ActorRT device status (DX-RT's dxrt-cli)"};
  bool status = false;
  bool info = false;
  double monitor = 0;
  int iterations = 0;
  app.add_flag("-s,--status", status,
               "devices of running ActorRT processes (or this one's)");
  app.add_flag("-i,--info", info, "runtime configuration");
  app
    .add_option("-m,--monitor", monitor,
                "refresh the status every SEC seconds until Ctrl-C")
    ->check(CLI::Range(0.05, 3600.0));
  app
    .add_option("-n,--iterations", iterations,
                "with -m: stop after this many refreshes")
    ->check(CLI::PositiveNumber);
  CLI11_PARSE(app, argc, argv);
  if (!status && !info && monitor == 0)
    status = true;
  std::signal(SIGINT, [](int) { interrupted = true; });
  try {
    auto devices = default_devices();
    if (info)
      print_info();
    if (status)
      print_status(devices, true);
    if (monitor > 0) {
      bool tty = ::isatty(STDOUT_FILENO) != 0;
      for (int i = 0; !interrupted && (iterations == 0 || i < iterations);
           ++i) {
        if (tty)
          std::printf("\x1b[H\x1b[2J"); // redraw in place, as top does
        auto now = std::time(nullptr);
        char stamp[32];
        std::strftime(stamp, sizeof stamp, "%H:%M:%S", std::localtime(&now));
        std::printf("dxrt-cli -m %.2g s  %s  (Ctrl-C ends)\n", monitor, stamp);
        print_status(devices, false);
        std::fflush(stdout);
        auto until = std::chrono::steady_clock::now()
                     + std::chrono::duration<double>(monitor);
        while (!interrupted && std::chrono::steady_clock::now() < until)
          std::this_thread::sleep_for(std::chrono::milliseconds(20));
      }
    }
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "dxrt-cli: %s\n", e.what());
    return 2;
  }
}
