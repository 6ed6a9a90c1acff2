#include "actors/job_outbox.hpp"

namespace actorrt {

bool job_outbox::put(job j) {
  std::lock_guard<std::mutex> guard{mtx_};
  jobs_.push_back(std::move(j));
  if (announced_)
    return false;
  announced_ = true;
  return true;
}

job_batch job_outbox::take() {
  job_batch batch;
  std::lock_guard<std::mutex> guard{mtx_};
  batch.model = model_;
  batch.engine = engine_;
  batch.jobs.swap(jobs_);
  announced_ = false;
  return batch;
}

void job_outbox::close() {
  std::lock_guard<std::mutex> guard{mtx_};
  engine_ = nullptr;
}

} // namespace actorrt
