// Where the runtime's own threads run. A job crosses four of them (the
// caller's, its engine actor's, the scheduler's worker, its core's), and
// each polls for a while before it sleeps. On a host with few CPUs the
// kernel sometimes puts a polling runtime thread beside the caller, which
// then waits for it to yield: a synchronous Run took 13 us in one process
// and 35 us in the next, and switched between the two within a run.
// Kept on CPUs of their own, the runtime's threads hand jobs to each other
// there and the caller keeps its CPU: 16-17 us in every run on simulated
// cores. CPU lanes compute, so they run on every CPU of the process.
#pragma once

#include <vector>

namespace caf {
class actor_system_config;
}

namespace actorrt {

/// ACTORRT_RUNTIME_CPUS: comma-separated CPU numbers ("1", "2,3") that the
/// runtime's own threads (CAF's workers, engine actors, the scheduler,
/// simulated cores, node links) run on; unset or empty: wherever the
/// kernel puts them. Throws InvalidArgument naming the variable for
/// anything else, or for a CPU this process may not run on.
std::vector<int> runtime_cpus_from_environment();

/// Keeps each thread CAF starts for `cfg`'s actor system on `cpus` (none:
/// leaves them alone).
void keep_runtime_threads_on(caf::actor_system_config& cfg,
                             std::vector<int> cpus);

} // namespace actorrt
