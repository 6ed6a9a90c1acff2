// DX-RT's C++ API over ActorRT, so code written for `dxrt::InferenceEngine`
// compiles and runs unchanged. CamelCase lives here and nowhere else.
#pragma once

#include <chrono>
#include <cstring>
#include <functional>
#include <memory>
#include <mutex>
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
    : engine_(modelPath, convert(option)) {
    // Always on: jobs with an outputPtr get their outputs copied there as
    // soon as they finish, whether or not anyone waits or listens.
    engine_.RegisterCallback([this](const actorrt::tensors& outputs,
                                    void* user_arg,
                                    const actorrt::failure& error) {
      auto* arg = static_cast<job_arg*>(user_arg);
      TensorPtrs ptrs;
      if (!error)
        ptrs = to_tensor_ptrs(outputs, arg->output);
      std::shared_ptr<user_callback> cb;
      {
        std::lock_guard<std::mutex> guard{mtx_};
        cb = callback_;
      }
      return cb ? (*cb)(ptrs, arg->user) : 0;
    });
  }

  /// Blocking, one core. With `outputPtr`, outputs are written there.
  TensorPtrs Run(void* inputPtr, void* userArg = nullptr,
                 void* outputPtr = nullptr) {
    (void) userArg;
    auto raw = actorrt::blob::borrow(inputPtr, engine_.GetInputSize(), nullptr);
    return to_tensor_ptrs(engine_.Run({raw}), outputPtr);
  }

  /// The caller keeps `inputPtr` (GetInputSize() bytes) alive until the job
  /// ends, as with DX-RT.
  int RunAsync(void* inputPtr, void* userArg = nullptr,
               void* outputPtr = nullptr) {
    auto arg = std::make_shared<job_arg>(job_arg{userArg, outputPtr});
    auto raw = actorrt::blob::borrow(inputPtr, engine_.GetInputSize(), nullptr);
    return static_cast<int>(engine_.RunAsync({raw}, arg.get(), arg));
  }

  /// The job's outputs; with an outputPtr they were also copied there.
  TensorPtrs Wait(int jobId) {
    return to_tensor_ptrs(engine_.Wait(static_cast<uint64_t>(jobId)), nullptr);
  }

  void RegisterCallback(std::function<int(TensorPtrs&, void*)> cb) {
    std::lock_guard<std::mutex> guard{mtx_};
    callback_ = cb ? std::make_shared<user_callback>(std::move(cb)) : nullptr;
  }
  void RegisterCallBack(std::function<int(TensorPtrs&, void*)> cb) {
    RegisterCallback(std::move(cb));
  }

  float RunBenchmark(int num, void* inputPtr = nullptr) {
    std::vector<uint8_t> zeros;
    if (inputPtr == nullptr) {
      zeros.resize(engine_.GetInputSize());
      inputPtr = zeros.data();
    }
    auto start = std::chrono::steady_clock::now();
    std::vector<int> ids;
    for (int i = 0; i < num; ++i)
      ids.push_back(RunAsync(inputPtr));
    for (int id : ids)
      Wait(id);
    std::chrono::duration<double> secs
      = std::chrono::steady_clock::now() - start;
    return static_cast<float>(num / secs.count());
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
  struct job_arg {
    void* user;
    void* output;
  };
  using user_callback = std::function<int(TensorPtrs&, void*)>;

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

  /// With `output`, copies the outputs there (DX-RT's outputPtr).
  static TensorPtrs to_tensor_ptrs(const actorrt::tensors& outputs,
                                   void* output) {
    TensorPtrs result;
    auto* dst = static_cast<uint8_t*>(output);
    for (auto& t : outputs) {
      if (dst != nullptr) {
        std::memcpy(dst, t.bytes.data, t.bytes.size);
        result.push_back(std::make_shared<Tensor>(t.info, dst));
        dst += t.bytes.size;
      } else {
        result.push_back(
          std::make_shared<Tensor>(t.info, t.bytes.data, t.bytes.owner));
      }
    }
    return result;
  }

  std::mutex mtx_;
  std::shared_ptr<user_callback> callback_;
  actorrt::InferenceEngine engine_; // last: disposed before the callback dies
};

} // namespace dxrt
