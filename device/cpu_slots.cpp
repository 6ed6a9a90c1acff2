#include "device/cpu_slots.hpp"

#include <algorithm>
#include <thread>

#include <pthread.h>
#include <sched.h>

#include "core/clock.hpp"

namespace actorrt {

namespace {

std::vector<int> allowed_cpus() {
  std::vector<int> cpus;
  cpu_set_t set;
  CPU_ZERO(&set);
  if (::sched_getaffinity(0, sizeof set, &set) == 0)
    for (int c = 0; c < CPU_SETSIZE; ++c)
      if (CPU_ISSET(c, &set))
        cpus.push_back(c);
  if (cpus.empty()) // not told: count the host's, unpinned
    cpus.assign(std::max(1u, std::thread::hardware_concurrency()), -1);
  return cpus;
}

/// How long this thread (a lane) held its last slot.
thread_local int64_t last_hold_ns = 0;

/// The thread's own CPU set, kept while it is pinned.
thread_local cpu_set_t unpinned;

} // namespace

cpu_slots::cpu_slots(std::vector<int> cpus)
  : cpus_(std::move(cpus)), busy_(cpus_.size(), false) {
  CPU_ZERO(&all_);
  for (int c : cpus_)
    if (c >= 0)
      CPU_SET(c, &all_);
}

cpu_slots& cpu_slots::host() {
  static cpu_slots instance{allowed_cpus()};
  // A forked child has none of the parent's lanes: all slots are free there.
  static int hooks = ::pthread_atfork([] { instance.mtx_.lock(); },
                                      [] { instance.mtx_.unlock(); },
                                      [] {
                                        instance.reset();
                                        instance.mtx_.unlock();
                                      });
  (void) hooks;
  return instance;
}

void cpu_slots::reset() {
  std::fill(busy_.begin(), busy_.end(), false);
  held_ = 0;
}

size_t cpu_slots::acquire(bool& last) {
  std::unique_lock<std::mutex> guard{mtx_};
  auto free = busy_.end();
  cv_.wait(guard, [&] {
    free = std::find(busy_.begin(), busy_.end(), false);
    return free != busy_.end();
  });
  // The slot of the CPU this thread runs on, when free: no move at all.
  auto here = std::find(cpus_.begin(), cpus_.end(), ::sched_getcpu());
  auto slot = static_cast<size_t>(here - cpus_.begin());
  if (here == cpus_.end() || busy_[slot])
    slot = static_cast<size_t>(free - busy_.begin());
  busy_[slot] = true;
  last = ++held_ == busy_.size();
  return slot;
}

void cpu_slots::enter_lane() {
  if (CPU_COUNT(&all_) > 0)
    ::pthread_setaffinity_np(::pthread_self(), sizeof all_, &all_);
}

void cpu_slots::release(size_t slot) {
  {
    std::lock_guard<std::mutex> guard{mtx_};
    busy_[slot] = false;
    --held_;
  }
  cv_.notify_one();
}

cpu_slots::lease::lease(cpu_slots& owner) : owner_(owner) {
  bool last = false;
  slot_ = owner.acquire(last);
  taken_ = now_ns();
  int cpu = owner_.cpus_[slot_];
  // With a CPU to spare nobody takes turns, and the move is only a cost.
  if (!last || last_hold_ns < pin_from_ns || cpu < 0)
    return;
  auto self = ::pthread_self();
  cpu_set_t one;
  CPU_ZERO(&one);
  CPU_SET(cpu, &one);
  pinned_ = ::pthread_getaffinity_np(self, sizeof unpinned, &unpinned) == 0
            && ::pthread_setaffinity_np(self, sizeof one, &one) == 0;
}

cpu_slots::lease::~lease() {
  if (pinned_)
    ::pthread_setaffinity_np(::pthread_self(), sizeof unpinned, &unpinned);
  last_hold_ns = now_ns() - taken_;
  owner_.release(slot_);
}

} // namespace actorrt
