// Per-engine options, with DX-RT's names and values.
#pragma once

#include <cstdint>
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

  static constexpr int max_buffer_count = 100;

  /// 6, or DXRT_TASK_MAX_LOAD when set to a valid value.
  static int default_buffer_count();

  /// Whether ONNX Runtime is present. Only the device layer can tell: it
  /// registers the probe (set_ort_probe); false until then.
  static bool default_use_ort();
  static void set_ort_probe(bool (*probe)());

  /// Throws InvalidArgument on values out of range.
  void validate() const;
};

} // namespace actorrt
