// DX-RT's "max load": how many jobs of one engine may be in flight. Plain
// logic, no CAF; the facade blocks in acquire(), the result actor releases.
#pragma once

#include <chrono>
#include <condition_variable>
#include <mutex>

namespace actorrt {

class inflight_limiter {
public:
  explicit inflight_limiter(int limit) : limit_(limit) {}

  /// Blocks while `limit` jobs are in flight. Returns false once closed.
  bool acquire();
  /// Takes a slot even past the limit (for callers that must not block);
  /// false once closed.
  bool acquire_now();
  void release();

  /// Refuses further acquires and wakes blocked callers.
  void close();

  /// Waits until nothing is in flight; false when `timeout` ran out first.
  bool drain(std::chrono::milliseconds timeout);

  int limit() const {
    return limit_;
  }
  int in_flight() const;
  /// The most jobs ever in flight at once (for tests and reports).
  int peak() const;

private:
  mutable std::mutex mtx_;
  std::condition_variable cv_;
  int limit_;
  int in_flight_ = 0;
  int peak_ = 0;
  bool closed_ = false;
};

} // namespace actorrt
