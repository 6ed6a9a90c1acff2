#include "actors/runtime.hpp"

#include <algorithm>
#include <cstdio>
#include <map>
#include <mutex>
#include <thread>

#include <pthread.h>

#include "actors/local_service.hpp"
#include "actors/node_actor.hpp"
#include "actors/npu_core_actor.hpp"
#include "actors/runtime_cpus.hpp"
#include "core/warnings.hpp"
#include "observability/prometheus.hpp"
#include "observability/trace.hpp"

#include <caf/io/all.hpp>
#include <caf/io/basp_broker.hpp>

namespace actorrt {

void add_actorrt_types(caf::actor_system_config& cfg) {
  cfg.add_message_types<caf::id_block::actorrt>();
  cfg.add_message_types<caf::id_block::actorrt_handles>();
  size_t threads = std::max(2u, std::thread::hardware_concurrency());
  cfg.set("scheduler.max-threads", threads);
  // Work sharing wakes an idle worker at once; work stealing's sleeping
  // pollers added ~30 us per hop here (bench_sync_latency: 140 → 73 us).
  cfg.set("scheduler.policy", caf::atom("sharing"));
  keep_runtime_threads_on(cfg, runtime_cpus_from_environment());
}

std::pair<std::vector<npu_core_actor>, std::vector<core_report>>
spawn_cores(caf::actor_system& sys, const std::vector<device_spec>& devices,
            const std::shared_ptr<process_metrics>& counters) {
  unpinned_logger unpinned;
  std::pair<std::vector<npu_core_actor>, std::vector<core_report>> result;
  auto host = host_name(sys);
  for (size_t d = 0; d < devices.size(); ++d) {
    auto& spec = devices[d];
    for (int c = 0; c < spec.cores; ++c) {
      core_report r;
      r.device = int(d);
      r.core = c;
      r.kind = spec.kind;
      r.host = host;
      r.device_key = host + "/" + std::to_string(d);
      r.simulated = is_simulated_kind(spec.kind);
      result.first.push_back(
        sys.spawn<caf::detached>(npu_core, int(d), c, spec, counters));
      result.second.push_back(std::move(r));
    }
  }
  return result;
}

topology start_devices(caf::actor_system& sys,
                       const std::vector<device_spec>& devices,
                       scheduler_settings settings) {
  unpinned_logger unpinned;
  topology top;
  top.credit = std::make_shared<admission>();
  settings.credit = top.credit;
  top.scheduler = sys.spawn(scheduler, settings);
  top.counters = std::make_shared<process_metrics>();
  auto [cores, reports] = spawn_cores(sys, devices, top.counters);
  for (size_t i = 0; i < cores.size(); ++i)
    caf::anon_send(top.scheduler, join_atom::value, cores[i], reports[i]);
  top.cores = std::move(cores);
  return top;
}

void stop_devices(const topology& top) {
  for (auto& core : top.cores)
    caf::anon_send_exit(core, caf::exit_reason::user_shutdown);
  caf::anon_send_exit(top.scheduler, caf::exit_reason::user_shutdown);
}

runtime::config::config(bool network) {
  add_actorrt_types(*this);
  if (network)
    use_network(*this);
}

namespace {

std::atomic<bool>& serving_metrics() {
  static std::atomic<bool> serving{false};
  return serving;
}

/// How many fork()s made this process, counted in the child: asked on
/// every job, and cheaper than getpid(), a system call.
std::atomic<int> forks{0};

int fork_count() {
  static std::once_flag counting;
  std::call_once(counting, [] {
    pthread_atfork(nullptr, nullptr,
                   [] { forks.fetch_add(1, std::memory_order_relaxed); });
  });
  return forks.load(std::memory_order_relaxed);
}

} // namespace

runtime::runtime(std::vector<device_spec> devices, scheduler_settings settings,
                 std::vector<std::string> nodes, bool network)
  : devices_(std::move(devices)), forks_(fork_count()),
    cfg_(network || !nodes.empty()) {
  // Said once per process, so no result can pass for a real one unnoticed.
  static std::once_flag said;
  for (auto& d : devices_)
    if (is_simulated_kind(d.kind))
      std::call_once(said, [] {
        std::fprintf(stderr, "actorrt: SIMULATED NPU device in use (latency "
                             "model, no real compute)\n");
      });
  unpinned_logger unpinned;
  system_ = std::make_unique<caf::actor_system>(cfg_);
  top_ = start_devices(*system_, devices_, settings);
  try {
    for (auto& address : nodes) {
      if (address.rfind(dns_prefix, 0) == 0) {
        find_nodes(address.substr(dns_prefix.size()), node_refresh(),
                   resolve_addresses);
        continue;
      }
      if (address.rfind(listen_prefix, 0) == 0) {
        listen_for_nodes(address.substr(listen_prefix.size()));
        continue;
      }
      auto gate = gate_to(address);
      auto joined = join_node(*system_, top_.scheduler, address, gate);
      node_links_.push_back(system_->spawn<caf::detached>(
        node_link, address, top_.scheduler, joined, gate));
    }
  } catch (...) {
    for (auto& link : node_links_)
      caf::anon_send_exit(link, caf::exit_reason::user_shutdown);
    stop_devices(top_);
    throw;
  }
  trace::start_from_environment();
  auto host = host_name(*system_);
  if (auto dir = status_dir(); usable_status_dir(dir))
    status_ = std::make_unique<status_file>(
      dir, [this] { return report(); }, top_.counters,
      [credit = top_.credit](int device) { return credit->load(device); }, host,
      [this](int device) { return reset_device(device); });
  // One endpoint per process: its first runtime serves it.
  auto& serving = serving_metrics();
  if (!serving.exchange(true)) {
    try {
      metrics_endpoint_ = metrics_endpoint_from_environment([this, host] {
        return prometheus_text(*top_.counters, report(), host);
      });
    } catch (const std::exception& e) {
      std::fprintf(stderr, "actorrt: ACTORRT_METRICS: %s; not serving\n",
                   e.what());
    }
    if (!metrics_endpoint_)
      serving = false;
  }
}

std::string runtime::metrics_address() const {
  return metrics_endpoint_ ? metrics_endpoint_->address() : "";
}

std::string runtime::status_path() const {
  return status_ ? status_->path() : "";
}

bool runtime::forked() const {
  return forks_ != fork_count();
}

void runtime::find_nodes(const std::string& name, caf::timespan refresh,
                         node_resolver resolve) {
  unpinned_logger unpinned;
  auto finder = system_->spawn<caf::detached>(node_finder, name, top_.scheduler,
                                              refresh, std::move(resolve));
  // Its first round: the nodes up now serve the first engine.
  caf::scoped_actor self{*system_};
  self->request(finder, caf::infinite, join_atom::value)
    .receive([](uint64_t) {}, [](caf::error&) {});
  node_links_.push_back(finder);
}

void runtime::listen_for_nodes(const std::string& address) {
  auto port = node_port(address);
  auto host = split_address(address).first;
  auto token = node_token::from_environment();
  auto tls = tls_files::from_environment();
  tls.check();
  if (!is_loopback(host) && !token && !tls.enabled())
    throw InvalidArgument(
      "listening for nodes on " + address
      + " with neither a token nor TLS would let anyone who reaches it make "
        "this process connect anywhere; set ACTORRT_NODE_TOKEN_FILE (or "
        "ACTORRT_TLS_*)");
  unpinned_logger unpinned;
  auto registry
    = system_->spawn<caf::detached>(node_registry_actor, top_.scheduler);
  node_links_.push_back(caf::actor_cast<caf::actor>(registry));
  auto bound = system_->middleman().publish(registry, 0, "127.0.0.1", true);
  if (!bound)
    throw DeviceIO("cannot listen for nodes: "
                   + system_->render(bound.error()));
  registry_gate_
    = std::make_unique<node_gate>(host, port, *bound, std::move(token), tls);
}

runtime::~runtime() {
  if (metrics_endpoint_) {
    metrics_endpoint_.reset();
    // The next runtime made may serve ACTORRT_METRICS again.
    serving_metrics().store(false);
  }
  status_.reset();
  registry_gate_.reset(); // no node announces itself any more
  for (auto& link : node_links_)
    caf::anon_send_exit(link, caf::exit_reason::user_shutdown);
  stop_devices(top_);
  top_ = {};
  if (!node_links_.empty()) {
    // Nodes hold references to this runtime's engines (the results' way
    // back), and CAF 0.17 waits for detached actors before it stops its
    // network layer: close the connections first, or the wait can last as
    // long as a node does.
    caf::anon_send_exit(system_->middleman().named_broker<caf::io::basp_broker>(
                          caf::atom("BASP")),
                        caf::exit_reason::user_shutdown);
  }
  node_links_.clear(); // detached actors end only when unreferenced
  system_.reset();     // waits for every actor to finish
}

std::shared_ptr<runtime> runtime::shared() {
  if (auto service = chosen_service()) {
    try {
      return shared({}, {*service});
    } catch (const DeviceIO& e) {
      if (service_mode() == "on")
        throw;
      warn_once(std::string("this host's service does not serve us (")
                + e.what() + "): running on this process's own devices");
    }
  }
  return shared(default_devices());
}

std::shared_ptr<runtime> runtime::shared(std::vector<device_spec> devices) {
  return shared(std::move(devices), default_nodes());
}

std::shared_ptr<runtime> runtime::shared(std::vector<device_spec> devices,
                                         std::vector<std::string> nodes) {
  // One runtime per device list: engines made under another ACTORRT_DEVICES
  // get their own, and a runtime ends with its last engine.
  static std::mutex mtx;
  static std::map<std::string, std::weak_ptr<runtime>> current;
  // A fork while another thread holds the lock must not leave it held in
  // the child.
  static std::once_flag hooks;
  std::call_once(hooks, [] {
    ::pthread_atfork([] { mtx.lock(); }, [] { mtx.unlock(); },
                     [] { mtx.unlock(); });
  });
  std::string key;
  for (auto& d : devices)
    key += to_string(d) + ",";
  for (auto& n : nodes)
    key += "@" + n + ",";
  std::lock_guard<std::mutex> guard{mtx};
  auto rt = current[key].lock();
  if (rt && !rt->forked())
    return rt;
  if (rt) // the parent's, threadless here: never touched, never freed
    new std::shared_ptr<runtime>(std::move(rt));
  rt = std::make_shared<runtime>(std::move(devices), scheduler_settings{},
                                 std::move(nodes));
  current[key] = rt;
  return rt;
}

std::vector<core_report> runtime::report() {
  std::vector<core_report> result;
  unpinned_logger unpinned;
  caf::scoped_actor self{*system_};
  self->request(top_.scheduler, caf::infinite, report_atom::value)
    .receive([&](std::vector<core_report>& r) { result = std::move(r); },
             [&](caf::error&) {});
  return result;
}

uint64_t runtime::reset_device(int device) {
  if (device < -1 || device >= int(devices_.size()))
    throw InvalidArgument("no local device " + std::to_string(device)
                          + " to reset (this process has "
                          + std::to_string(devices_.size())
                          + "; a worker node's devices are reset there)");
  unpinned_logger unpinned;
  caf::scoped_actor self{*system_};
  uint64_t rebuilt = 0;
  size_t index = 0;
  for (int d = 0; d < int(devices_.size()); ++d)
    for (int c = 0; c < devices_[d].cores; ++c, ++index)
      if (device == -1 || device == d)
        self
          ->request(top_.cores[index], std::chrono::seconds(60),
                    reset_atom::value)
          .receive([&rebuilt](uint64_t n) { rebuilt += n; },
                   [](caf::error&) {}); // a core that is gone has no lanes
  return rebuilt;
}

void runtime::kill_core(int device, int core) {
  if (device < 0 || size_t(device) >= devices_.size() || core < 0
      || core >= devices_[device].cores)
    throw InvalidArgument("no NPU core " + std::to_string(device) + ":"
                          + std::to_string(core));
  size_t index = core;
  for (int d = 0; d < device; ++d)
    index += devices_[d].cores;
  // Urgent, like a crash: jobs waiting in its mailbox never run.
  auto victim = caf::actor_cast<caf::abstract_actor*>(top_.cores[index]);
  victim->enqueue(
    nullptr, caf::make_message_id(caf::message_priority::high),
    caf::make_message(caf::exit_msg{caf::actor_addr{}, caf::exit_reason::kill}),
    nullptr);
}

} // namespace actorrt
