// The backend boundary: one executor is one model loaded on one lane (an NPU
// core, or a CPU lane standing in for one). It knows nothing of actors or
// queues: its batch entry point takes the jobs themselves.
#pragma once

#include <algorithm>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

#include "core/clock.hpp"
#include "core/errors.hpp"
#include "core/job.hpp"
#include "core/tensor.hpp"

namespace actorrt {

/// Thrown by a lane that is gone for good (a device crash): its core stops,
/// and the jobs it held fail as a dead core's do.
class lane_lost : public std::runtime_error {
public:
  using std::runtime_error::runtime_error;
};

class executor {
public:
  virtual ~executor() = default;

  /// A short name for reports, e.g. "opencv-dnn" or "simulated-npu".
  virtual std::string name() const = 0;

  /// Runs one job. `inputs` are in the model's declared order. `outputs`
  /// holds one tensor per model output with its description set: a
  /// non-empty blob is caller memory of the output's size to write into,
  /// an empty one is allocated here. Returns when the compute began
  /// (now_ns()), after any wait for a shared host resource, so that wait
  /// stays out of NPU time. Throws on failure; the lane stays usable.
  virtual int64_t run(const tensors& inputs, tensors& outputs) = 0;

  /// (optional) Runs several jobs, their tensors described as for run();
  /// each gets its start, end and failure (its own). A backend that
  /// computes a batch at once overrides it.
  virtual void run_batch(std::vector<job>& jobs) {
    run_each(jobs, [this](job& j) { return run(j.inputs, j.outputs); });
  }

  /// (optional) True when no real compute happens: results are not outputs
  /// of the model and every report must say so.
  virtual bool is_simulated() const {
    return false;
  }

protected:
  /// Runs `jobs` one after another with `run_one(job)` (which returns when
  /// its compute began, and may say when it ended: else it ended on
  /// return); each job's failure is its own, a lost lane ends all.
  template <class F>
  static void run_each(std::vector<job>& jobs, F run_one) {
    for (auto& j : jobs) {
      if (!j.admit(now_ns()))
        continue;
      j.finished = 0;
      try {
        j.started = run_one(j);
      } catch (const lane_lost&) {
        throw;
      } catch (...) {
        j.error = failure::from_current_exception();
        j.finished = 0;
      }
      if (j.finished == 0)
        j.finished = now_ns();
    }
  }
};

/// Zero-filled inputs of `metas`' shapes: what lanes run once at load, so a
/// model a backend cannot run fails there and not at the first job.
inline tensors zero_tensors(const tensor_metas& metas) {
  tensors result;
  for (auto& meta : metas) {
    auto bytes = blob::allocate(meta->byte_size());
    std::fill(bytes.data, bytes.data + bytes.size, uint8_t{0});
    result.push_back({meta, bytes});
  }
  return result;
}

/// The output's memory: the caller's when given, else a new allocation.
inline blob& output_memory(tensor& out) {
  if (!out.bytes.data)
    out.bytes = blob::allocate(out.info().byte_size());
  return out.bytes;
}

} // namespace actorrt
