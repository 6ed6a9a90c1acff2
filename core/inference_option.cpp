#include "core/inference_option.hpp"

#include <atomic>
#include <cstdlib>
#include <string>

#include "core/errors.hpp"

namespace actorrt {

namespace {

std::atomic<bool (*)()> ort_probe{nullptr};

} // namespace

bool InferenceOption::default_use_ort() {
  auto probe = ort_probe.load();
  return probe && probe();
}

void InferenceOption::set_ort_probe(bool (*probe)()) {
  ort_probe.store(probe);
}

uint32_t bound_core_mask(bound_option bound) {
  switch (bound) {
    case bound_option::npu_all:
      return ~0u;
    case bound_option::npu_0:
      return 0b001;
    case bound_option::npu_1:
      return 0b010;
    case bound_option::npu_2:
      return 0b100;
    case bound_option::npu_01:
      return 0b011;
    case bound_option::npu_12:
      return 0b110;
    case bound_option::npu_02:
      return 0b101;
  }
  throw InvalidArgument("bound option " + std::to_string(int(bound))
                        + " is not one of NPU_ALL=0 .. NPU_02=6");
}

int InferenceOption::default_buffer_count() {
  constexpr int dxrt_default = 6;
  const char* env = std::getenv("DXRT_TASK_MAX_LOAD");
  if (env == nullptr)
    return dxrt_default;
  char* end = nullptr;
  long value = std::strtol(env, &end, 10);
  if (end == env || *end != '\0' || value < 1 || value > max_buffer_count)
    return dxrt_default; // DX-RT ignores out-of-range values as well
  return static_cast<int>(value);
}

void InferenceOption::validate() const {
  if (buffer_count < 1 || buffer_count > max_buffer_count)
    throw InvalidArgument("buffer_count must be in 1.."
                          + std::to_string(max_buffer_count) + ", got "
                          + std::to_string(buffer_count));
  bound_core_mask(bound);
  for (int id : devices)
    if (id < 0)
      throw InvalidArgument("device id " + std::to_string(id) + " is negative");
}

} // namespace actorrt
