// Whether other tasks hold this host's CPUs. A poller that yields to a
// thread with a message to pass gets the CPU back within microseconds; one
// that yields to a busy task (another process, a lane computing) gets it
// back a whole scheduler slice later (4 ms here). Pollers stop polling for
// a while after a yield came back that late.
#pragma once

#include <chrono>

namespace actorrt {

/// Yields the CPU; when it came back later than a poll is worth, the CPUs
/// count as contended for a while (process-wide). Returns whether they do
/// now.
bool yield_cpu();

/// Whether a yield came back late lately: polling now only takes the CPU
/// from whoever needs it, and a yield costs a slice.
bool cpus_contended();

/// What yield_cpu notes: a yield that took `took`, back at `after`; and
/// whether the CPUs count as contended at `now`.
void note_yield(std::chrono::steady_clock::time_point after,
                std::chrono::nanoseconds took);
bool cpus_contended(std::chrono::steady_clock::time_point now);

} // namespace actorrt
