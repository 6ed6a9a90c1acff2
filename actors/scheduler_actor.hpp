// One per runtime: knows which core holds which model and places jobs on
// cores. It holds core handles only and never assumes a core lives in this
// process.
#pragma once

#include <chrono>
#include <deque>
#include <functional>
#include <map>
#include <set>
#include <unordered_map>
#include <vector>

#include "actors/admission.hpp"
#include "actors/messages.hpp"
#include "actors/scheduling_policy.hpp"

namespace actorrt {

struct scheduler_settings {
  /// Jobs a core holds at once: one running, the rest waiting in its
  /// mailbox so it never idles for a round trip. Admission already bounds
  /// what is in flight, so this only decides where jobs wait: deep queues
  /// let batches grow under load (bench_overhead: 2 → 65k jobs/s, 32 →
  /// 230–400k at buffer_count 100); least-loaded placement keeps cores
  /// even.
  int core_depth = 32;
  /// How long a core may take to load a model, or to answer one batch
  /// before its jobs end with Timeout and it takes nothing new until it
  /// answers.
  std::chrono::milliseconds core_timeout{60000};
  /// The engines' credit: each device that joins is added to it, so that
  /// engines that may use every device use a node that joins later.
  std::shared_ptr<admission> credit;
  /// How often outstanding batches are checked against core_timeout.
  std::chrono::milliseconds tick{250};
  /// Input bytes one message to a worker node's core carries (more jobs
  /// go as further messages; a larger job alone): a node starts a job only
  /// once its whole message arrived, and answers a message's jobs
  /// together. Sixteen 4.9 MB jobs in flight as one message per core made
  /// the first result wait 0.7 s, and one link carried 0.5 GB/s.
  size_t remote_batch_bytes = size_t{1} << 20;
  /// Input bytes a worker node's core holds at once (besides core_depth;
  /// one job of any size always goes): enough that a core has its next job
  /// at hand when one ends, no more. CAF 0.17 serializes every message
  /// waiting for a connection before it writes the first, so 16 jobs of
  /// 4.9 MB sent at once reached the node 0.4 s later (about 3 per core:
  /// 16 MiB).
  size_t remote_core_bytes = size_t{16} << 20;
};

struct scheduler_state {
  scheduler_settings settings;
  scheduling_policy policy;
  std::vector<npu_core_actor> cores;
  std::map<std::string, int> device_numbers; // device_key → device id
  std::string local_host; // this process's CAF node, as reports name it
  /// Model digests each node (by host) received from here, and the loads
  /// waiting for a node's first copy ("host|digest") to arrive.
  std::map<std::string, std::set<std::string>> shipped;
  std::map<std::string, std::vector<std::function<void()>>> shipping;

  struct model_entry {
    model_handle handle;
    placement where;
  };
  std::unordered_map<uint64_t, model_entry> models;

  /// Jobs of one engine's model waiting for cores, as they came (a batch
  /// stays whole), all of one priority.
  struct waiting {
    uint64_t model;
    engine_actor engine;
    std::vector<job> jobs;
    int priority;
    std::string lost; // why they run again: the core they were on is gone
    caf::actor_clock::time_point since{}; // queued since (for aging)
  };
  std::deque<waiting> queue;
  /// How the latest core was lost ("NPU core 0:1 on node ... stopped: ..."):
  /// jobs no core is left for say it, also those that never reached it.
  std::string last_lost;

  struct outstanding {
    size_t slot;
    engine_actor engine;
    std::vector<job_id> ids;
    size_t bytes = 0; // its jobs' inputs
    caf::actor_clock::time_point sent;
    bool late = false;
    /// A remote core's jobs, kept to run again elsewhere if its node is
    /// lost (the engine ignores a late answer from the lost node).
    uint64_t model = 0;
    std::vector<job> kept;
  };
  std::unordered_map<uint64_t, outstanding> batches; // by sequence number
  uint64_t last_batch = 0;
  bool ticking = false;

  static inline const char* name = "actorrt.scheduler";
};

/// The behaviour of the scheduler (see scheduler_actor in messages.hpp).
/// Loads are replayed to cores that join later, before they get jobs; a job
/// only goes to a core whose lane for its model is ready.
scheduler_actor::behavior_type
scheduler(scheduler_actor::stateful_pointer<scheduler_state> self,
          scheduler_settings settings);

} // namespace actorrt
