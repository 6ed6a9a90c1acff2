// Jobs an engine's callers have opened and not yet handed to the scheduler.
// The first job into an empty outbox announces it with one message; the
// scheduler takes everything that piled up by the time it reads that
// message. Under load many jobs travel per message (and per wake-up), idle
// just one. Plain logic, no CAF threads.
#pragma once

#include <mutex>

#include "actors/messages.hpp"

namespace actorrt {

class job_outbox {
public:
  job_outbox(uint64_t model, engine_actor engine)
    : model_(model), engine_(std::move(engine)) {}

  /// Adds a job. True when the outbox was not announced yet: the caller
  /// sends (submit_atom, outbox) to the scheduler.
  bool put(job j);

  /// Takes every job waiting; the next put announces the outbox again.
  job_batch take();

  /// Forgets the engine (so the handle does not outlive it).
  void close();

private:
  std::mutex mtx_;
  uint64_t model_;
  engine_actor engine_;
  std::vector<job> jobs_;
  bool announced_ = false;
};

} // namespace actorrt
