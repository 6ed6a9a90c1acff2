// DX-RT's dxrt-cli for ActorRT's devices: -s/--status lists each device and
// its NPU cores (backend, simulated or not), -i/--info the configuration.
#include <cstdio>
#include <fstream>
#include <set>
#include <thread>

#include <CLI/CLI.hpp>

#include "actors/node_actor.hpp"
#include "actors/runtime.hpp"
#include "core/inference_option.hpp"
#include "core/model.hpp"
#include "device/ort_library.hpp"
#include "device/registry.hpp"

using namespace actorrt;

int main(int argc, char** argv) {
  CLI::App app{"ActorRT device status (DX-RT's dxrt-cli)"};
  bool status = false;
  bool info = false;
  app.add_flag("-s,--status", status, "devices and their NPU cores");
  app.add_flag("-i,--info", info, "runtime configuration");
  CLI11_PARSE(app, argc, argv);
  if (!status && !info)
    status = true;
  try {
    auto devices = default_devices();
    if (info) {
      std::printf("ActorRT 0.1.0 on CAF %d.%d.%d, %u host threads\n",
                  CAF_VERSION / 10000, CAF_VERSION / 100 % 100,
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
        std::printf("ONNX Runtime: no: %s\n",
                    ort_library::load_error().c_str());
      std::printf("ONNX: %s\nOpenCV: %s\nbuild: %s\n", onnx_version().c_str(),
                  opencv_version().c_str(), ACTORRT_BUILD_TYPE);
      std::ifstream cpuinfo("/proc/cpuinfo");
      std::string line;
      while (std::getline(cpuinfo, line))
        if (line.rfind("model name", 0) == 0) {
          std::printf("host CPU: %s\n",
                      line.substr(line.find(':') + 2).c_str());
          break;
        }
      std::printf("ACTORRT_NODES: %s\n", std::getenv("ACTORRT_NODES")
                                           ? std::getenv("ACTORRT_NODES")
                                           : "(unset: this host only)");
    }
    if (status) {
      // Starting the devices shows they come up: each core actor answers.
      runtime rt{devices, {}, default_nodes()};
      auto cores = rt.report();
      std::set<int> ids;
      for (auto& c : cores)
        ids.insert(c.device);
      for (int d : ids) {
        const core_report* first = nullptr;
        for (auto& c : cores)
          if (c.device == d && !first)
            first = &c;
        bool local = size_t(d) < devices.size();
        auto spec = local ? devices[d] : device_spec{first->kind, 0, ""};
        bool sim = first->simulated;
        std::string lanes
          = sim ? " (SIMULATED NPU: latency model, no compute)"
            : spec.kind == "opencv" ? " (CPU lanes, OpenCV DNN)"
            : spec.kind == "ort"    ? " (CPU lanes, ONNX Runtime)"
            : spec.kind == "cpu"
              ? (ort_available() ? " (CPU lanes, ONNX Runtime; OpenCV DNN "
                                   "for models it cannot run)"
                                 : " (CPU lanes, OpenCV DNN)")
              : "";
        int count = 0;
        for (auto& c : cores)
          count += c.device == d;
        std::string where = local ? "this host" : "node " + first->host;
        std::printf("* Device %d: %s, %d NPU cores%s, %s\n", d,
                    local ? to_string(spec).c_str() : spec.kind.c_str(), count,
                    lanes.c_str(), where.c_str());
        for (auto& c : cores)
          if (c.device == d)
            std::printf("  NPU %d: %s\n", c.core,
                        c.alive ? "running" : "stopped");
      }
    }
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "dxrt-cli: %s\n", e.what());
    return 2;
  }
}
