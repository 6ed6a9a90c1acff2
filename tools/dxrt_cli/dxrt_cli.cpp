// DX-RT's dxrt-cli for ActorRT's devices: -s/--status lists the devices of
// every running ActorRT process (from their status files: cores, backends,
// jobs, utilisation, in flight), or this process's own when none runs;
// -m/--monitor SEC refreshes that in place; -i/--info describes the devices
// and the runtime; -r/--reset rebuilds running processes' lanes;
// --errorstat shows failed jobs and stopped cores. The firmware commands
// say there is no firmware: CPU lanes and simulated cores run none.
#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <set>
#include <thread>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>
#include <unistd.h>

#include "actorrt/inference_engine.hpp"
#include "actors/node_actor.hpp"
#include "actors/runtime.hpp"
#include "core/host_memory.hpp"
#include "core/inference_option.hpp"
#include "core/model.hpp"
#include "device/ort_api.hpp"
#include "device/ort_library.hpp"
#include "device/registry.hpp"
#include "observability/status_file.hpp"
#include "tools/common/number_checks.hpp"
#include "tools/common/processes.hpp"

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

/// One running process's status file: its devices, then each core (of
/// device `only`, or all when -1).
void print_process(const json& s, int only) {
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
    if (only >= 0 && d != only)
      continue;
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
    if (c.contains("mean_batch"))
      std::printf("  batch %.1f", c.value("mean_batch", 0.0));
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

using tools::running_processes;

/// Running processes' devices, or this process's own when none runs.
/// Returns how many running processes it showed.
size_t print_status(const std::vector<device_spec>& devices, bool own,
                    int only) {
  size_t shown = 0;
  for (auto& s : running_processes()) {
    print_process(s, only);
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

void print_versions() {
  std::printf("ActorRT %s on CAF %d.%d.%d, %u host threads\n",
              Version().c_str(), CAF_VERSION / 10000, CAF_VERSION / 100 % 100,
              CAF_VERSION % 100, std::thread::hardware_concurrency());
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

/// DX-RT's -i: each device of this host's configuration, then the
/// runtime's versions and settings.
void print_info(const std::vector<device_spec>& devices, int only) {
  auto memory = read_host_memory();
  for (size_t d = 0; d < devices.size(); ++d) {
    if (only >= 0 && int(d) != only)
      continue;
    bool simulated = is_simulated_kind(devices[d].kind);
    std::printf("* Device %zu: %s, %d NPU cores%s\n", d,
                to_string(devices[d]).c_str(), devices[d].cores,
                lanes_note(devices[d].kind, simulated).c_str());
    std::printf("  Memory: host RAM, %.2f GiB\n",
                double(memory.total) / double(1ull << 30));
    std::printf("  Firmware: none (%s)\n",
                simulated ? "a latency model" : "CPU lanes");
  }
  print_versions();
}

/// --errorstat: failed jobs and stopped cores of every running process.
void print_errors(int only) {
  auto processes = running_processes();
  if (processes.empty())
    std::printf("(no running ActorRT process)\n");
  for (auto& s : processes) {
    std::printf("* Process %d (%s): %llu jobs failed of %llu\n",
                s.value("pid", 0), s.value("program", "?").c_str(),
                (unsigned long long) s.value("jobs_failed", 0ull),
                (unsigned long long) (s.value("jobs_done", 0ull)
                                      + s.value("jobs_failed", 0ull)));
    for (auto& c : s["cores"])
      if (only < 0 || c.value("device", 0) == only)
        std::printf("  NPU %d:%d: %-7s %llu failed\n", c.value("device", 0),
                    c.value("core", 0),
                    c.value("alive", false) ? "running" : "stopped",
                    (unsigned long long) c.value("jobs_failed", 0ull));
  }
}

/// --ddrerror: lanes use host RAM; its corrected and uncorrected error
/// counts are the kernel's (EDAC), where the host has them.
void print_memory_errors() {
  namespace fs = std::filesystem;
  std::error_code ec;
  int controllers = 0;
  for (auto& mc : fs::directory_iterator("/sys/devices/system/edac/mc", ec)) {
    long ce = -1, ue = -1;
    std::ifstream(mc.path() / "ce_count") >> ce;
    std::ifstream(mc.path() / "ue_count") >> ue;
    std::printf("host memory controller %s: %ld corrected, %ld uncorrected "
                "errors\n",
                mc.path().filename().c_str(), ce, ue);
    ++controllers;
  }
  if (controllers == 0)
    std::printf("no DDR error counts: lanes use host RAM, and this host's "
                "kernel shows no EDAC memory controller\n");
}

/// -p FILE: everything dxrt-cli knows, as JSON.
void dump(const std::string& file, const std::vector<device_spec>& devices) {
  json out;
  out["devices"] = json::array();
  for (auto& d : devices)
    out["devices"].push_back(to_string(d));
  out["processes"] = running_processes();
  std::ofstream f(file);
  f << out.dump(2) << "\n";
  if (!f)
    throw DeviceIO("cannot write " + file);
  std::printf("dumped %zu process(es) to %s\n", out["processes"].size(),
              file.c_str());
}

/// -r: every running process rebuilds the lanes of `device` (-1: all).
/// Returns how many processes did.
int reset(int device) {
  auto processes = running_processes();
  if (processes.empty()) {
    std::printf("(no running ActorRT process: nothing to reset)\n");
    return 0;
  }
  int done = 0;
  for (auto& s : processes) {
    auto id = request_reset(s.value("path", ""), device);
    int pid = s.value("pid", 0);
    // Served at the process's next status write (every second).
    auto until = std::chrono::steady_clock::now() + std::chrono::seconds(5);
    json outcome;
    while (std::chrono::steady_clock::now() < until && !interrupted) {
      for (auto& now : running_processes())
        if (now.value("pid", 0) == pid && now.contains("reset")
            && now["reset"].value("id", "") == id)
          outcome = now["reset"];
      if (!outcome.is_null())
        break;
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    if (outcome.is_null())
      std::printf("* Process %d: no answer within 5 s\n", pid);
    else if (outcome.contains("error"))
      std::printf("* Process %d: %s\n", pid,
                  outcome["error"].get<std::string>().c_str());
    else {
      std::printf("* Process %d: %llu lane(s) rebuilt\n", pid,
                  (unsigned long long) outcome.value("lanes", 0ull));
      ++done;
    }
  }
  return done;
}

/// -v: what this build needs of the libraries under it. No driver or
/// firmware: there is no device of DEEPX's here.
void print_minimum_versions() {
  std::printf("ActorRT %s\n", Version().c_str());
  std::printf("minimum: CAF 0.17 (built with %d.%d.%d), ONNX Runtime with C "
              "API version %u (optional: 1.%u or newer), OpenCV 4 (DNN)\n",
              CAF_VERSION / 10000, CAF_VERSION / 100 % 100, CAF_VERSION % 100,
              ort::api_version, ort::api_version);
  std::printf("device driver: none needed; firmware: none needed\n");
}

[[noreturn]] void no_firmware(const char* what) {
  std::fprintf(
    stderr,
    "dxrt-cli: %s: ActorRT's devices (CPU lanes, simulated NPU "
    "cores, worker nodes) run no firmware; there is nothing to "
    "%s\n",
    what,
    std::string(what).find("version") != std::string::npos ? "read" : "update");
  std::exit(1);
}

} // namespace

int main(int argc, char** argv) {
  CLI::App app{"ActorRT device status (DX-RT's dxrt-cli)"};
  bool status = false, info = false, version = false, errorstat = false,
       ddrerror = false;
  double monitor = 0;
  int iterations = 0;
  int reset_level = -1;
  int device = -1;
  std::vector<std::string> fw_update, fw_upload;
  std::string fw_version, dump_file, fw_config;
  app.add_flag("-s,--status", status,
               "devices of running ActorRT processes (or this one's)");
  app.add_flag("-i,--info", info, "the devices and the runtime's versions");
  app
    .add_option("-m,--monitor", monitor,
                "refresh the status every SEC seconds until Ctrl-C")
    ->check(CLI::Range(0.05, 3600.0));
  app
    .add_option("-n,--iterations", iterations,
                "with -m: stop after this many refreshes")
    ->check(tools::positive);
  app
    .add_option("-r,--reset", reset_level,
                "rebuild running processes' lanes of the device(s) "
                "(0: lanes, 1: the whole device, which here is its lanes)")
    ->check(CLI::Range(0, 1))
    ->expected(0, 1)
    ->default_str("0");
  app
    .add_option("-d,--device", device,
                "device id for -s, -i, -r, --errorstat (default: all)")
    ->check(tools::non_negative);
  app.add_option("-u,--fwupdate", fw_update, "(no firmware here)");
  app.add_option("-w,--fwupload", fw_upload, "(no firmware here)");
  app.add_option("-g,--fwversion", fw_version, "(no firmware here)");
  app.add_option("-p,--dump", dump_file,
                 "write devices and running processes' status as JSON");
  app.add_option("-C,--fwconfig_json", fw_config, "(no firmware here)");
  app.add_flag("-v,--version", version, "minimum versions this build needs");
  app.add_flag("--errorstat", errorstat,
               "failed jobs and stopped cores of running processes");
  app.add_flag("--ddrerror", ddrerror, "host memory error counts (EDAC)");
  CLI11_PARSE(app, argc, argv);
  if (!fw_update.empty())
    no_firmware("-u/--fwupdate");
  if (!fw_upload.empty())
    no_firmware("-w/--fwupload");
  if (!fw_version.empty())
    no_firmware("-g/--fwversion");
  if (!fw_config.empty())
    no_firmware("-C/--fwconfig_json");
  bool reset_asked = app.count("--reset") > 0;
  if (!status && !info && monitor == 0 && !version && !errorstat && !ddrerror
      && dump_file.empty() && !reset_asked)
    status = true;
  std::signal(SIGINT, [](int) { interrupted = true; });
  try {
    auto devices = default_devices();
    if (version)
      print_minimum_versions();
    if (info)
      print_info(devices, device);
    if (reset_asked && reset(device) == 0)
      return 1;
    if (status)
      print_status(devices, true, device);
    if (errorstat)
      print_errors(device);
    if (ddrerror)
      print_memory_errors();
    if (!dump_file.empty())
      dump(dump_file, devices);
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
        print_status(devices, false, device);
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
