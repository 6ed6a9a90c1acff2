// DX-RT's per-engine options.
#pragma once

#include <cstdint>
#include <ostream>
#include <vector>

#include "dxrt/common.h"

namespace dxrt {

class DXRT_API InferenceOption {
public:
  enum BOUND_OPTION {
    NPU_ALL = 0,
    NPU_0,
    NPU_1,
    NPU_2,
    NPU_01,
    NPU_12,
    NPU_02
  };
  /// Device ids to use; empty: every device.
  std::vector<int> devices = {};
  uint32_t boundOption = BOUND_OPTION::NPU_ALL;
  /// CPU lanes on ONNX Runtime (true, as in a DX-RT built with USE_ORT) or
  /// OpenCV DNN (false). Where ONNX Runtime is absent, true warns once and
  /// runs on OpenCV DNN.
  bool useORT = true;
  /// ActorRT's: most jobs in flight per device (DX-RT's max load), 1..100.
  int bufferCount = GetTaskMaxLoad();
};

DXRT_API std::ostream& operator<<(std::ostream&, const InferenceOption&);

extern DXRT_API InferenceOption DefaultInferenceOption;

} // namespace dxrt
