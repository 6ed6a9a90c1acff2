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
  /// Takes one credit on the least-loaded device of `devices` whose load is
  /// below `limit`, blocking while none has room. Returns that device, or -1
  /// once `closed` is true (see wake_all). While it waits, `interrupt` (if
  /// set) runs every 100 ms and may throw to give up; no credit is taken.
  int acquire(const std::vector<int>& devices, int limit,
              const std::atomic<bool>& closed,
              const std::function<void()>& interrupt = nullptr);

  /// The same without blocking: past the limit when every device is full
  /// (for threads that must not block, like an engine's result thread).
  int acquire_now(const std::vector<int>& devices);

  void release(int device, int n = 1);

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
  int waiting_ = 0;
  std::atomic<uint64_t> released_{0}; // counts releases, for spinners
};

} // namespace actorrt
