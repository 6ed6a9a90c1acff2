// Backend kinds → devices → lanes. `ACTORRT_DEVICES` is parsed here and
// nowhere else.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "core/model.hpp"
#include "device/executor.hpp"

namespace actorrt {

/// One device: a backend kind and its core count. `param` is kind-specific:
/// for "sim", a fixed latency ("250us", "2ms") or a per-core throughput
/// ("50gmacs", latency = model MACs / throughput); empty means zero latency.
struct device_spec {
  std::string kind;
  int cores = 3;
  std::string param;
};

std::string to_string(const device_spec& spec);

/// Which backend an engine asks its CPU lanes to run: "" (the device's
/// default), "opencv" or "ort". Devices that are not CPU lanes ignore it.
struct lane_request {
  int lane = 0;
  std::string backend;
};

/// Builds the executor for one lane of a device.
using executor_factory = std::function<std::unique_ptr<executor>(
  const model& m, const device_spec& spec, const lane_request& lane)>;

/// Adds (or replaces) a backend kind. Built in: "cpu" (the best CPU
/// backend present, ONNX Runtime then OpenCV DNN, falling back per model),
/// "ort", "opencv" and "sim".
void register_backend(const std::string& kind, executor_factory factory);

bool has_backend(const std::string& kind);

/// True for kinds whose executors do no real compute ("sim").
bool is_simulated_kind(const std::string& kind);

/// Throws InvalidArgument for an unknown kind or backend; whatever the
/// factory throws (InvalidModel, mostly) otherwise.
std::unique_ptr<executor> make_executor(const device_spec& spec, const model& m,
                                        const lane_request& lane);

/// Parses "cpu:3,sim:3:250us". Throws InvalidArgument naming the bad part.
std::vector<device_spec> parse_devices(const std::string& text);

/// Whether a CPU backend can run a model, and if not why (its loader's own
/// words, which name the operator it lacks).
struct backend_verdict {
  std::string backend; // "onnxruntime", "opencv-dnn"
  bool runs = false;
  std::string why;
};

/// Tries each CPU backend on `m` (ONNX Runtime only when its library is
/// here).
std::vector<backend_verdict> probe_backends(const model& m);

/// The verdicts as text, a line each (parse_model prints them).
std::string describe_backends(const std::vector<backend_verdict>& verdicts);

/// The OpenCV library the OpenCV DNN lanes use.
std::string opencv_version();

/// `ACTORRT_DEVICES` when set, else one CPU device with 3 cores (a DX-M1).
std::vector<device_spec> default_devices();

/// True when ONNX Runtime's library loads (see ort_library.hpp).
bool ort_available();
/// Its version, "" when it does not load.
std::string ort_version();
/// Why it does not load ("ONNX Runtime is not available (why)").
std::string ort_load_error();

} // namespace actorrt
