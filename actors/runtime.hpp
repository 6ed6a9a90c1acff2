// The actor system and its devices: the scheduler and one npu_core_actor per
// core. A facade engine uses a runtime; programs with their own actor system
// call add_actorrt_types() and start_devices() on it instead.
#pragma once

#include <memory>
#include <vector>

#include "actors/admission.hpp"
#include "actors/messages.hpp"
#include "actors/node_discovery.hpp"
#include "actors/scheduler_actor.hpp"
#include "actors/unpinned_logger.hpp"
#include "core/metrics.hpp"
#include "device/registry.hpp"
#include "observability/metrics_endpoint.hpp"
#include "observability/status_file.hpp"

namespace actorrt {

/// Registers ActorRT's message types, sizes CAF's scheduler to the host
/// (CAF 0.17 starts 4 workers even on 2 cores, which slows every hop) and
/// keeps CAF's threads on ACTORRT_RUNTIME_CPUS (see runtime_cpus.hpp).
/// Throws InvalidArgument for a bad ACTORRT_RUNTIME_CPUS.
void add_actorrt_types(caf::actor_system_config& cfg);

/// A scheduler with its local cores, the admission credit its engines
/// share, and the process's counters: what its cores ran (recorded by the
/// cores) and how its engines' jobs ended (recorded by the engines).
struct topology {
  scheduler_actor scheduler;
  std::vector<npu_core_actor> cores;
  std::shared_ptr<admission> credit;
  std::shared_ptr<process_metrics> counters;
};

/// For device i of `devices`, one detached npu_core_actor per core, with
/// its report (device i, core c, this host); the cores count their jobs in
/// `counters`.
std::pair<std::vector<npu_core_actor>, std::vector<core_report>>
spawn_cores(caf::actor_system& sys, const std::vector<device_spec>& devices,
            const std::shared_ptr<process_metrics>& counters);

/// Spawns the scheduler and the cores of `devices` (spawn_cores), joined to
/// the scheduler.
topology start_devices(caf::actor_system& sys,
                       const std::vector<device_spec>& devices,
                       scheduler_settings settings = {});

/// Stops the cores and the scheduler.
void stop_devices(const topology& top);

class runtime {
public:
  /// Local `devices`, plus the cores of the worker `nodes` ("ADDR:PORT",
  /// numbered after the local devices, in order; "dns:HOST:PORT" for the
  /// nodes a name resolves to, now and later: see find_nodes). Throws
  /// DeviceIO naming a node it cannot join. With `network`, CAF's network
  /// layer runs even without nodes (to find some later).
  explicit runtime(std::vector<device_spec> devices,
                   scheduler_settings settings = {},
                   std::vector<std::string> nodes = {}, bool network = false);
  ~runtime();

  runtime(const runtime&) = delete;
  runtime& operator=(const runtime&) = delete;

  /// The process-wide runtime, made on first use: on this host's service
  /// when chosen_service() says so (no devices of its own; when `auto`
  /// chose it and it cannot be joined, on its own devices, said once),
  /// else on default_devices() and default_nodes() (ACTORRT_DEVICES,
  /// ACTORRT_NODES).
  static std::shared_ptr<runtime> shared();
  /// The process-wide runtime on `devices` and default_nodes(), or on
  /// `nodes` (one per distinct pair of lists).
  static std::shared_ptr<runtime> shared(std::vector<device_spec> devices);
  static std::shared_ptr<runtime> shared(std::vector<device_spec> devices,
                                         std::vector<std::string> nodes);

  caf::actor_system& system() {
    return *system_;
  }
  const scheduler_actor& scheduler() const {
    return top_.scheduler;
  }
  const std::shared_ptr<admission>& credit() const {
    return top_.credit;
  }
  /// This process's counters on this runtime (see topology).
  const std::shared_ptr<process_metrics>& counters() const {
    return top_.counters;
  }
  const std::vector<device_spec>& devices() const {
    return devices_;
  }
  /// Per-core counters, device-major.
  std::vector<core_report> report();

  /// True in a child process forked after this runtime started: its
  /// threads did not survive the fork, so nothing here may be used there.
  bool forked() const;

  /// Where ACTORRT_METRICS serves this runtime's metrics ("IP:PORT"), or
  /// "" (not asked for, or served by the process's first runtime).
  std::string metrics_address() const;
  /// This runtime's status file (see status_file.hpp), or "" when off.
  std::string status_path() const;

  /// Joins the nodes `name` ("HOST:PORT") resolves to through `resolve`,
  /// now and every `refresh` (see node_finder); returns once its first
  /// round is over. Needs the network layer.
  void find_nodes(const std::string& name, caf::timespan refresh,
                  node_resolver resolve);

  /// Accepts announcements of nodes at `address` ("HOST:PORT", through a
  /// node_gate with this process's token and certificates) and joins each
  /// node announced (see node_registry_actor). Throws InvalidArgument for a
  /// non-loopback address without a token or TLS, DeviceIO when it cannot
  /// listen.
  void listen_for_nodes(const std::string& address);

  /// Builds the lanes of local device `device` (-1: every local device)
  /// anew, each core between two of its batches (dxrt-cli -r). Returns the
  /// lanes rebuilt. Throws InvalidArgument for a device that is not local.
  uint64_t reset_device(int device);

  /// Stops one core as if it had crashed (fault-injection tests).
  void kill_core(int device, int core);

private:
  struct config : caf::actor_system_config {
    explicit config(bool network);
  };

  std::vector<device_spec> devices_;
  int forks_; // fork()s that made the process that started it
  config cfg_;
  std::unique_ptr<caf::actor_system> system_;
  topology top_;
  std::vector<caf::actor> node_links_;       // per node (rejoins it) or name
  std::unique_ptr<node_gate> registry_gate_; // where nodes announce
  std::unique_ptr<status_file> status_;      // for dxrt-cli -s
  std::unique_ptr<metrics_endpoint> metrics_endpoint_; // ACTORRT_METRICS
};

} // namespace actorrt
