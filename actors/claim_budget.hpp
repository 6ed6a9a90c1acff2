// Bytes that peers' frames may claim at once across a gate's connections.
// CAF 0.17 allocates a BASP frame's whole payload as soon as its header
// arrives, so a peer that sends a header and stalls makes the process hold
// what it claimed; without a shared bound, N connections hold N claims. A
// frame that would pass the bound waits (its peer's connection stalls, TCP
// pushes back) until earlier claims are released, first come first served,
// so a large frame is not starved by small ones.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <mutex>

namespace actorrt {

class claim_budget {
public:
  explicit claim_budget(uint64_t capacity)
    : capacity_(capacity), free_(capacity) {}

  /// Takes `n` bytes (at most the capacity), waiting for them in turn.
  /// False when the budget was closed meanwhile (the gate ends).
  bool take(uint64_t n);
  void give(uint64_t n);
  /// Ends every wait, now and later, with false.
  void close();

  uint64_t capacity() const {
    return capacity_;
  }
  /// Bytes not claimed now.
  uint64_t available() const;
  /// Claims waiting for their turn or their bytes.
  uint64_t waiting() const;

private:
  mutable std::mutex mtx_;
  std::condition_variable turn_;
  const uint64_t capacity_;
  uint64_t free_;
  uint64_t next_ticket_ = 0, serving_ = 0;
  bool closed_ = false;
};

} // namespace actorrt
