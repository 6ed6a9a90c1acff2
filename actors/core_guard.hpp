// What one client may hold and queue on a worker node: each client gets its
// own guard in front of each of the node's cores (node_actor hands them
// out), so a client over a bound gets a typed error for that model or job
// and other clients are not affected.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "actors/messages.hpp"

namespace actorrt {

struct client_bounds {
  uint64_t max_model_bytes = 2ull << 30; // all of one client's models
  int max_models = 32;
  int max_queued_jobs = 1024;            // on all cores of the node
  uint64_t max_input_bytes = 1ull << 30; // of one job
};

/// One client's use of a node, shared by its guards.
struct client_usage {
  explicit client_usage(client_bounds b) : bounds(b) {}

  const client_bounds bounds;
  std::mutex mtx; // guards what follows
  struct held {
    uint64_t bytes = 0;
    int cores = 0;
  };
  std::map<uint64_t, held> models; // by model id
  int queued = 0;
};

/// Stands in for `core` to one client: checks what the client asks against
/// `usage`, forwards what fits, ends with the client (its scheduler gone)
/// and then unloads the models it loaded.
npu_core_actor::behavior_type core_guard(npu_core_actor::pointer self,
                                         npu_core_actor core,
                                         std::shared_ptr<client_usage> usage);

} // namespace actorrt
