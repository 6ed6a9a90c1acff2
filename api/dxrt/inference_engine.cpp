#include "dxrt/inference_engine.h"

#include <algorithm>
#include <iostream>
#include <mutex>

#include "actorrt/inference_engine.hpp"
#include "actors/runtime.hpp"
#include "dxrt/configuration.h"
#include "dxrt/guard.hpp"

namespace dxrt {

namespace {

DataType dxrt_type(actorrt::dtype t) {
  auto n = static_cast<int>(t);
  return n > NONE_TYPE && n < BBOX ? static_cast<DataType>(n) : NONE_TYPE;
}

} // namespace

struct InferenceEngine::impl {
  std::unique_ptr<actorrt::InferenceEngine> engine;
  std::mutex bitmatch_mtx;
  std::vector<std::vector<uint8_t>> bitmatch; // per output, a bit per byte

  actorrt::InferenceEngine& ie() const {
    return *engine;
  }

  static TensorPtr wrap(const actorrt::tensor& t) {
    auto& info = t.info();
    auto p = std::make_shared<Tensor>(info.name, info.shape,
                                      dxrt_type(info.type), t.bytes.data);
    p->_elemSize = static_cast<uint32_t>(actorrt::element_size(info.type));
    p->_keep = t.bytes.owner;
    return p;
  }

  static TensorPtrs wrap(const actorrt::tensors& ts) {
    TensorPtrs out;
    out.reserve(ts.size());
    for (auto& t : ts)
      out.push_back(wrap(t));
    return out;
  }

  /// Descriptions of `infos`; with `base`, data back to back from there.
  static Tensors describe(const std::vector<actorrt::tensor_info>& infos,
                          void* base, uint64_t phy) {
    Tensors out;
    uint64_t offset = 0;
    for (auto& info : infos) {
      Tensor t(info.name, info.shape, dxrt_type(info.type));
      t._elemSize = static_cast<uint32_t>(actorrt::element_size(info.type));
      if (base != nullptr) {
        t._data = static_cast<uint8_t*>(base) + offset;
        t._phyAddr = phy + offset;
      }
      offset += info.byte_size();
      out.push_back(std::move(t));
    }
    return out;
  }

  /// One buffer holding every input back to back.
  std::vector<actorrt::blob> whole_input(void* ptr) const {
    if (ptr == nullptr)
      throw NullPointerException("the input pointer is null");
    return {actorrt::blob::borrow(ptr, ie().GetInputSize(), nullptr)};
  }

  /// One pointer per model input, in GetInputTensorNames() order.
  std::vector<actorrt::blob> each_input(const std::vector<void*>& ptrs) const {
    auto& infos = ie().GetInputs();
    if (ptrs.size() != infos.size())
      throw InvalidArgumentException(
        "the model has " + std::to_string(infos.size()) + " input tensor(s), "
        + std::to_string(ptrs.size()) + " pointer(s) were given");
    std::vector<actorrt::blob> blobs;
    for (size_t i = 0; i < ptrs.size(); ++i) {
      if (ptrs[i] == nullptr)
        throw NullPointerException("the pointer for input " + infos[i].name
                                   + " is null");
      blobs.push_back(
        actorrt::blob::borrow(ptrs[i], infos[i].byte_size(), nullptr));
    }
    return blobs;
  }

  /// A vector of pointers: one per input, or one to all of them.
  std::vector<actorrt::blob> inputs(const std::vector<void*>& ptrs) const {
    if (ptrs.size() == 1 && ie().GetInputs().size() != 1)
      return whole_input(ptrs[0]);
    return each_input(ptrs);
  }

  std::vector<actorrt::blob>
  by_name(const std::map<std::string, void*>& named) const {
    std::vector<void*> ptrs;
    for (auto& info : ie().GetInputs()) {
      auto it = named.find(info.name);
      if (it == named.end())
        throw InvalidArgumentException("input tensor " + info.name
                                       + " is missing");
      ptrs.push_back(it->second);
    }
    if (named.size() != ptrs.size())
      for (auto& [name, ptr] : named)
        if (std::none_of(
              ie().GetInputs().begin(), ie().GetInputs().end(),
              [&name = name](auto& info) { return info.name == name; }))
          throw InvalidArgumentException("the model has no input tensor "
                                         + name);
    return each_input(ptrs);
  }

  std::vector<actorrt::blob> output(void* ptr) const {
    if (ptr == nullptr)
      return {};
    return {actorrt::blob::borrow(ptr, ie().GetOutputSize(), nullptr)};
  }

  int submit(std::vector<actorrt::blob> in, void* user_arg, void* out) {
    return static_cast<int>(ie().RunAsync(in, user_arg, nullptr, output(out)));
  }

  /// DX-RT's Run: the registered callback sees the job too.
  TensorPtrs run(std::vector<actorrt::blob> in, void* user_arg, void* out) {
    return wrap(ie().Run(in, user_arg, nullptr, output(out)));
  }

  TensorPtrs validate(std::vector<actorrt::blob> in, int device_id);
};

InferenceEngine::InferenceEngine(const std::string& modelPath,
                                 InferenceOption& option)
  : _impl(std::make_unique<impl>()) {
  actorrt::InferenceOption o;
  o.devices = option.devices;
  o.bound = static_cast<actorrt::bound_option>(option.boundOption);
  o.use_ort = option.useORT;
  o.buffer_count = option.bufferCount;
  guarded([&] {
    _impl->engine = std::make_unique<actorrt::InferenceEngine>(modelPath, o);
  });
  if (Configuration::GetInstance().GetEnable(
        Configuration::ITEM::SHOW_MODEL_INFO))
    std::cout << *this << std::endl;
}

InferenceEngine::~InferenceEngine() {
  try {
    Dispose();
  } catch (...) {
    // a destructor must not throw
  }
}

TensorPtrs InferenceEngine::Run(void* inputPtr, void* userArg,
                                void* outputPtr) {
  return guarded([&] {
    return _impl->run(_impl->whole_input(inputPtr), userArg, outputPtr);
  });
}

std::vector<TensorPtrs>
InferenceEngine::Run(const std::vector<void*>& inputBuffers,
                     const std::vector<void*>& outputBuffers,
                     const std::vector<void*>& userArgs) {
  auto& d = *_impl;
  return guarded([&]() -> std::vector<TensorPtrs> {
    if (inputBuffers.empty())
      throw InvalidArgumentException("Run: no input buffers");
    if (IsMultiInputModel() && inputBuffers.size() == d.ie().GetInputs().size()
        && outputBuffers.size() == 1 && userArgs.size() <= 1)
      return {d.run(d.each_input(inputBuffers),
                    userArgs.empty() ? nullptr : userArgs[0],
                    outputBuffers[0])};
    if (!userArgs.empty() && userArgs.size() != inputBuffers.size())
      throw InvalidArgumentException(
        "Run: " + std::to_string(inputBuffers.size()) + " inputs but "
        + std::to_string(userArgs.size()) + " user arguments");
    if (outputBuffers.size() != inputBuffers.size())
      throw InvalidArgumentException(
        "Run: " + std::to_string(inputBuffers.size()) + " inputs but "
        + std::to_string(outputBuffers.size()) + " output buffers");
    std::vector<TensorPtrs> results;
    if (userArgs.empty()) { // the callback does not see a plain batch
      std::vector<std::vector<actorrt::blob>> in, out;
      for (size_t i = 0; i < inputBuffers.size(); ++i) {
        in.push_back(d.whole_input(inputBuffers[i]));
        if (outputBuffers[i] == nullptr)
          throw NullPointerException("Run: output buffer " + std::to_string(i)
                                     + " is null");
        out.push_back(d.output(outputBuffers[i]));
      }
      d.ie().RunBatch(in, out);
      for (auto* ptr : outputBuffers) {
        TensorPtrs ptrs;
        for (auto& t : impl::describe(d.ie().GetOutputs(), ptr, 0))
          ptrs.push_back(std::make_shared<Tensor>(std::move(t)));
        results.push_back(std::move(ptrs));
      }
      return results;
    }
    std::vector<int> ids;
    for (size_t i = 0; i < inputBuffers.size(); ++i)
      ids.push_back(d.submit(d.whole_input(inputBuffers[i]), userArgs[i],
                             outputBuffers[i]));
    // Every job ends before an error leaves: none outlives the buffers.
    std::exception_ptr first;
    for (int id : ids) {
      try {
        results.push_back(d.wrap(d.ie().Wait(static_cast<uint64_t>(id))));
      } catch (...) {
        if (!first)
          first = std::current_exception();
      }
    }
    if (first)
      std::rethrow_exception(first);
    return results;
  });
}

int InferenceEngine::RunAsync(void* inputPtr, void* userArg, void* outputPtr) {
  return guarded([&] {
    return _impl->submit(_impl->whole_input(inputPtr), userArg, outputPtr);
  });
}

int InferenceEngine::RunAsync(const std::vector<void*>& inputPtrs,
                              void* userArg, void* outputPtr) {
  return guarded([&] {
    return _impl->submit(_impl->inputs(inputPtrs), userArg, outputPtr);
  });
}

int InferenceEngine::RunAsyncMultiInput(
  const std::map<std::string, void*>& inputTensors, void* userArg,
  void* outputPtr) {
  return guarded([&] {
    return _impl->submit(_impl->by_name(inputTensors), userArg, outputPtr);
  });
}

int InferenceEngine::RunAsyncMultiInput(const std::vector<void*>& inputPtrs,
                                        void* userArg, void* outputPtr) {
  return guarded([&] {
    return _impl->submit(_impl->each_input(inputPtrs), userArg, outputPtr);
  });
}

TensorPtrs
InferenceEngine::RunMultiInput(const std::map<std::string, void*>& inputTensors,
                               void* userArg, void* outputPtr) {
  return guarded([&] {
    return _impl->run(_impl->by_name(inputTensors), userArg, outputPtr);
  });
}

TensorPtrs InferenceEngine::RunMultiInput(const std::vector<void*>& inputPtrs,
                                          void* userArg, void* outputPtr) {
  return guarded([&] {
    return _impl->run(_impl->each_input(inputPtrs), userArg, outputPtr);
  });
}

float InferenceEngine::RunBenchmark(int num, void* inputPtr) {
  return guarded([&] {
    std::vector<uint8_t> zeros;
    if (inputPtr == nullptr) {
      zeros.resize(_impl->ie().GetInputSize());
      inputPtr = zeros.data();
    }
    return static_cast<float>(
      _impl->ie().RunBenchmark(num, _impl->whole_input(inputPtr)));
  });
}

TensorPtrs InferenceEngine::impl::validate(std::vector<actorrt::blob> in,
                                           int device_id) {
  int devices = static_cast<int>(ie().GetDevices().size());
  if (device_id < 0 || device_id >= devices) // DX-RT's exception for it
    throw DeviceIOException("ValidateDevice: no device "
                            + std::to_string(device_id) + " (this runtime has "
                            + std::to_string(devices) + ")");
  auto v = ie().Validate(in, device_id);
  std::vector<std::vector<uint8_t>> masks; // DX-RT's: a bit per byte
  for (auto& match : v.matches) {
    std::vector<uint8_t> mask((match.size() + 7) / 8, 0);
    for (size_t k = 0; k < match.size(); ++k)
      mask[k / 8] |= uint8_t(match[k] << (k % 8));
    masks.push_back(std::move(mask));
  }
  std::lock_guard<std::mutex> guard{bitmatch_mtx};
  bitmatch = std::move(masks);
  return wrap(v.outputs);
}

TensorPtrs InferenceEngine::ValidateDevice(void* inputPtr, int deviceId) {
  return guarded(
    [&] { return _impl->validate(_impl->whole_input(inputPtr), deviceId); });
}

TensorPtrs InferenceEngine::ValidateDevice(const std::vector<void*>& inputPtrs,
                                           int deviceId) {
  return guarded(
    [&] { return _impl->validate(_impl->inputs(inputPtrs), deviceId); });
}

TensorPtrs InferenceEngine::ValidateDeviceMultiInput(
  const std::map<std::string, void*>& inputTensors, int deviceId) {
  return guarded(
    [&] { return _impl->validate(_impl->by_name(inputTensors), deviceId); });
}

TensorPtrs
InferenceEngine::ValidateDeviceMultiInput(const std::vector<void*>& inputPtrs,
                                          int deviceId) {
  return guarded(
    [&] { return _impl->validate(_impl->each_input(inputPtrs), deviceId); });
}

std::vector<uint8_t> InferenceEngine::GetBitmatchMask(int index) {
  std::lock_guard<std::mutex> guard{_impl->bitmatch_mtx};
  auto& masks = _impl->bitmatch;
  if (masks.empty())
    throw InvalidOperationException(
      "no bit-match mask yet: call ValidateDevice first");
  if (index < 0 || index >= static_cast<int>(masks.size()))
    throw InvalidArgumentException(
      "GetBitmatchMask: output index must be in 0.."
      + std::to_string(masks.size() - 1) + ", got " + std::to_string(index));
  return masks[index];
}

void InferenceEngine::RegisterCallback(
  std::function<int(TensorPtrs& outputs, void* userArg)> callbackFunc) {
  guarded([&] {
    if (!callbackFunc) {
      _impl->ie().RegisterCallback(nullptr);
      return;
    }
    _impl->ie().RegisterCallback(
      [cb = std::move(callbackFunc)](const actorrt::tensors& outputs,
                                     void* userArg,
                                     const actorrt::failure& error) {
        TensorPtrs ptrs;
        if (!error)
          ptrs = impl::wrap(outputs);
        return cb(ptrs, userArg);
      });
  });
}

TensorPtrs InferenceEngine::Wait(int jobId) {
  return guarded([&] {
    if (jobId < 0)
      throw InvalidArgumentException("Wait: job id " + std::to_string(jobId)
                                     + " was never issued");
    return impl::wrap(_impl->ie().Wait(static_cast<uint64_t>(jobId)));
  });
}

Tensors InferenceEngine::GetInputs(void* ptr, uint64_t phyAddr) {
  return guarded(
    [&] { return impl::describe(_impl->ie().GetInputs(), ptr, phyAddr); });
}

std::vector<Tensors> InferenceEngine::GetInputs(int devId) {
  return guarded([&] {
    int devices = static_cast<int>(_impl->ie().GetDevices().size());
    if (devId < 0 || devId >= devices)
      throw InvalidArgumentException("GetInputs: no device "
                                     + std::to_string(devId));
    std::vector<Tensors> per_core;
    for (auto& core : _impl->ie().GetStats().cores)
      if (core.device == devId && !core.backend.empty())
        per_core.push_back(impl::describe(_impl->ie().GetInputs(), nullptr, 0));
    return per_core;
  });
}

Tensors InferenceEngine::GetOutputs(void* ptr, uint64_t phyAddr) {
  return guarded(
    [&] { return impl::describe(_impl->ie().GetOutputs(), ptr, phyAddr); });
}

namespace {

std::vector<uint64_t> sizes(const std::vector<actorrt::tensor_info>& infos) {
  std::vector<uint64_t> out;
  for (auto& info : infos)
    out.push_back(info.byte_size());
  return out;
}

std::vector<std::string> names(const std::vector<actorrt::tensor_info>& in) {
  std::vector<std::string> out;
  for (auto& info : in)
    out.push_back(info.name);
  return out;
}

} // namespace

uint64_t InferenceEngine::GetInputSize() {
  return guarded([&] { return _impl->ie().GetInputSize(); });
}
std::vector<uint64_t> InferenceEngine::GetInputTensorSizes() {
  return guarded([&] { return sizes(_impl->ie().GetInputs()); });
}
std::vector<uint64_t> InferenceEngine::GetOutputTensorSizes() {
  return guarded([&] { return sizes(_impl->ie().GetOutputs()); });
}
uint64_t InferenceEngine::GetOutputSize() {
  return guarded([&] { return _impl->ie().GetOutputSize(); });
}
std::string InferenceEngine::GetModelName() {
  return guarded([&] { return _impl->ie().GetModelName(); });
}
std::vector<std::string> InferenceEngine::GetTaskOrder() {
  return {"npu_0"};
}

int InferenceEngine::GetLatency() {
  return guarded([&] { return int(_impl->ie().GetLatency().last); });
}
uint32_t InferenceEngine::GetNpuInferenceTime() {
  return guarded(
    [&] { return uint32_t(_impl->ie().GetNpuInferenceTime().last); });
}
std::vector<int> InferenceEngine::GetLatencyVector() {
  return guarded([&] {
    auto v = _impl->ie().GetLatencyVector();
    return std::vector<int>(v.begin(), v.end());
  });
}
std::vector<uint32_t> InferenceEngine::GetNpuInferenceTimeVector() {
  return guarded([&] {
    auto v = _impl->ie().GetNpuInferenceTimeVector();
    return std::vector<uint32_t>(v.begin(), v.end());
  });
}
double InferenceEngine::GetLatencyMean() {
  return guarded([&] { return _impl->ie().GetLatency().mean; });
}
double InferenceEngine::GetNpuInferenceTimeMean() {
  return guarded([&] { return _impl->ie().GetNpuInferenceTime().mean; });
}
double InferenceEngine::GetLatencyStdDev() {
  return guarded([&] { return _impl->ie().GetLatency().stddev; });
}
double InferenceEngine::GetNpuInferenceTimeStdDev() {
  return guarded([&] { return _impl->ie().GetNpuInferenceTime().stddev; });
}
int InferenceEngine::GetLatencyCnt() {
  return guarded([&] { return int(_impl->ie().GetLatency().count); });
}
int InferenceEngine::GetNpuInferenceTimeCnt() {
  return guarded([&] { return int(_impl->ie().GetNpuInferenceTime().count); });
}

std::vector<TensorPtrs> InferenceEngine::GetAllTaskOutputs() {
  return guarded([&] {
    return std::vector<TensorPtrs>{impl::wrap(_impl->ie().GetLatestOutputs())};
  });
}

int InferenceEngine::GetNumTailTasks() {
  return 1;
}
std::string InferenceEngine::GetCompileType() {
  return "onnx";
}
std::string InferenceEngine::GetModelVersion() {
  return guarded([&] { return _impl->ie().GetModelVersion(); });
}
bool InferenceEngine::IsPPU() {
  return false;
}

bool InferenceEngine::IsOrtConfigured() {
  return guarded([&] {
    auto lanes = _impl->ie().GetLaneBackends();
    return !lanes.empty()
           && std::all_of(lanes.begin(), lanes.end(), [](auto& lane) {
                return lane.find("onnxruntime") != std::string::npos;
              });
  });
}

bool InferenceEngine::IsMultiInputModel() const {
  return GetInputTensorCount() > 1;
}
int InferenceEngine::GetInputTensorCount() const {
  return guarded([&] { return int(_impl->ie().GetInputs().size()); });
}
std::vector<std::string> InferenceEngine::GetInputTensorNames() const {
  return guarded([&] { return names(_impl->ie().GetInputs()); });
}
std::vector<std::string> InferenceEngine::GetOutputTensorNames() const {
  return guarded([&] { return names(_impl->ie().GetOutputs()); });
}
std::map<std::string, std::string>
InferenceEngine::GetInputTensorToTaskMapping() const {
  std::map<std::string, std::string> mapping;
  for (auto& name : GetInputTensorNames())
    mapping[name] = "npu_0";
  return mapping;
}

bool InferenceEngine::supportsTensorCentricOffsets() const {
  return true;
}

size_t InferenceEngine::GetOutputTensorOffset(const std::string& name) const {
  return guarded([&] {
    size_t offset = 0;
    for (auto& info : _impl->ie().GetOutputs()) {
      if (info.name == name)
        return offset;
      offset += info.byte_size();
    }
    throw InvalidArgumentException("the model has no output tensor " + name);
  });
}

void InferenceEngine::Dispose() {
  auto& ie = *_impl->engine;
  try {
    if (Configuration::GetInstance().GetEnable(
          Configuration::ITEM::SHOW_PROFILE)) {
      auto s = ie.GetStats();
      std::cout << "[" << ie.GetModelName() << "] " << s.jobs_done << " jobs, "
                << s.jobs_failed << " failed; latency ms mean "
                << s.latency.mean << " p50 " << s.latency.p50 << " p99 "
                << s.latency.p99 << "; core time ms mean " << s.compute.mean
                << " p50 " << s.compute.p50 << " p99 " << s.compute.p99
                << std::endl;
    }
  } catch (const actorrt::InvalidOperation&) {
    return; // disposed already
  }
  guarded([&] { ie.Dispose(); });
}

namespace {

[[noreturn]] void no_dsp() {
  throw InvalidOperationException(
    "ActorRT has no DSP: DSP_* calls are for DX-RT's DSP-equipped devices");
}

} // namespace

int InferenceEngine::DSP_GetDeviceBufferPtr(uint64_t*, uint64_t*) {
  no_dsp();
}
void* InferenceEngine::DSP_Run(void*, void*, void*) {
  no_dsp();
}
void* InferenceEngine::DSP_Wait(int) {
  no_dsp();
}

std::ostream& operator<<(std::ostream& os, const InferenceEngine& ie) {
  auto& e = *ie._impl->engine;
  auto list = [&os](const std::vector<actorrt::tensor_info>& infos) {
    for (auto& info : infos)
      os << "  - " << info.name << ", " << dxrt_type(info.type) << ", "
         << actorrt::shape_string(info.shape) << ", " << info.byte_size()
         << " bytes\n";
  };
  os << "\n=== Model File: " << e.GetModelName() << " ===\n";
  os << "\nModel Input Tensors:\n";
  list(e.GetInputs());
  os << "Model Output Tensors:\n";
  list(e.GetOutputs());
  os << "\nTasks:\n  [ ] -> npu_0 -> [ ]\n";
  return os;
}

} // namespace dxrt
