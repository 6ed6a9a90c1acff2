// The tools' dynamic-batching flags, and the mean batch a run achieved.
#pragma once

#include <CLI/CLI.hpp>

#include "actorrt/inference_engine.hpp"

namespace actorrt::tools {

struct batching {
  int max_batch = InferenceOption::default_max_batch_size();
  int delay_us = InferenceOption::default_batch_delay_us();

  void add_flags(CLI::App& app) {
    app
      .add_option("--max-batch", max_batch,
                  "samples a core runs as one call (dynamic batching; 1: off)")
      ->check(CLI::Range(1, InferenceOption::max_batch_bound));
    app
      .add_option("--batch-delay-us", delay_us,
                  "how long a core waits for a batch to fill (us)")
      ->check(CLI::Range(0, InferenceOption::max_batch_delay_us));
  }
  void apply(InferenceOption& opt) const {
    opt.max_batch_size = max_batch;
    opt.batch_delay_us = delay_us;
  }
};

/// Jobs per executor call between two readings (0 when none ran).
inline double mean_batch_between(const EngineStats& before,
                                 const EngineStats& after) {
  auto jobs = after.jobs_done + after.jobs_failed - before.jobs_done
              - before.jobs_failed;
  auto runs = after.runs - before.runs;
  return runs ? double(jobs) / double(runs) : 0.0;
}

} // namespace actorrt::tools
