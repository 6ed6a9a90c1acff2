// Per-engine options, with DX-RT's names and values.
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

namespace actorrt {

/// Which NPU cores of a device an engine may use (DX-RT's BOUND_OPTION).
enum class bound_option : uint32_t {
  npu_all = 0,
  npu_0 = 1,
  npu_1 = 2,
  npu_2 = 3,
  npu_01 = 4,
  npu_12 = 5,
  npu_02 = 6,
};

/// The core indices a bound option allows, as a bit mask over cores 0..31.
/// NPU_ALL allows every core, whatever the device's core count.
uint32_t bound_core_mask(bound_option bound);

struct InferenceOption {
  /// Device ids to use; empty means every device.
  std::vector<int> devices;
  bound_option bound = bound_option::npu_all;
  /// CPU lanes on ONNX Runtime (true) or OpenCV DNN (false). Defaults to
  /// whether ONNX Runtime is present, as in a DX-RT built with it; asking
  /// for it where it is absent warns once and runs on OpenCV DNN.
  bool use_ort = default_use_ort();
  /// Most jobs in flight per device (DX-RT's max load), 1..100.
  int buffer_count = default_buffer_count();

  /// Most samples a core runs as one executor call (dynamic batching): it
  /// takes up to this many queued jobs of one model at once. 1 turns
  /// batching off. Only models whose dimension 0 may be a batch axis batch.
  int max_batch_size = default_max_batch_size();
  /// How long a core that holds fewer than max_batch_size jobs of a model
  /// waits for more before it runs them (µs). 0: never wait; a batch then
  /// forms only from jobs already queued, so an idle core starts at once.
  int batch_delay_us = default_batch_delay_us();

  /// Most time a job may wait for a core to start it (ms; 0: no limit);
  /// past it, it ends with Timeout without running. RunAsync and Run may
  /// set their own per job.
  int timeout_ms = 0;
  /// Dispatch order of queued jobs: a higher level goes first (0 low,
  /// 1 normal, 2 high). A waiting job rises one level per `aging_ms`
  /// waited, so a lower level is never held back for more than
  /// (max_priority - its level) * aging_ms by the scheduler's queue.
  int priority = normal_priority;

  static constexpr int max_buffer_count = 100;
  static constexpr int normal_priority = 1;
  static constexpr int max_priority = 2;
  static constexpr int max_timeout_ms = 24 * 3600 * 1000;
  static constexpr int aging_ms = 100;
  static constexpr int max_batch_bound = 256;
  static constexpr int max_batch_delay_us = 1000000;

  /// 1 (off), or ACTORRT_MAX_BATCH when set to a valid value (1..256).
  static int default_max_batch_size();
  /// 0, or ACTORRT_BATCH_DELAY_US when set to a valid value (0..1000000).
  static int default_batch_delay_us();

  /// 6, or DXRT_TASK_MAX_LOAD when set to a valid value.
  static int default_buffer_count();

  /// Whether ONNX Runtime is present. Only the device layer can tell: it
  /// registers the probe (set_ort_probe); false until then.
  static bool default_use_ort();
  static void set_ort_probe(bool (*probe)());

  /// Throws InvalidArgument on values out of range.
  void validate() const;
};

/// Throws InvalidArgument for a timeout or priority out of range.
void check_job_options(int timeout_ms, int priority);

/// What a caller may ask of one job (ActorRT's; DX-RT has none). Unset:
/// the engine's InferenceOption.
struct JobOptions {
  /// Most time the job may wait for a core to start it (ms; 0: no limit).
  std::optional<int> timeout_ms;
  /// 0 low, 1 normal, 2 high.
  std::optional<int> priority;
};

} // namespace actorrt
