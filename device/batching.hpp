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
/// with its own outcome. Each job is admitted (lane_job::admit) just before
/// its call; each call's jobs get its size in `run_jobs`. `reuse` keeps
/// the merged inputs' memory from call to call (one buffer per input, taken
/// again when nobody else holds it): a batch of large inputs would
/// otherwise map and fault in fresh pages every call.
void run_merged(executor& lane, std::vector<lane_job>& jobs, int max_samples,
                std::vector<blob>& reuse);

/// Whether `lane` (running `m`, a model with a re-declared batch axis)
/// computes batch 2 as two batch-1 runs: the failure that says how not.
failure check_batching(executor& lane, const model& m);

} // namespace actorrt
