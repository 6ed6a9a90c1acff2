// What one client, and all clients together, may hold and queue on a
// worker node: each client gets its own guard in front of each of the
// node's cores (node_actor hands them out), so a client over a bound gets
// a typed error for that model or job and the others go on.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "actors/core_picker.hpp"
#include "actors/messages.hpp"

namespace actorrt {

struct usage_bounds {
  uint64_t max_model_bytes = 2ull << 30; // of the models held
  int max_models = 32;
  int max_queued_jobs = 1024;            // on all cores of the node
  uint64_t max_input_bytes = 1ull << 30; // of one job
};

/// What one client (or the whole node) holds and queues, shared by guards.
struct usage_book {
  usage_book(usage_bounds b, std::string who)
    : bounds(b), whose(std::move(who)) {}

  const usage_bounds bounds;
  const std::string whose; // "this client", "all clients"
  std::mutex mtx;          // guards what follows
  struct held {
    uint64_t bytes = 0;
    int cores = 0;
  };
  std::map<uint64_t, held> models; // by model id
  int queued = 0;
  /// The node drains (SIGTERM): it takes no new batch, so clients run them
  /// elsewhere, and it finishes those it holds.
  bool draining = false;
};

/// One device of the node: its cores, as the node's reports number them,
/// and the picker its guards share.
struct node_device {
  node_device(std::vector<npu_core_actor> actors, std::vector<int> numbers)
    : cores(std::move(actors)), numbers(std::move(numbers)),
      picker(cores.size()) {}

  const std::vector<npu_core_actor> cores;
  const std::vector<int> numbers;
  core_picker picker;
};

/// Stands in for core `core` of `device` to one client: checks what the
/// client asks against its `client` book and the node's `node` book,
/// forwards what fits (a batch to the device's core that the picker
/// chooses), ends with the client (its scheduler gone) and then unloads the
/// models it loaded.
npu_core_actor::behavior_type core_guard(npu_core_actor::pointer self,
                                         std::shared_ptr<node_device> device,
                                         size_t core,
                                         std::shared_ptr<usage_book> client,
                                         std::shared_ptr<usage_book> node);

} // namespace actorrt
