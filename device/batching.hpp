// Dynamic batching on a lane: queued jobs of one model merged into one
// executor call of several samples, and each job's outputs cut back out of
// that call's. Any executor that runs a model with a batch axis batches.
#pragma once

#include "core/model.hpp"
#include "device/executor.hpp"

namespace actorrt {

/// Runs `jobs` (of one model whose tensors all have a batch axis) on
/// `lane`, merging consecutive jobs into calls of at most `max_samples`
/// samples (a job that brings a batch counts its samples). A job's outputs
/// are views of its call's outputs, or copied into the caller's buffers.
/// A merged call that fails runs its jobs again one by one, so each ends
/// with its own outcome. Each job is admitted (job::admit) just before
/// its call; each call's jobs get its size in `run_jobs`. `reuse` keeps
/// the merged inputs' memory from call to call (one buffer per input, taken
/// again when nobody else holds it): a batch of large inputs would
/// otherwise map and fault in fresh pages every call.
void run_merged(executor& lane, std::vector<job>& jobs, int max_samples,
                std::vector<blob>& reuse);

/// Whether merging pays on one lane, from what its calls took: a merged
/// call returns all its jobs at its end, so where it computes no faster
/// per sample (a 1-thread lane on a convolution-heavy model, a simulated
/// core) it only delays results. Each kind of call is tried again now and
/// then, so a lane notices when that changes.
class batch_gain {
public:
  /// Whether the next call may merge jobs.
  bool merge();
  /// A call of `jobs` jobs took `ns`.
  void record(int jobs, int64_t ns);
  /// What one job alone takes here lately (ns; 0 before the first).
  double job_ns() const {
    return single_ns_;
  }

  /// Merged per-job time must be below this share of a single job's.
  static constexpr double worth = 0.9;
  /// Calls between two tries of the kind not chosen.
  static constexpr int retry_every = 64;
  /// A call longer than this many times its kind's recent figure counts as
  /// that many: it was most likely preempted. The kind not chosen is
  /// measured only on retries, so one preempted single job (3.4x, seen on
  /// strided_96's 1-thread lanes) made merging look worth it for hundreds
  /// of calls, at 40% more time a job.
  static constexpr double outlier = 1.5;

private:
  double single_ns_ = 0; // per job, recent calls of one job
  double merged_ns_ = 0; // per job, recent calls of several
  int since_other_ = 0;
};

/// Whether `lane` (running `m`, a model with a re-declared batch axis)
/// computes batch 2 as two batch-1 runs: the failure that says how not.
failure check_batching(executor& lane, const model& m);

} // namespace actorrt
