// DX-RT's C++ API over ActorRT, so code written for `dxrt::InferenceEngine`
// compiles and runs unchanged. CamelCase lives here and nowhere else.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "actorrt/inference_engine.hpp"

namespace dxrt {

using Exception = actorrt::Error;
using FileNotFoundException = actorrt::FileNotFound;
using InvalidModelException = actorrt::InvalidModel;
using InvalidArgumentException = actorrt::InvalidArgument;
using InvalidOperationException = actorrt::InvalidOperation;
using DeviceIOException = actorrt::DeviceIO;

enum DataType {
  NONE_TYPE = 0,
  FLOAT,
  UINT8,
  INT8,
  UINT16,
  INT16,
  INT32,
  INT64,
  UINT32,
  UINT64,
  MAX_TYPE,
};

class Tensor {
public:
  Tensor(actorrt::tensor_info info, void* data,
         std::shared_ptr<void> keep = nullptr)
    : info_(std::move(info)), data_(data), keep_(std::move(keep)) {}
  const std::string& name() const {
    return info_.name;
  }
  const std::vector<int64_t>& shape() const {
    return info_.shape;
  }
  DataType type() const {
    auto t = static_cast<int>(info_.type);
    return t < MAX_TYPE ? static_cast<DataType>(t) : NONE_TYPE;
  }
  void* data() const {
    return data_;
  }
  uint32_t elem_size() const {
    return static_cast<uint32_t>(actorrt::element_size(info_.type));
  }
  uint64_t size_in_bytes() const {
    return info_.byte_size();
  }

private:
  actorrt::tensor_info info_;
  void* data_;
  std::shared_ptr<void> keep_;
};

using TensorPtr = std::shared_ptr<Tensor>;
using TensorPtrs = std::vector<TensorPtr>;
using Tensors = std::vector<Tensor>;

struct InferenceOption {
  enum BOUND_OPTION {
    NPU_ALL = 0,
    NPU_0,
    NPU_1,
    NPU_2,
    NPU_01,
    NPU_12,
    NPU_02,
  };
  std::vector<int> devices;
  uint32_t boundOption = NPU_ALL;
  bool useORT = false;
  int bufferCount = actorrt::InferenceOption::default_buffer_count();
};

inline InferenceOption DefaultInferenceOption;

class InferenceEngine {
public:
  explicit InferenceEngine(const std::string& modelPath,
                           InferenceOption& option = DefaultInferenceOption)
    : engine_(modelPath, convert(option)) {}

  /// Blocking, one core. With `outputPtr`, outputs are written there.
  TensorPtrs Run(void* inputPtr, void* userArg = nullptr,
                 void* outputPtr = nullptr) {
    (void) userArg;
    return to_tensor_ptrs(engine_.Run({input(inputPtr)}, output(outputPtr)));
  }

  /// The caller keeps `inputPtr` (GetInputSize() bytes) and `outputPtr`
  /// (GetOutputSize() bytes) alive until the job ends, as with DX-RT.
  int RunAsync(void* inputPtr, void* userArg = nullptr,
               void* outputPtr = nullptr) {
    return static_cast<int>(
      engine_.RunAsync({input(inputPtr)}, userArg, nullptr, output(outputPtr)));
  }

  TensorPtrs Wait(int jobId) {
    return to_tensor_ptrs(engine_.Wait(static_cast<uint64_t>(jobId)));
  }

  void RegisterCallback(std::function<int(TensorPtrs&, void*)> cb) {
    if (!cb) {
      engine_.RegisterCallback(nullptr);
      return;
    }
    engine_.RegisterCallback([cb](const actorrt::tensors& outputs,
                                  void* userArg,
                                  const actorrt::failure& error) {
      TensorPtrs ptrs;
      if (!error)
        ptrs = to_tensor_ptrs(outputs);
      return cb(ptrs, userArg);
    });
  }
  void RegisterCallBack(std::function<int(TensorPtrs&, void*)> cb) {
    RegisterCallback(std::move(cb));
  }

  /// Frames per second over `num` jobs on all cores; the registered
  /// callback does not see them.
  float RunBenchmark(int num, void* inputPtr = nullptr) {
    std::vector<uint8_t> zeros;
    if (inputPtr == nullptr) {
      zeros.resize(engine_.GetInputSize());
      inputPtr = zeros.data();
    }
    return static_cast<float>(engine_.RunBenchmark(num, {input(inputPtr)}));
  }

  uint64_t GetInputSize() {
    return engine_.GetInputSize();
  }
  uint64_t GetOutputSize() {
    return engine_.GetOutputSize();
  }
  Tensors GetInputs() {
    return describe(engine_.GetInputs());
  }
  Tensors GetOutputs() {
    return describe(engine_.GetOutputs());
  }
  std::string GetModelName() {
    return engine_.GetModelName();
  }
  int GetLatency() {
    return static_cast<int>(engine_.GetLatency().last);
  }
  uint32_t GetNpuInferenceTime() {
    return static_cast<uint32_t>(engine_.GetNpuInferenceTime().last);
  }
  std::vector<int> GetLatencyVector() {
    auto v = engine_.GetLatencyVector();
    return {v.begin(), v.end()};
  }
  double GetLatencyMean() {
    return engine_.GetLatency().mean;
  }
  double GetLatencyStdDev() {
    return engine_.GetLatency().stddev;
  }
  int GetLatencyCnt() {
    return static_cast<int>(engine_.GetLatency().count);
  }
  double GetNpuInferenceTimeMean() {
    return engine_.GetNpuInferenceTime().mean;
  }
  double GetNpuInferenceTimeStdDev() {
    return engine_.GetNpuInferenceTime().stddev;
  }
  int GetNpuInferenceTimeCnt() {
    return static_cast<int>(engine_.GetNpuInferenceTime().count);
  }
  void Dispose() {
    engine_.Dispose();
  }

private:
  static actorrt::InferenceOption convert(const InferenceOption& o) {
    actorrt::InferenceOption result;
    result.devices = o.devices;
    result.bound = static_cast<actorrt::bound_option>(o.boundOption);
    result.use_ort = o.useORT;
    result.buffer_count = o.bufferCount;
    return result;
  }

  static Tensors describe(const std::vector<actorrt::tensor_info>& infos) {
    Tensors result;
    for (auto& info : infos)
      result.emplace_back(info, nullptr);
    return result;
  }

  actorrt::blob input(void* ptr) {
    return actorrt::blob::borrow(ptr, engine_.GetInputSize(), nullptr);
  }

  std::vector<actorrt::blob> output(void* ptr) {
    if (ptr == nullptr)
      return {};
    return {actorrt::blob::borrow(ptr, engine_.GetOutputSize(), nullptr)};
  }

  static TensorPtrs to_tensor_ptrs(const actorrt::tensors& outputs) {
    TensorPtrs result;
    for (auto& t : outputs)
      result.push_back(
        std::make_shared<Tensor>(t.info(), t.bytes.data, t.bytes.owner));
    return result;
  }

  actorrt::InferenceEngine engine_;
};

} // namespace dxrt
