// Engines dropped by Python are disposed on a thread of their own.
#pragma once

#include <chrono>
#include <memory>

#include "actorrt/inference_engine.hpp"

namespace actorrt::python {

/// Disposes `ie` later, without the GIL: a Python object's deallocation
/// (garbage collection, perhaps inside a callback on the engine's own
/// thread) must never wait for the engine's jobs.
void dispose_later(std::unique_ptr<InferenceEngine> ie);

/// Waits (without the GIL) until every engine handed to dispose_later is
/// disposed, at most `timeout`: at interpreter exit, no job may outlive it.
void finish_disposals(std::chrono::milliseconds timeout);

} // namespace actorrt::python
