#include "actors/claim_budget.hpp"

namespace actorrt {

bool claim_budget::take(uint64_t n) {
  std::unique_lock<std::mutex> guard{mtx_};
  auto ticket = next_ticket_++;
  turn_.wait(guard,
             [&] { return closed_ || (serving_ == ticket && free_ >= n); });
  ++serving_; // the next in line may go, or gets its turn to wait
  turn_.notify_all();
  if (closed_)
    return false;
  free_ -= n;
  return true;
}

void claim_budget::give(uint64_t n) {
  {
    std::lock_guard<std::mutex> guard{mtx_};
    free_ += n;
  }
  turn_.notify_all();
}

void claim_budget::close() {
  {
    std::lock_guard<std::mutex> guard{mtx_};
    closed_ = true;
  }
  turn_.notify_all();
}

uint64_t claim_budget::available() const {
  std::lock_guard<std::mutex> guard{mtx_};
  return free_;
}

uint64_t claim_budget::waiting() const {
  std::lock_guard<std::mutex> guard{mtx_};
  return next_ticket_ - serving_;
}

} // namespace actorrt
