// DX-RT's InferenceEngine over ActorRT, with DX-RT v3.0's members and
// signatures. A model here is one ONNX graph, run as one task ("npu_0") on a
// core; the members that describe DX-RT's compiled tasks answer for that.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <ostream>
#include <string>
#include <vector>

#include "dxrt/common.h"
#include "dxrt/inference_option.h"
#include "dxrt/tensor.h"

namespace actorrt {
class InferenceEngine;
}

namespace dxrt {

class DXRT_API InferenceEngine {
public:
  /// Jobs an engine keeps track of at once in DX-RT (its job pool). Here
  /// the in-flight limit is InferenceOption::bufferCount per device.
  static constexpr int INFERENCE_JOB_MAX_COUNT = 1024;

  /// Loads the model (an .onnx file, or a .dxnn path with an .onnx file of
  /// the same stem beside it). Throws FileNotFoundException,
  /// InvalidModelException or InvalidArgumentException.
  explicit InferenceEngine(const std::string& modelPath,
                           InferenceOption& option = DefaultInferenceOption);
  ~InferenceEngine(void);
  InferenceEngine(const InferenceEngine&) = delete;
  InferenceEngine& operator=(const InferenceEngine&) = delete;

  /// One job, waited for. The registered callback sees it too, with
  /// `userArg`. With `outputPtr` (GetOutputSize() bytes), outputs go there.
  TensorPtrs Run(void* inputPtr, void* userArg = nullptr,
                 void* outputPtr = nullptr);
  /// inputBuffers[i] into outputBuffers[i], spread over every core; the
  /// callback sees them only when `userArgs` (one per input) are given. A
  /// multi-input model given one buffer per input and one output buffer
  /// runs one job.
  std::vector<TensorPtrs> Run(const std::vector<void*>& inputBuffers,
                              const std::vector<void*>& outputBuffers,
                              const std::vector<void*>& userArgs = {});

  /// Queues one job and returns its id; blocks while the in-flight limit is
  /// reached. The caller keeps the buffers alive until the job ends.
  int RunAsync(void* inputPtr, void* userArg = nullptr,
               void* outputPtr = nullptr);
  /// One pointer per model input (a multi-input model), or one pointer to
  /// all inputs back to back. Any other count is InvalidArgumentException.
  int RunAsync(const std::vector<void*>& inputPtrs, void* userArg = nullptr,
               void* outputPtr = nullptr);
  int RunAsyncMultiInput(const std::map<std::string, void*>& inputTensors,
                         void* userArg = nullptr, void* outputPtr = nullptr);
  int RunAsyncMultiInput(const std::vector<void*>& inputPtrs,
                         void* userArg = nullptr, void* outputPtr = nullptr);

  [[deprecated("Use RunBenchmark() instead")]] float
  RunBenchMark(int num, void* inputPtr = nullptr) {
    return RunBenchmark(num, inputPtr);
  }
  /// Frames per second over `num` jobs on every core (zeros when
  /// `inputPtr` is null). The callback does not see them.
  float RunBenchmark(int num, void* inputPtr = nullptr);

  /// Runs the input on device `deviceId` alone and on a reference CPU lane
  /// of the other backend, keeps which output bytes matched bit for bit
  /// (GetBitmatchMask) and returns the device's outputs.
  TensorPtrs ValidateDevice(void* inputPtr, int deviceId = 0);
  TensorPtrs ValidateDevice(const std::vector<void*>& inputPtrs,
                            int deviceId = 0);
  TensorPtrs
  ValidateDeviceMultiInput(const std::map<std::string, void*>& inputTensors,
                           int deviceId = 0);
  TensorPtrs ValidateDeviceMultiInput(const std::vector<void*>& inputPtrs,
                                      int deviceId = 0);

  [[deprecated("Use RegisterCallback() instead")]] void RegisterCallBack(
    std::function<int(TensorPtrs& outputs, void* userArg)> callbackFunc) {
    return RegisterCallback(callbackFunc);
  }
  /// Called once per job on ActorRT's result thread. A failed job reaches
  /// it with empty outputs (and Wait throws its error).
  void RegisterCallback(
    std::function<int(TensorPtrs& outputs, void* userArg)> callbackFunc);

  /// The job's outputs, or its error thrown (also with a callback).
  TensorPtrs Wait(int jobId);

  [[deprecated("Use GetInputs() instead")]] Tensors
  inputs(void* ptr = nullptr, uint64_t phyAddr = 0) {
    return GetInputs(ptr, phyAddr);
  }
  /// The model's inputs; with `ptr`, their data points into it, back to
  /// back (and phy_addr() counts from `phyAddr`).
  Tensors GetInputs(void* ptr = nullptr, uint64_t phyAddr = 0);
  [[deprecated("Use GetInputs() instead")]] std::vector<Tensors>
  inputs(int devId) {
    return GetInputs(devId);
  }
  /// One list of input tensors per core of device `devId` that holds the
  /// model (no data: a lane owns no input buffers of its own).
  std::vector<Tensors> GetInputs(int devId);
  [[deprecated("Use GetOutputs() instead")]] Tensors
  outputs(void* ptr = nullptr, uint64_t phyAddr = 0) {
    return GetOutputs(ptr, phyAddr);
  }
  Tensors GetOutputs(void* ptr = nullptr, uint64_t phyAddr = 0);

  [[deprecated("Use GetInputSize() instead")]] uint64_t input_size() {
    return GetInputSize();
  }
  uint64_t GetInputSize();
  std::vector<uint64_t> GetInputTensorSizes();
  std::vector<uint64_t> GetOutputTensorSizes();
  [[deprecated("Use GetOutputSize() instead")]] uint64_t output_size() {
    return GetOutputSize();
  }
  uint64_t GetOutputSize();
  [[deprecated("Use GetModelName() instead")]] std::string name() {
    return GetModelName();
  }
  std::string GetModelName();
  [[deprecated("Use GetTaskOrder() instead")]] std::vector<std::string>
  task_order() {
    return GetTaskOrder();
  }
  /// {"npu_0"}: the whole ONNX graph is one task.
  std::vector<std::string> GetTaskOrder();

  [[deprecated("Use GetLatency() instead")]] int latency() {
    return GetLatency();
  }
  /// Latest job's latency, submit to outputs ready (µs).
  int GetLatency();
  [[deprecated("Use GetNpuInferenceTime() instead")]] uint32_t
  inference_time() {
    return GetNpuInferenceTime();
  }
  /// Latest job's time on its core (µs).
  uint32_t GetNpuInferenceTime();
  std::vector<int> GetLatencyVector();
  std::vector<uint32_t> GetNpuInferenceTimeVector();
  double GetLatencyMean();
  double GetNpuInferenceTimeMean();
  double GetLatencyStdDev();
  double GetNpuInferenceTimeStdDev();
  int GetLatencyCnt();
  int GetNpuInferenceTimeCnt();

  [[deprecated("Use GetAllTaskOutputs() instead")]] std::vector<TensorPtrs>
  get_outputs() {
    return GetAllTaskOutputs();
  }
  /// The latest successful job's outputs, as the one task's (empty before
  /// the first).
  std::vector<TensorPtrs> GetAllTaskOutputs();

  [[deprecated("Use GetBitmatchMask() instead")]] std::vector<uint8_t>
  bitmatch_mask(int index) {
    return GetBitmatchMask(index);
  }
  /// Of the latest ValidateDevice: for output `index`, one bit per output
  /// byte (LSB first), set where device and reference matched. Throws
  /// InvalidOperationException before any ValidateDevice.
  std::vector<uint8_t> GetBitmatchMask(int index);

  [[deprecated("Use GetNumTailTasks() instead")]] int get_num_tails() {
    return GetNumTailTasks();
  }
  /// 1: the graph's outputs are one task's.
  int GetNumTailTasks();
  [[deprecated("Use GetCompileType() instead")]] std::string
  get_compile_type() {
    return GetCompileType();
  }
  /// "onnx": the graph runs as it is, with no NPU compilation step.
  std::string GetCompileType();
  /// The ONNX file's IR version and opset, e.g. "onnx ir 8, opset 17".
  std::string GetModelVersion();
  [[deprecated("Use IsPPU() instead")]] bool is_PPU() {
    return IsPPU();
  }
  /// False: ONNX outputs are plain tensors, never PPU records.
  bool IsPPU();
  /// Whether this engine's lanes run ONNX Runtime.
  bool IsOrtConfigured();
  bool IsMultiInputModel() const;
  int GetInputTensorCount() const;
  std::vector<std::string> GetInputTensorNames() const;
  std::vector<std::string> GetOutputTensorNames() const;
  /// Every input → "npu_0".
  std::map<std::string, std::string> GetInputTensorToTaskMapping() const;

  /// Waits for the jobs in flight, then releases the model. Idempotent.
  void Dispose();

  friend DXRT_API std::ostream& operator<<(std::ostream&,
                                           const InferenceEngine&);

  TensorPtrs RunMultiInput(const std::map<std::string, void*>& inputTensors,
                           void* userArg = nullptr, void* outputPtr = nullptr);
  TensorPtrs RunMultiInput(const std::vector<void*>& inputPtrs,
                           void* userArg = nullptr, void* outputPtr = nullptr);

  /// True: outputs lie back to back in the output buffer, in
  /// GetOutputTensorNames() order.
  bool supportsTensorCentricOffsets() const;
  /// Where output `tensorName` starts in the output buffer; throws
  /// InvalidArgumentException for a name the model does not have.
  size_t GetOutputTensorOffset(const std::string& tensorName) const;

  /// DX-RT's DSP path: there is no DSP here, so these throw
  /// InvalidOperationException.
  int DSP_GetDeviceBufferPtr(uint64_t* inputPtr, uint64_t* outputPtr);
  void* DSP_Run(void* inputPtr, void* outputPtr = nullptr,
                void* userArg = nullptr);
  void* DSP_Wait(int jobId);

private:
  struct impl;
  std::unique_ptr<impl> _impl;
};

} /* namespace dxrt */
