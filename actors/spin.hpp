// Spinning before sleeping. Waking a sleeping thread costs about 30 us on
// the VMs we run on (futex, IPI, vCPU exit): more than a small model's
// whole inference, and a job crosses four threads. A thread that expects
// its next message soon polls for it for a short while first.
#pragma once

#include <chrono>
#include <thread>

#include "core/cpu_contention.hpp"
#include "device/cpu_slots.hpp"

namespace actorrt {

/// The longest a thread polls before it sleeps: ACTORRT_SPIN_US (0 turns
/// polling off), else 200 us.
std::chrono::nanoseconds spin_budget();

/// How long this thread polls next, within spin_budget(), as KVM's halt
/// polling adapts (its halt_poll_ns): a thread whose last poll ended empty
/// and whose work then came within spin_budget() polls twice as long (at
/// least 10 us), one whose work came later half as long (under 10 us: not
/// at all). A fixed window cannot serve both ends on a VM where a wake-up
/// costs tens of us: under load a 200 us window carried 20-35% more
/// Python jobs than 50 us, while beside 2 ms remote cores the client burnt
/// 40-60 us a job polling 50 us for results that came later. `now`: when
/// the thread starts to poll.
std::chrono::nanoseconds
adapted_budget(std::chrono::steady_clock::time_point now);
/// Notes that this thread's poll ended empty at `now`.
void poll_missed(std::chrono::steady_clock::time_point now);

/// Polls between two yields. 64 (a few microseconds): where threads are
/// spread over the CPUs, a yield mostly finds nobody to run, and yielding
/// every 8 polls made a Run slower (25-34 us against 13-26 on a simulated
/// core). 8 when the runtime's threads share their CPUs on purpose
/// (ACTORRT_RUNTIME_CPUS): there the thread a poller waits for is often
/// waiting for the poller's CPU (Run on a simulated core 16-17 -> 11-12 us,
/// over ONNX Runtime 20 -> 14 us).
unsigned spin_yield_period();

/// Polls `ready` until it holds (true) or `budget` has passed (false),
/// yielding the CPU now and then so that a runnable lane on this core runs.
/// Not while other tasks hold the CPUs (cpus_contended): there a yield
/// hands the CPU over for a whole slice (two busy processes beside
/// bench_overhead: 912 jobs/s polling, 18,659 without), so the caller
/// blocks at once.
template <class Ready>
bool spin_until(Ready&& ready, std::chrono::nanoseconds budget) {
  if (budget.count() <= 0)
    return ready();
  auto start = std::chrono::steady_clock::now();
  if (cpus_contended(start))
    return ready();
  auto end = start + budget;
  const unsigned period = spin_yield_period();
  for (unsigned i = 1;; ++i) {
    if (ready())
      return true;
    if (i % period == 0) {
      if (std::chrono::steady_clock::now() >= end)
        return false;
      if (yield_cpu())
        return ready();
    } else {
#if defined(__x86_64__) || defined(__i386__)
      __builtin_ia32_pause();
#endif
    }
  }
}

/// spin_until with this thread's adapted_budget; only a look while CPU lanes
/// hold every CPU.
template <class Ready>
bool poll(Ready&& ready) {
  // While CPU lanes hold every CPU, a poll only takes time from them.
  if (cpu_slots::host().all_held())
    return ready();
  auto now = std::chrono::steady_clock::now();
  if (spin_until(ready, adapted_budget(now)))
    return true;
  poll_missed(std::chrono::steady_clock::now());
  return false;
}

/// Lets an event-based actor poll its own mailbox before CAF puts its
/// thread to sleep (CAF 0.17's detached actors block at once). Call it last
/// in a handler; the message that arrives is handled right after.
template <class Self>
void linger(Self* self) {
  poll([self] { return !self->mailbox().empty(); });
}

} // namespace actorrt
