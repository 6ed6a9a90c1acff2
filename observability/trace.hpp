// The profiler trace: each job's stages (submitted, dispatched, started and
// finished on its core, delivered to the engine, callback begun and ended),
// written as Chrome trace JSON that Perfetto and chrome://tracing open: one
// track per submitting thread, per core and per engine's result thread,
// with a flow arrow along each job. Off by default; when off, recording
// costs one relaxed atomic load per job.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace actorrt::trace {

/// One job's path; times are now_ns(), 0 where a stage did not happen.
struct job_record {
  uint64_t job = 0;
  uint32_t submitter = 0; // thread_index() of the submitting thread
  uint32_t engine = 0;    // engine_index() of the engine
  int device = -1;        // -1: never reached a core
  int core = -1;
  bool failed = false;
  int64_t submitted = 0;
  int64_t dispatched = 0;
  int64_t started = 0;
  int64_t finished = 0;
  int64_t delivered = 0;
  int64_t callback_begin = 0;
  int64_t callback_end = 0;
};

bool enabled();

/// Starts recording (again); the file is written by stop(). Throws
/// InvalidArgument when `path` cannot be written.
void start(const std::string& path);
/// Writes what was recorded since start() and stops; returns the number of
/// jobs written (0 when not recording).
size_t stop();
/// start(ACTORRT_TRACE) once per process when that is set, with stop() at
/// exit.
void start_from_environment();

/// A small number naming the calling thread in the trace.
uint32_t thread_index();
/// A number for a new engine's track, named after its model.
uint32_t engine_index(const std::string& model_name);

/// Adds an ended job. At most 1,000,000 jobs are kept per trace; later
/// ones are counted as dropped.
void record(const job_record& job);

/// Adds a named span of the calling thread, from `begin` to `end`
/// (now_ns()): DX-RT's Profiler events, beside the jobs. Bounded as jobs.
void span(const std::string& name, int64_t begin, int64_t end);

} // namespace actorrt::trace
