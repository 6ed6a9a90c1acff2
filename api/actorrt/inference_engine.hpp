// ActorRT's public C++ API: one engine per model.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/errors.hpp"
#include "core/inference_option.hpp"
#include "core/stats.hpp"
#include "core/tensor.hpp"

namespace actorrt {

/// Settings of one engine that DX-RT does not have.
struct EngineSettings {
  /// Finished results kept for Wait while a callback is registered and
  /// nobody waits: the newest, at most this many and this many bytes of
  /// outputs (the newest one always); older ones are released, so memory
  /// stays flat whatever the outputs' size.
  size_t retention = 4096;
  size_t retention_bytes = size_t(64) << 20;
  /// Finished results kept for Wait without a callback and nobody waiting
  /// yet: the newest this many, up to a quarter of the host's memory.
  /// DX-RT's engine gives a job's slot to another job 1024 jobs later; a
  /// program that waits within that works here.
  size_t retention_without_callback = 4096;
  /// How long Dispose waits for jobs in flight before cancelling them, and
  /// then for a callback still running.
  std::chrono::milliseconds dispose_timeout{30000};
  /// Runs about every 100 ms while a call of this engine blocks (Run,
  /// RunAsync at the in-flight limit, Wait, RunBatch, Dispose) and may throw
  /// to give up the wait: a binding raises Ctrl-C there. The jobs go on and
  /// still end exactly once; Run's and RunBatch's results are then dropped
  /// (their buffers must stay alive: a binding's blobs own them).
  std::function<void()> interrupt;
  /// Runs RunAsync's wait for credit at the in-flight limit, the one wait
  /// of a call that does not always block: a binding lets go of its
  /// interpreter lock around it, and keeps it through RunAsync calls that
  /// find credit free. Empty: the wait runs as it is.
  std::function<void(const std::function<void()>& wait)> blocking_scope;
  /// The devices to use, as ACTORRT_DEVICES says them ("cpu:3", "sim:2",
  /// ...; the process shares one runtime per spec); empty: the default.
  std::string devices;
};

/// A distribution of durations, in milliseconds. Quantiles are estimated
/// from histogram buckets (within 26%); mean and max are exact.
struct DurationStats {
  uint64_t count = 0;
  double mean = 0, p50 = 0, p90 = 0, p99 = 0, max = 0;

  /// All of them together (ms).
  double total() const {
    return mean * double(count);
  }
};

/// What one core did for an engine.
struct CoreStats {
  int device = 0;
  int core = 0;
  std::string host;    // "local", or the worker node
  std::string backend; // the lane running this engine's model
  bool simulated = false;
  uint64_t jobs_done = 0;
  uint64_t jobs_failed = 0;
  int in_flight = 0; // all engines' jobs dispatched to it, unanswered
  /// Jobs per executor call on this core (dynamic batching; 1 unbatched).
  double mean_batch = 0;
  DurationStats compute;
  /// Share of the time since the engine started that the core computed
  /// this engine's jobs.
  double utilisation = 0;
};

/// An engine's counters since it was made.
struct EngineStats {
  double seconds = 0; // since the engine was made
  uint64_t jobs_done = 0;
  uint64_t jobs_failed = 0; // failed, timed out or cancelled
  int in_flight = 0;        // submitted, not yet ended
  int peak_in_flight = 0;
  size_t held_results = 0;
  /// Executor calls its jobs ran in, and jobs per call (dynamic batching;
  /// 1 unbatched, 0 before the first).
  uint64_t runs = 0;
  double mean_batch = 0;
  DurationStats latency; // submitted → outputs ready
  DurationStats queue;   // latency − compute: waiting, transfer, delivery
  DurationStats compute; // on the core
  std::vector<CoreStats> cores;
};

/// What InferenceEngine::Validate found.
struct Validation {
  tensors outputs; // the device's
  /// Per output, one entry per byte: 1 where the device's byte equals the
  /// reference lane's bit for bit.
  std::vector<std::vector<uint8_t>> matches;
  std::vector<std::string> device_lanes; // as GetLaneBackends() names them
  std::vector<std::string> reference_lanes;
};

/// Records every job's stages (submitted, dispatched, compute on its core,
/// delivered, callback) from now on, for a Chrome trace JSON file that
/// StopTrace writes to `path` (Perfetto and chrome://tracing open it).
/// ACTORRT_TRACE=path does the same for a whole run. Throws InvalidArgument
/// when `path` cannot be written.
void StartTrace(const std::string& path);
/// Writes the trace and stops recording; returns the jobs written.
size_t StopTrace();

/// ActorRT's version.
std::string Version();
/// The ONNX Runtime the CPU lanes load, "" when none loads.
std::string OnnxRuntimeVersion();

/// What ActorRT knows of the model at `path` (its tensors, and which
/// backends can run it), as text. Throws as a model's load does.
std::string DescribeModel(const std::string& path);

/// Where ActorRT's one-time warnings go (default: stderr), so a binding can
/// raise them its own way, once.
void SetWarningHandler(std::function<void(const std::string&)> fn);

class InferenceEngine {
public:
  using Callback = std::function<int(const tensors& outputs, void* user_arg,
                                     const failure& error)>;

  /// Loads and validates the model and places it on the cores `option`
  /// allows. A path ending in .dxnn loads the .onnx file of the same stem
  /// beside it (said once). Throws FileNotFound, InvalidModel or
  /// InvalidArgument.
  explicit InferenceEngine(const std::string& model_path,
                           const InferenceOption& option = {},
                           EngineSettings settings = {});
  ~InferenceEngine();

  InferenceEngine(const InferenceEngine&) = delete;
  InferenceEngine& operator=(const InferenceEngine&) = delete;

  /// Runs one job and waits for it (one core). The callback does not see it.
  /// With `outputs` (one buffer of GetOutputSize() bytes, or one per model
  /// output), the results are written there and the tensors view them.
  tensors Run(const std::vector<blob>& inputs, std::vector<blob> outputs = {});
  /// The same, seen by the registered callback with `user_arg` as a RunAsync
  /// job is (DX-RT's Run); `keep` holds `user_arg` until the job ends.
  tensors Run(const std::vector<blob>& inputs, void* user_arg,
              std::shared_ptr<void> keep, std::vector<blob> outputs = {});
  /// One raw buffer of GetInputSize() bytes, borrowed for the call.
  tensors Run(const void* input, size_t bytes);

  /// Queues one job; blocks while the in-flight limit is reached. Inputs are
  /// one raw buffer of GetInputSize() bytes or one buffer per model input;
  /// each blob's owner keeps its memory alive until the job ends. `keep`
  /// does the same for `user_arg`. With `outputs`, results are written into
  /// those caller buffers (see Run). Many threads may call this at once.
  uint64_t RunAsync(const std::vector<blob>& inputs, void* user_arg = nullptr,
                    std::shared_ptr<void> keep = nullptr,
                    std::vector<blob> outputs = {});

  /// RunAsync and Run with per-job options: a deadline for a core to start
  /// the job (past it the job ends with Timeout, unrun) and a priority.
  /// Throws InvalidArgument for values out of range.
  uint64_t RunAsync(const std::vector<blob>& inputs, const JobOptions& job,
                    void* user_arg = nullptr,
                    std::shared_ptr<void> keep = nullptr,
                    std::vector<blob> outputs = {});
  tensors Run(const std::vector<blob>& inputs, const JobOptions& job,
              std::vector<blob> outputs = {});
  tensors Run(const std::vector<blob>& inputs, const JobOptions& job,
              void* user_arg, std::shared_ptr<void> keep,
              std::vector<blob> outputs = {});

  /// What Cancel did: the job had not started (it ended at once with
  /// Cancelled and never runs), or it runs (it finishes, and its callback
  /// and Wait see Cancelled instead of its outputs).
  enum class CancelResult { NotStarted, Running };
  /// Cancels job `job_id`. A job on a worker node's core counts as not
  /// started: it ends here at once, though the node may still compute it.
  /// Throws InvalidArgument for an id this engine never issued or a job
  /// that has ended (or was cancelled already).
  CancelResult Cancel(uint64_t job_id);

  /// The job's outputs, or its error thrown. Every job can be waited for
  /// once, also with a callback registered (within the retention window).
  tensors Wait(uint64_t job_id);
  tensors Wait(uint64_t job_id, std::chrono::milliseconds timeout);

  /// Called once per job on the result thread, before Wait returns it. The
  /// return value is ignored (DX-RT's signature). Empty: no callback.
  void RegisterCallback(Callback fn);
  /// The same, with `scope` wrapped around each batch of callbacks (a
  /// binding takes its interpreter lock there once per batch).
  using CallbackScope = std::function<void(const std::function<void()>&)>;
  void RegisterCallback(Callback fn, CallbackScope scope);
  /// Reports exceptions thrown by the callback; default: stderr.
  void
  SetCallbackErrorHandler(std::function<void(uint64_t, const std::string&)> fn);

  /// Runs inputs[i] into outputs[i] (caller buffers of GetOutputSize()
  /// bytes each, or one per model output), spread over all cores. The
  /// callback does not see these jobs.
  void RunBatch(const std::vector<std::vector<blob>>& inputs,
                const std::vector<std::vector<blob>>& outputs);

  /// Frames per second over `num` jobs of `inputs` on all cores, run as
  /// batches: the callback does not see them.
  double RunBenchmark(int num, const std::vector<blob>& inputs);

  uint64_t GetInputSize() const;
  uint64_t GetOutputSize() const;
  const std::vector<tensor_info>& GetInputs() const;
  const std::vector<tensor_info>& GetOutputs() const;
  const std::string& GetModelName() const;
  /// "ONNX opset N": the operator set the model was written for.
  std::string GetModelVersion() const;

  stats_summary GetLatency() const;
  stats_summary GetNpuInferenceTime() const;
  std::vector<int64_t> GetLatencyVector() const;
  std::vector<int64_t> GetNpuInferenceTimeVector() const;

  /// Counters and latency distributions of this engine's jobs, per core
  /// too. Cheap enough to poll.
  EngineStats GetStats() const;

  /// Runs `inputs` on device `device_id` alone and on a reference CPU lane
  /// of the other backend (a runtime of its own on this host, whatever the
  /// device is: a simulated NPU computes nothing to compare against), and
  /// compares their outputs byte by byte (DX-RT's ValidateDevice). Throws
  /// InvalidArgument for a device the runtime does not have.
  Validation Validate(const std::vector<blob>& inputs, int device_id) const;

  /// Most jobs in flight at once (buffer_count × devices used).
  int GetMaxInFlight() const;
  /// The highest number of jobs ever in flight at once.
  int GetPeakInFlight() const;
  /// Finished results held for Wait right now.
  size_t GetHeldResults() const;
  /// The backend of each lane holding this engine's model, as
  /// "device:core backend" (e.g. "0:1 onnxruntime").
  std::vector<std::string> GetLaneBackends() const;
  /// The outputs of the latest job that succeeded (empty before the first).
  tensors GetLatestOutputs() const;
  /// True when every core this engine uses is simulated (no real compute).
  bool IsSimulated() const;
  /// The local devices of the runtime this engine runs on, as
  /// ACTORRT_DEVICES names them ("cpu:3", "sim:3:2ms"); worker nodes'
  /// cores show in GetStats().cores.
  std::vector<std::string> GetDevices() const;

  /// Stops intake, cancels the jobs no core has started, waits for those
  /// running (bounded by the settings' dispose_timeout), cancels what is
  /// left and unloads the model. Returns the number of jobs cancelled.
  /// Idempotent; afterwards every other call throws InvalidOperation. Inside a
  /// callback it throws InvalidOperation (it would wait for that callback),
  /// unless a Dispose is already under way elsewhere: then it returns 0 at
  /// once.
  size_t Dispose();
  /// The same with its own bound instead of dispose_timeout.
  size_t Dispose(std::chrono::milliseconds timeout);

  /// The library's own state of an engine (defined inside it, and freed
  /// there), and the constructor its own code uses to make an engine over
  /// such state.
  struct impl;
  struct impl_deleter {
    void operator()(impl* state) const;
  };
  using state_ptr = std::unique_ptr<impl, impl_deleter>;
  explicit InferenceEngine(state_ptr state);

private:
  state_ptr impl_;
};

} // namespace actorrt
