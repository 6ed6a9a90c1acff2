// DX-RT's "max load": the one place where a job is admitted. Every engine of
// a runtime shares each device's count, as DX-RT's engines share a device.
// Plain logic, no CAF: callers block in acquire(), engine actors release.
#pragma once

#include <atomic>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <vector>

namespace actorrt {

class admission {
public:
  /// Takes one credit on the least-loaded device of `devices` (empty: every
  /// device known, see add_device) whose load is below `limit`, blocking
  /// while none has room. Returns that device, or -1
  /// once `closed` is true (see wake_all). While it waits, `interrupt` (if
  /// set) runs every 100 ms and may throw to give up; no credit is taken.
  /// A wait runs inside `scope` (if set), which must call it.
  int acquire(const std::vector<int>& devices, int limit,
              const std::atomic<bool>& closed,
              const std::function<void()>& interrupt = nullptr,
              const std::function<void(const std::function<void()>&)>& scope
              = nullptr);

  /// The same without blocking: past the limit when every device is full
  /// (for threads that must not block, like an engine's result thread).
  int acquire_now(const std::vector<int>& devices);

  void release(int device, int n = 1);

  /// A device engines that may use every device can use from now on (a
  /// worker node's that joined later, say); wakes blocked callers.
  void add_device(int device);
  /// A device gone (every core of it stopped): engines that may use every
  /// device take its credit only while no device they may use lives (their
  /// jobs then end with the scheduler's DeviceIO instead of waiting), until
  /// it is added again.
  void remove_device(int device);
  /// How many devices an engine that may use every device may use now.
  int device_count() const;

  /// Wakes blocked callers so they see their `closed` flag.
  void wake_all();

  /// Credits held on `device` now.
  int load(int device) const;

private:
  int least_loaded(const std::vector<int>& devices) const;
  int& load_of(int device);

  mutable std::mutex mtx_;
  std::condition_variable cv_;
  std::vector<int> load_;
  std::vector<int> known_; // every device added, in order
  std::vector<int> live_;  // those not removed since
  int waiting_ = 0;
  std::atomic<uint64_t> released_{0}; // counts releases, for spinners
};

} // namespace actorrt
