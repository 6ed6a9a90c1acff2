// A worker node: serves this host's NPU cores (or CPU lanes) to ActorRT
// clients on other hosts through CAF's middleman, behind a gate that
// checks every peer (actors/node_gate.hpp); with --local, the service this
// host's own processes share (actors/local_service.hpp).
// Usage: actorrt-node [--devices cpu:2] [--bind 127.0.0.1] [--port 0 |
//                     --local] [--token-file FILE] [--insecure]
// Clients use it with ACTORRT_NODES=ADDR:PORT (and the same token), or it
// announces itself to clients listening at --announce ADDR:PORT
// (ACTORRT_NODES=listen:ADDR:PORT there); this host's processes find a
// --local one by themselves (ACTORRT_SERVICE).
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <thread>

#include <CLI/CLI.hpp>
#include <caf/io/all.hpp>

#include "actors/claim_budget.hpp"
#include "actors/local_service.hpp"
#include "actors/node_actor.hpp"
#include "actors/node_discovery.hpp"
#include "actors/runtime.hpp"
#include "core/errors.hpp"
#include "device/registry.hpp"
#include "observability/metrics_endpoint.hpp"
#include "observability/prometheus.hpp"
#include "tools/common/number_checks.hpp"

using namespace actorrt;

namespace {

struct node_config : caf::actor_system_config {
  explicit node_config(const std::string& protocol) {
    add_actorrt_types(*this);
    use_network(*this, protocol);
  }
};

/// Refuses new batches and waits until the node holds no job (at most
/// `bound`, or until another of the `stop` signals).
void drain(usage_book& node, std::chrono::seconds bound, const sigset_t& stop) {
  int held = 0;
  {
    std::lock_guard<std::mutex> guard{node.mtx};
    node.draining = true;
    held = node.queued;
  }
  auto end = std::chrono::steady_clock::now() + bound;
  timespec tick{0, 10'000'000};
  while (held > 0 && std::chrono::steady_clock::now() < end) {
    if (sigtimedwait(&stop, nullptr, &tick) > 0) {
      std::fprintf(stderr, "actorrt-node: second signal, stopping now\n");
      break;
    }
    std::lock_guard<std::mutex> guard{node.mtx};
    held = node.queued;
  }
  std::fprintf(stderr, "actorrt-node: drained%s, stopping\n",
               held > 0 ? " (bound reached: jobs left fail at their clients)"
                        : ": every job it took has ended");
}

} // namespace

int main(int argc, char** argv) {
  CLI::App app{"Serve this host's ActorRT devices to clients on other hosts"};
  std::string devices;
  std::string bind = "127.0.0.1";
  uint16_t port = 0;
  app.add_option("--devices", devices,
                 "devices to serve, as ACTORRT_DEVICES (default: that, or "
                 "cpu:3)");
  app.add_option("--bind", bind,
                 "address to listen on (default 127.0.0.1: this host only); "
                 "another address needs TLS or a token, or --insecure");
  std::string token_file;
  app.add_option("--token-file", token_file,
                 "a file (chmod 600) whose first line is the token clients "
                 "must prove (default: ACTORRT_NODE_TOKEN_FILE or "
                 "ACTORRT_NODE_TOKEN)");
  bool insecure = false;
  app.add_flag("--insecure", insecure,
               "listen on a non-loopback address with neither TLS nor a "
               "token: anyone who reaches the port may use this node");
  uint32_t max_frame_mib = 1024;
  app
    .add_option("--max-message-mib", max_frame_mib,
                "the largest message a client may send (a job's inputs, a "
                "model), MiB")
    ->check(CLI::Range(1, 4095));
  uint64_t claimed_mib = 2048;
  app
    .add_option("--message-budget-mib", claimed_mib,
                "bytes that messages still arriving may claim at once, over "
                "all clients (the process holds a message's whole size from "
                "its first bytes; more waits), MiB, at least "
                "--max-message-mib")
    ->check(CLI::Range(1, 1 << 20));
  int stall_s = 30;
  app
    .add_option("--stall-timeout-s", stall_s,
                "drop a client that sends nothing for this long in the "
                "middle of a message, or reads nothing for this long")
    ->check(CLI::Range(1, 3600));
  usage_bounds bounds, all;
  all.max_models = 128;
  all.max_model_bytes = 8ull << 30;
  all.max_queued_jobs = 4096;
  uint64_t model_mib = bounds.max_model_bytes >> 20,
           input_mib = bounds.max_input_bytes >> 20,
           all_model_mib = all.max_model_bytes >> 20;
  auto positive = [&app](const char* flag, auto& value, const char* what) {
    app.add_option(flag, value, what)->check(tools::positive);
  };
  positive("--max-models", bounds.max_models,
           "models one client may hold on this node");
  positive("--max-model-mib", model_mib,
           "MiB of models one client may hold on this node");
  positive("--max-queued-jobs", bounds.max_queued_jobs,
           "jobs one client may have queued on this node");
  positive("--max-input-mib", input_mib, "MiB of inputs one job may carry");
  positive("--node-max-models", all.max_models,
           "models all clients together may hold on this node");
  positive("--node-max-model-mib", all_model_mib,
           "MiB of models all clients together may hold on this node");
  positive("--node-max-queued-jobs", all.max_queued_jobs,
           "jobs all clients together may have queued on this node");
  auto* port_option
    = app.add_option("--port", port, "TCP port (0: any free port)");
  bool local = false;
  app
    .add_flag("--local", local,
              "serve this host's processes: listen on 127.0.0.1 at "
              "ACTORRT_SERVICE_PORT (default 7749), where their "
              "ACTORRT_SERVICE=auto|on finds this node")
    ->excludes(port_option);
  std::string metrics_address;
  app.add_option("--metrics", metrics_address,
                 "serve Prometheus metrics of this node's cores at "
                 "HOST:PORT/metrics (default: ACTORRT_METRICS, if set)");
  tls_files tls;
  app.add_option("--tls-cert", tls.certificate,
                 "TLS: this node's certificate (PEM); with --tls-key and "
                 "--tls-ca, clients must present a certificate that CA "
                 "signed");
  app.add_option("--tls-key", tls.key, "TLS: this node's private key (PEM)");
  app.add_option("--tls-ca", tls.ca, "TLS: the CA clients' certificates need");
  int drain_seconds = 30;
  app
    .add_option("--drain-seconds", drain_seconds,
                "on SIGTERM, how long the jobs the node holds may take to "
                "finish before it stops anyway")
    ->check(CLI::Range(0, 3600));
  std::vector<std::string> announce;
  app.add_option("--announce", announce,
                 "tell the clients listening at ADDR:PORT (their "
                 "ACTORRT_NODES=listen:ADDR:PORT) that this node serves, "
                 "again whenever one comes back; with the token and TLS "
                 "files of this node");
  std::string advertise;
  app.add_option("--advertise", advertise,
                 "the ADDR:PORT clients reach this node at, announced "
                 "(default: --bind and the port it listens on)");
  // Hidden: lets tests stand in for a node of another protocol version.
  std::string protocol = protocol_id();
  app.add_option("--protocol-id", protocol)->group("");
  CLI11_PARSE(app, argc, argv);
  // Block the stop signals before any thread starts, so that only sigwait
  // below sees them.
  sigset_t stop;
  sigemptyset(&stop);
  sigaddset(&stop, SIGINT);
  sigaddset(&stop, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop, nullptr);
  try {
    if (local) {
      if (bind != "127.0.0.1")
        throw InvalidArgument("--local listens on 127.0.0.1; drop --bind");
      port = service_port();
    }
    if (!announce.empty() && advertise.empty()
        && (bind == "0.0.0.0" || bind == "::"))
      throw InvalidArgument("--announce with --bind " + bind
                            + " needs --advertise ADDR:PORT: the address "
                              "clients reach this node at");
    gate_limits limits;
    limits.max_frame_bytes = max_frame_mib << 20;
    limits.max_claimed_bytes = claimed_mib << 20;
    limits.stall_timeout = std::chrono::seconds(stall_s);
    limits.check(); // before any thread starts
    auto specs = devices.empty() ? default_devices() : parse_devices(devices);
    if (specs.empty())
      throw InvalidArgument("a node needs at least one device");
    tls.check();
    auto token = token_file.empty() ? node_token::from_environment()
                                    : node_token::from_file(token_file);
    bool loopback = is_loopback(bind);
    if (!loopback && !tls.enabled() && !token && !insecure)
      throw InvalidArgument(
        "refusing to listen on " + bind
        + " with neither TLS nor a token: anyone who reaches it could use "
          "this node. Give --token-file (or ACTORRT_NODE_TOKEN_FILE), or "
          "--tls-cert/--tls-key/--tls-ca, or say --insecure");
    node_config cfg{protocol};
    caf::actor_system sys{cfg};
    auto counters = std::make_shared<process_metrics>();
    auto [cores, reports] = spawn_cores(sys, specs, counters);
    bounds.max_model_bytes = model_mib << 20;
    bounds.max_input_bytes = input_mib << 20;
    all.max_model_bytes = all_model_mib << 20;
    all.max_input_bytes = bounds.max_input_bytes;
    auto node_book = std::make_shared<usage_book>(all, "all clients");
    auto served = sys.spawn(node, cores, reports, bounds, node_book);
    // However main leaves, the actors end first: the system's destructor
    // waits for them.
    struct stop_actors {
      std::vector<caf::actor> all;
      ~stop_actors() {
        for (auto& a : all)
          caf::anon_send_exit(a, caf::exit_reason::user_shutdown);
      }
    } stopping;
    stopping.all.push_back(caf::actor_cast<caf::actor>(served));
    for (auto& core : cores)
      stopping.all.push_back(caf::actor_cast<caf::actor>(core));
    // CAF listens on loopback only; the gate on `bind`.
    auto bound = publish_node(sys, served);
    std::string who
      = tls.enabled() && token ? "a certificate of --tls-ca and the token"
        : tls.enabled()        ? "a certificate of --tls-ca"
        : token                ? "the token"
        : loopback             ? "nothing: this host's users only"
                   : "nothing: INSECURE, anyone who reaches the port";
    auto token_copy = token; // announcements prove it to clients too
    auto gate = std::make_unique<node_gate>(bind, port, bound, std::move(token),
                                            tls, limits);
    auto metrics_text = [&counters = *counters, &reports = reports,
                         host = host_name(sys), &budget = gate->budget()] {
      return prometheus_text(counters, reports, host)
             + prometheus_gate_text(budget.capacity() - budget.available(),
                                    budget.capacity(), budget.waiting());
    };
    // Ends before the gate, whose budget it reads.
    auto endpoint
      = metrics_address.empty()
          ? metrics_endpoint_from_environment(metrics_text)
          : std::make_unique<metrics_endpoint>(metrics_address, metrics_text);
    if (endpoint && !metrics_address.empty())
      std::fprintf(stderr, "actorrt-node: metrics at http://%s/metrics\n",
                   endpoint->address().c_str());
    if (advertise.empty())
      advertise = bind + ":" + std::to_string(gate->port());
    for (auto& client : announce)
      stopping.all.push_back(sys.spawn<caf::detached>(
        node_announcer, client, advertise,
        std::make_shared<client_gate>(client, token_copy, tls)));
    std::printf("actorrt-node listening on %s:%u\n", bind.c_str(),
                unsigned(gate->port()));
    std::fprintf(stderr, "actorrt-node: clients need %s\n", who.c_str());
    std::fflush(stdout);
    int sig = 0;
    sigwait(&stop, &sig);
    std::fprintf(stderr, "actorrt-node: %s, draining\n",
                 sig == SIGINT ? "SIGINT" : "SIGTERM");
    // Drain: new batches are refused (clients run them on other cores),
    // those taken finish and their results reach their clients. Bounded;
    // a second signal stops at once.
    drain(*node_book, std::chrono::seconds(drain_seconds), stop);
    endpoint.reset();
    gate.reset(); // no new client gets in; connections in it end
    sys.middleman().unpublish(served, bound);
    // The stop is bounded: CAF's teardown can wait for a core's last
    // reference held by the network layer (seen about once in a dozen
    // stops right after a client left). Past the bound, leave anyway.
    std::thread([] {
      std::this_thread::sleep_for(std::chrono::seconds(5));
      std::fprintf(stderr, "actorrt-node: shutdown took over 5 s; exiting\n");
      std::_Exit(0);
    }).detach();
    return 0;
  } catch (const Error& e) {
    std::fprintf(stderr, "actorrt-node: %s: %s\n", to_string(e.code()),
                 e.what());
    return 2;
  }
}
