#include "actors/admission.hpp"

#include <chrono>

#include "actors/interruptible_wait.hpp"
#include "actors/spin.hpp"

namespace actorrt {

int& admission::load_of(int device) {
  if (static_cast<size_t>(device) >= load_.size())
    load_.resize(device + 1);
  return load_[device];
}

int admission::least_loaded(const std::vector<int>& listed) const {
  int best = -1;
  int best_load = 0;
  auto& devices = !listed.empty() ? listed : live_.empty() ? known_ : live_;
  for (int d : devices) {
    int l = static_cast<size_t>(d) < load_.size() ? load_[d] : 0;
    if (best < 0 || l < best_load) {
      best = d;
      best_load = l;
    }
  }
  return best;
}

int admission::acquire(
  const std::vector<int>& devices, int limit, const std::atomic<bool>& closed,
  const std::function<void()>& interrupt,
  const std::function<void(const std::function<void()>&)>& scope) {
  int got = -1;
  // Takes a credit if one is free (or gives up when closed): done.
  auto take = [&] {
    if (closed.load(std::memory_order_acquire))
      return true;
    int d = least_loaded(devices);
    if (d < 0 || load_of(d) >= limit)
      return false;
    ++load_of(d);
    got = d;
    return true;
  };
  {
    std::lock_guard<std::mutex> guard{mtx_};
    if (take())
      return got;
  }
  auto wait = [&] {
    wait_interruptibly(
      [&](std::chrono::milliseconds slice) {
        auto end = std::chrono::steady_clock::now() + slice;
        std::unique_lock<std::mutex> guard{mtx_};
        for (;;) {
          if (take())
            return true;
          // A credit usually comes back within a job's time: poll first.
          auto seen = released_.load(std::memory_order_acquire);
          guard.unlock();
          poll([&] {
            return released_.load(std::memory_order_acquire) != seen
                   || closed.load(std::memory_order_acquire);
          });
          guard.lock();
          if (take())
            return true;
          if (std::chrono::steady_clock::now() >= end)
            return false;
          ++waiting_;
          cv_.wait_until(guard, end);
          --waiting_;
        }
      },
      std::chrono::steady_clock::time_point::max(), interrupt);
  };
  if (scope)
    scope(wait);
  else
    wait();
  return got;
}

int admission::acquire_now(const std::vector<int>& devices) {
  std::lock_guard<std::mutex> guard{mtx_};
  int d = least_loaded(devices);
  if (d >= 0)
    ++load_of(d);
  return d;
}

void admission::release(int device, int n) {
  if (device < 0 || n == 0)
    return;
  bool wake;
  {
    std::lock_guard<std::mutex> guard{mtx_};
    load_of(device) -= n;
    released_.fetch_add(1, std::memory_order_release);
    wake = waiting_ > 0;
  }
  // Waiters may want different devices: wake them all, and only when some
  // wait at all (the common case under no back-pressure pays no syscall).
  if (wake)
    cv_.notify_all();
}

namespace {

/// Adds `x` to `set` unless there; false if it was.
bool insert(std::vector<int>& set, int x) {
  for (int y : set)
    if (y == x)
      return false;
  set.push_back(x);
  return true;
}

} // namespace

void admission::add_device(int device) {
  {
    std::lock_guard<std::mutex> guard{mtx_};
    insert(known_, device);
    if (!insert(live_, device))
      return;
    load_of(device);
    released_.fetch_add(1, std::memory_order_release);
  }
  cv_.notify_all();
}

void admission::remove_device(int device) {
  std::lock_guard<std::mutex> guard{mtx_};
  for (auto i = live_.begin(); i != live_.end(); ++i)
    if (*i == device) {
      live_.erase(i);
      return;
    }
}

int admission::device_count() const {
  std::lock_guard<std::mutex> guard{mtx_};
  return static_cast<int>(live_.empty() ? known_.size() : live_.size());
}

void admission::wake_all() {
  // Taking the lock once orders the caller's `closed` store before any
  // waiter's next check: none can miss it and sleep on.
  { std::lock_guard<std::mutex> guard{mtx_}; }
  cv_.notify_all();
}

int admission::load(int device) const {
  std::lock_guard<std::mutex> guard{mtx_};
  return static_cast<size_t>(device) < load_.size() ? load_[device] : 0;
}

} // namespace actorrt
