// One per engine: owns the model's placement on the cores and the engine's
// in-flight limit for clients that talk to it as an actor.
#pragma once

#include <deque>
#include <unordered_map>

#include "actors/messages.hpp"
#include "core/inference_option.hpp"

namespace actorrt {

struct engine_config {
  model_ptr model;
  uint64_t model_id = 0;
  placement where;
  caf::actor scheduler;
  int max_in_flight = 6;  // buffer_count × devices used
  bool simulated = false; // every core it may use is a simulated NPU
};

struct engine_state {
  engine_config cfg;
  job_id last_id = 0;
  int in_flight = 0;
  std::deque<job_ptr> waiting;
  std::unordered_map<job_id, caf::response_promise> promises;

  static inline const char* name = "actorrt.engine";
};

/// Handles
///   (infer_atom, tensors) → tensors  for actor clients: inputs as one raw
///                                 buffer or one tensor per model input;
///                                 at most max_in_flight run at once, the
///                                 rest wait here (actors never block)
///   (done_atom, job id, job_result)  from a core (or the scheduler)
/// On exit it unloads its model from the cores.
caf::behavior engine_actor(caf::stateful_actor<engine_state>* self,
                           engine_config cfg);

/// Loads `m` on every core `option` allows, blocking until they answer.
/// Throws InvalidModel or InvalidArgument. The engine actor made from the
/// result unloads the model when it exits.
engine_config place_model(caf::actor_system& sys, const caf::actor& scheduler,
                          model_ptr m, const InferenceOption& option);

/// Set-up step for programs with their own actor system: place_model, then
/// spawn the engine actor.
caf::actor spawn_engine(caf::actor_system& sys, const caf::actor& scheduler,
                        model_ptr m, const InferenceOption& option);

} // namespace actorrt
