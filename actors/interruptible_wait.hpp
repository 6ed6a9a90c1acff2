// A blocking wait its caller may give up: a binding turns Ctrl-C into an
// exception thrown from `interrupt`, which can only run between waits.
#pragma once

#include <algorithm>
#include <chrono>
#include <functional>

namespace actorrt {

/// Calls `attempt(slice)`, a wait of at most `slice` that returns true when
/// what it waits for came, until it does (true) or `deadline` has passed
/// (false). With an `interrupt`, slices last at most 100 ms and it runs
/// between them (it may throw to give up).
template <class Attempt>
bool wait_interruptibly(Attempt&& attempt,
                        std::chrono::steady_clock::time_point deadline,
                        const std::function<void()>& interrupt) {
  using namespace std::chrono;
  // Unbounded waits still wake once a day: nothing overflows.
  const milliseconds longest = interrupt ? milliseconds(100) : hours(24);
  for (;;) {
    auto left = deadline == steady_clock::time_point::max()
                  ? longest
                  : duration_cast<milliseconds>(deadline - steady_clock::now());
    if (attempt(std::clamp(left, milliseconds(0), longest)))
      return true;
    if (steady_clock::now() >= deadline)
      return false;
    if (interrupt)
      interrupt();
  }
}

} // namespace actorrt
