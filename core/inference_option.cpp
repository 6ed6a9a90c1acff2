#include "core/inference_option.hpp"

#include <atomic>
#include <cstdlib>
#include <string>

#include "core/errors.hpp"
#include "core/parse.hpp"

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

namespace {

/// `name`'s value when it is an integer in lo..hi, else `fallback` (as
/// DX-RT ignores an out-of-range DXRT_TASK_MAX_LOAD).
int env_int(const char* name, int fallback, long lo, long hi) {
  auto value = parse_integer(std::getenv(name), lo, hi);
  return value ? static_cast<int>(*value) : fallback;
}

} // namespace

int InferenceOption::default_buffer_count() {
  return env_int("DXRT_TASK_MAX_LOAD", 6, 1, max_buffer_count);
}

int InferenceOption::default_max_batch_size() {
  // Off unless asked for: a merged call returns all its jobs at its end,
  // so where a batch computes no faster per sample (a 1-thread lane on a
  // convolution-heavy model, a simulated core) the results come back later
  // and the core idles a round trip between calls (measured: 8 nodes x 3
  // simulated cores at 2 ms, 0.83 -> 0.82 of ideal; 1 node 0.93 -> 0.90).
  // Where it pays, up to 32 samples keep most of ORT's gain on small
  // models (it flattens past 8-32).
  return env_int("ACTORRT_MAX_BATCH", 1, 1, max_batch_bound);
}

int InferenceOption::default_batch_delay_us() {
  return env_int("ACTORRT_BATCH_DELAY_US", 0, 0, max_batch_delay_us);
}

void check_job_options(int timeout_ms, int priority) {
  if (timeout_ms < 0 || timeout_ms > InferenceOption::max_timeout_ms)
    throw InvalidArgument("timeout_ms must be in 0.."
                          + std::to_string(InferenceOption::max_timeout_ms)
                          + " (0: none), got " + std::to_string(timeout_ms));
  if (priority < 0 || priority > InferenceOption::max_priority)
    throw InvalidArgument("priority must be 0 (low), 1 (normal) or 2 (high), "
                          "got "
                          + std::to_string(priority));
}

void InferenceOption::validate() const {
  if (buffer_count < 1 || buffer_count > max_buffer_count)
    throw InvalidArgument("buffer_count must be in 1.."
                          + std::to_string(max_buffer_count) + ", got "
                          + std::to_string(buffer_count));
  if (max_batch_size < 1 || max_batch_size > max_batch_bound)
    throw InvalidArgument("max_batch_size must be in 1.."
                          + std::to_string(max_batch_bound) + ", got "
                          + std::to_string(max_batch_size));
  if (batch_delay_us < 0 || batch_delay_us > max_batch_delay_us)
    throw InvalidArgument("batch_delay_us must be in 0.."
                          + std::to_string(max_batch_delay_us) + ", got "
                          + std::to_string(batch_delay_us));
  check_job_options(timeout_ms, priority);
  bound_core_mask(bound);
  for (int id : devices)
    if (id < 0)
      throw InvalidArgument("device id " + std::to_string(id) + " is negative");
}

} // namespace actorrt
