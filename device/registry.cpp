#include "device/registry.hpp"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <mutex>
#include <set>
#include <sstream>

#include <opencv2/core/version.hpp>

#include "core/errors.hpp"
#include "core/inference_option.hpp"
#include "device/opencv_executor.hpp"
#include "device/ort_executor.hpp"
#include "device/ort_library.hpp"
#include "device/simulated_executor.hpp"

namespace actorrt {

namespace {

std::unique_ptr<executor> make_cpu_lane(const std::string& backend,
                                        const model& m) {
  if (backend == "ort")
    return std::unique_ptr<executor>(new ort_executor(m, 1, true));
  return std::unique_ptr<executor>(new opencv_executor(m));
}

/// Says once per model that its lanes run on the other CPU backend.
void say_fallback(const model& m, const std::string& from,
                  const std::string& to, const std::string& why) {
  static std::mutex mtx;
  static std::set<std::string> said;
  std::lock_guard<std::mutex> guard{mtx};
  if (said.insert(m.name() + from).second)
    std::fprintf(stderr, "actorrt: '%s' runs on %s: %s\n", m.name().c_str(),
                 to.c_str(), why.c_str());
}

/// A CPU lane on the backend asked for ("" = the best present), falling
/// back to the other when it cannot run the model.
std::unique_ptr<executor> cpu_lane(const model& m, const lane_request& lane) {
  if (!lane.backend.empty() && lane.backend != "opencv"
      && lane.backend != "ort")
    throw InvalidArgument("unknown CPU backend '" + lane.backend
                          + "' (known: opencv, ort)");
  // Asking for ORT where it is absent runs on OpenCV (the engine warned).
  std::string first = lane.backend.empty() || lane.backend == "ort"
                        ? (ort_available() ? "ort" : "opencv")
                        : "opencv";
  std::string second = first == "ort" ? "opencv" : "ort";
  try {
    return make_cpu_lane(first, m);
  } catch (const InvalidModel& e1) {
    if (second == "ort" && !ort_available())
      throw;
    try {
      auto lane2 = make_cpu_lane(second, m);
      say_fallback(m, first, lane2->name(), e1.what());
      return lane2;
    } catch (const InvalidModel& e2) {
      throw InvalidModel(std::string("no CPU backend can run '") + m.name()
                         + "': " + e1.what() + "; " + e2.what());
    }
  }
}

struct backends {
  std::mutex mtx;
  std::map<std::string, executor_factory> by_kind{
    {"cpu", [](const model& m, const device_spec&,
               const lane_request& lane) { return cpu_lane(m, lane); }},
    {"ort", [](const model& m, const device_spec&,
               const lane_request&) { return make_cpu_lane("ort", m); }},
    {"opencv", [](const model& m, const device_spec&,
                  const lane_request&) { return make_cpu_lane("opencv", m); }},
    {"sim",
     [](const model& m, const device_spec& spec, const lane_request& lane) {
       return std::unique_ptr<executor>(new simulated_executor(
         m, simulated_settings::parse(spec.param), lane.lane));
     }},
  };

  static backends& instance() {
    static backends result;
    return result;
  }
};

} // namespace

std::string to_string(const device_spec& spec) {
  auto result = spec.kind + ":" + std::to_string(spec.cores);
  return spec.param.empty() ? result : result + ":" + spec.param;
}

void register_backend(const std::string& kind, executor_factory factory) {
  auto& reg = backends::instance();
  std::lock_guard<std::mutex> guard{reg.mtx};
  reg.by_kind[kind] = std::move(factory);
}

bool has_backend(const std::string& kind) {
  auto& reg = backends::instance();
  std::lock_guard<std::mutex> guard{reg.mtx};
  return reg.by_kind.count(kind) > 0;
}

bool is_simulated_kind(const std::string& kind) {
  return kind == "sim";
}

std::unique_ptr<executor> make_executor(const device_spec& spec, const model& m,
                                        const lane_request& lane) {
  executor_factory factory;
  {
    auto& reg = backends::instance();
    std::lock_guard<std::mutex> guard{reg.mtx};
    auto i = reg.by_kind.find(spec.kind);
    if (i == reg.by_kind.end())
      throw InvalidArgument("unknown device kind '" + spec.kind + "'");
    factory = i->second;
  }
  return factory(m, spec, lane);
}

std::vector<device_spec> parse_devices(const std::string& text) {
  std::vector<device_spec> result;
  if (text == "none") // only remote devices (ACTORRT_NODES)
    return result;
  std::stringstream all{text};
  std::string item;
  while (std::getline(all, item, ',')) {
    std::stringstream parts{item};
    std::string kind, cores, param;
    std::getline(parts, kind, ':');
    std::getline(parts, cores, ':');
    std::getline(parts, param);
    device_spec spec{kind, 3, param};
    if (!cores.empty()) {
      char* end = nullptr;
      long n = std::strtol(cores.c_str(), &end, 10);
      if (*end != '\0' || n < 1 || n > 32)
        throw InvalidArgument("device '" + item
                              + "': core count must be 1..32");
      spec.cores = static_cast<int>(n);
    }
    if (!has_backend(kind))
      throw InvalidArgument("device '" + item + "': unknown kind '" + kind
                            + "' (known: cpu, ort, opencv, sim)");
    if (is_simulated_kind(kind)) // its mistakes show here, not at load
      simulated_settings::parse(param);
    result.push_back(spec);
  }
  if (result.empty())
    throw InvalidArgument("no devices in '" + text + "'");
  return result;
}

std::vector<backend_verdict> probe_backends(const model& m) {
  std::vector<backend_verdict> verdicts;
  auto probe = [&](const std::string& name, auto make) {
    backend_verdict v{name, false, ""};
    try {
      make();
      v.runs = true;
    } catch (const std::exception& e) {
      v.why = e.what();
    }
    verdicts.push_back(std::move(v));
  };
  if (ort_available())
    probe("onnxruntime", [&] { ort_executor lane{m}; });
  else
    verdicts.push_back({"onnxruntime", false,
                        "library not loaded: " + ort_library::load_error()});
  probe("opencv-dnn", [&] { opencv_executor lane{m}; });
  return verdicts;
}

std::string describe_backends(const std::vector<backend_verdict>& verdicts) {
  std::string text = "backends\n";
  for (auto& v : verdicts)
    text += "  " + v.backend
            + std::string(14 - std::min<size_t>(13, v.backend.size()), ' ')
            + (v.runs ? "runs it" : "cannot: " + v.why) + "\n";
  return text;
}

std::string opencv_version() {
  return CV_VERSION;
}

std::vector<device_spec> default_devices() {
  if (const char* env = std::getenv("ACTORRT_DEVICES"))
    return parse_devices(env);
  return {device_spec{"cpu", 3, ""}};
}

bool ort_available() {
  return ort_library::get() != nullptr;
}

std::string ort_version() {
  auto* lib = ort_library::get();
  return lib ? lib->version() : "";
}

std::string ort_load_error() {
  return ort_library::load_error();
}

namespace {

// The default of InferenceOption::use_ort is whether ONNX Runtime is here,
// which only this layer can tell.
const bool ort_probe_set
  = (InferenceOption::set_ort_probe(&ort_available), true);

} // namespace

} // namespace actorrt
