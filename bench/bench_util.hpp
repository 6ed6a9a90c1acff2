// Timing helpers shared by the benchmarks.
#pragma once

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "actorrt/inference_engine.hpp"
#include "actors/runtime.hpp"
#include "actors/runtime_cpus.hpp"
#include "engine_on_runtime.hpp"

namespace actorrt::bench {

/// Where the runtime's threads run, for a benchmark's first line.
inline std::string runtime_threads() {
  std::string cpus;
  for (int c : runtime_cpus_from_environment())
    cpus += (cpus.empty() ? "" : ",") + std::to_string(c);
  return cpus.empty() ? "runtime threads where the kernel puts them"
                      : "runtime threads on CPU " + cpus
                          + " while jobs come one at a time";
}

inline double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start)
    .count();
}

/// The p-th percentile (0..1) of `xs`, which it sorts.
template <class T>
T percentile(std::vector<T>& xs, double p) {
  std::sort(xs.begin(), xs.end());
  return xs.empty() ? T{} : xs[static_cast<size_t>(p * (xs.size() - 1))];
}

/// An engine on a runtime of its own with `devices` ("cpu:2", "sim:3").
inline std::unique_ptr<InferenceEngine>
make_engine(const std::string& path, const std::string& devices,
            const InferenceOption& option = {}) {
  return std::make_unique<InferenceEngine>(open_engine(
    std::make_shared<runtime>(parse_devices(devices)), path, option));
}

/// One zero-filled raw input of the engine's input size.
inline blob zero_input(InferenceEngine& ie) {
  auto input = blob::allocate(ie.GetInputSize());
  std::memset(input.data, 0, input.size);
  return input;
}

} // namespace actorrt::bench
