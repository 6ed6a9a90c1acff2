#include "actors/job_intake.hpp"

namespace actorrt {

void job_intake::announce(std::unique_lock<std::mutex>& guard) {
  if (announced_ || !engine_)
    return;
  announced_ = true;
  auto engine = engine_;
  guard.unlock();
  caf::anon_send(engine, submit_atom::value);
}

void job_intake::put(job&& j, job_ticket&& t) {
  std::unique_lock<std::mutex> guard{mtx_};
  waiting_.jobs.push_back(std::move(j));
  waiting_.tickets.push_back(std::move(t));
  announce(guard);
}

void job_intake::set_callback(job_callback cb) {
  std::unique_lock<std::mutex> guard{mtx_};
  waiting_.callback = std::move(cb);
  announce(guard);
}

void job_intake::set_error_handler(job_callback::error_handler fn) {
  std::unique_lock<std::mutex> guard{mtx_};
  waiting_.on_error = std::move(fn);
  announce(guard);
}

job_intake::contents job_intake::take() {
  // Room for as many again as last time, in one allocation each, not a
  // doubling; made before the lock, which callers' put() waits for.
  contents taken;
  taken.jobs.reserve(last_taken_);
  taken.tickets.reserve(last_taken_);
  {
    std::lock_guard<std::mutex> guard{mtx_};
    std::swap(taken, waiting_);
    announced_ = false;
  }
  last_taken_ = taken.jobs.size();
  return taken;
}

void job_intake::close() {
  contents dropped; // a callback (a Python callable, say) ends out here
  std::lock_guard<std::mutex> guard{mtx_};
  engine_ = nullptr;
  std::swap(dropped, waiting_);
}

} // namespace actorrt
