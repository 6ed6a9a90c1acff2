// For ActorRT's own programs (tests, benchmarks): an engine on a runtime of
// the caller's own instead of the process's shared one. Not installed: the
// runtime is not a public type.
#pragma once

#include <memory>
#include <string>

#include "actorrt/inference_engine.hpp"
#include "actors/runtime.hpp"

namespace actorrt {

/// The state of an engine on `rt` (null: the one `settings.devices` names),
/// for InferenceEngine's constructor:
///   InferenceEngine ie{open_engine(rt, path)};
/// Throws as that constructor does.
InferenceEngine::state_ptr open_engine(std::shared_ptr<runtime> rt,
                                       const std::string& model_path,
                                       const InferenceOption& option = {},
                                       EngineSettings settings = {});

} // namespace actorrt
