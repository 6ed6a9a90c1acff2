// Where the runtime's own threads run. A job crosses four of them (the
// caller's, its engine actor's, the scheduler's worker, its core's), and
// each polls for a while before it sleeps. On a host with few CPUs the
// kernel sometimes puts a polling runtime thread beside the caller, which
// then waits for it to yield: a synchronous Run took 13 us in one process
// and 35 us in the next, and switched between the two within a run.
// Kept on CPUs of their own, the runtime's threads hand jobs to each other
// there and the caller keeps its CPU: 11 us in every run on simulated
// cores, with polls that yield sooner (spin.hpp). Only while jobs come
// one at a time: kept there all the time, the runtime's work had one CPU
// and a small model's throughput at the default in-flight limit fell a
// quarter (bench_lane_efficiency tiny_cnn, 2 lanes: 29-34k against 38-43k
// inf/s). Not on the same CPU for every process (by default each claims
// one no other holds): nine node processes that all kept theirs on CPU 1
// ran at 0.61 of ideal instead of 0.89. CPU lanes compute, so they run on
// every CPU of the process, except a lane running a caller's lone Runs one
// after another (lane_placement).
#pragma once

#include <string>
#include <vector>

namespace caf {
class actor_system_config;
}

namespace actorrt {

/// The CPUs the runtime's own threads (CAF's workers, engine actors, the
/// scheduler, simulated cores, node links) are kept on while jobs come one
/// at a time (runtime_jobs_alone), from ACTORRT_RUNTIME_CPUS:
/// comma-separated CPU numbers ("1", "2,3"); "off": none, wherever the
/// kernel puts them; "auto" (or unset): on a process that may run on fewer
/// than auto_below_cpus CPUs (but two at least), one CPU that no other
/// process has claimed (claim_cpu), else none. Throws InvalidArgument
/// naming the variable for anything else, or for a CPU this process may
/// not run on.
std::vector<int> runtime_cpus_from_environment();

/// A Run's way has four polling threads (the caller's, the engine's, the
/// scheduler's, the core's): with this many CPUs or more each has one.
constexpr int auto_below_cpus = 4;

/// Claims a CPU of this process for its runtime's threads, the highest
/// free one first, through a lock file per CPU in `lock_dir` that no other
/// process (or earlier claim) holds; -1 when every one is held. The claim
/// lasts until the process ends: runtime processes of one host spread
/// over its CPUs instead of crowding one.
int claim_cpu(const std::string& lock_dir);

/// Keeps each thread CAF starts for `cfg`'s actor system on `cpus` while
/// jobs come one at a time (none: leaves them alone). The first runtime of
/// a process that names CPUs decides for all.
void keep_runtime_threads_on(caf::actor_system_config& cfg,
                             const std::vector<int>& cpus);

/// Told by a scheduler before each batch it sends: whether the batch was
/// the only job it held. After lane_placement::lone_runs such batches in a
/// row the runtime's threads move to their CPUs, and back to every CPU at
/// the first batch that is not: the runtime's own work has one CPU only
/// while there is little of it (kept all the time, a small model's
/// throughput at the default in-flight limit fell a quarter).
void runtime_jobs_alone(bool alone);

/// Whether the runtime's threads are kept on their CPUs now.
bool runtime_threads_kept();

/// Where a CPU lane's thread computes: on every CPU of the process, except
/// while it runs lone jobs one after another (a caller's Runs) and the
/// runtime's threads are kept: then beside them, so that the caller keeps
/// its CPU. A lane beside the caller made a Run on an ONNX Runtime lane
/// take 20 or 36 us, as the lane fell. One per lane, used on its thread
/// only.
class lane_placement {
public:
  /// Lone jobs in a row before the lane moves beside the runtime's threads:
  /// one is no pattern, and lanes that take turns under load stay put.
  static constexpr int lone_runs = 4;

  /// On the lane's thread, once: every CPU of the process.
  void enter();
  /// Before each batch: whether it was the only job the scheduler held.
  void next(bool alone);

private:
  bool lane_ = false;
  int alone_ = 0; // lone jobs in a row
  bool beside_ = false;
};

} // namespace actorrt
