#include "actors/node_actor.hpp"

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <sstream>

#include <caf/io/all.hpp>
#include <caf/io/basp_broker.hpp>
#include <caf/io/middleman_actor_impl.hpp>
#include <caf/io/network/default_multiplexer.hpp>

#include <algorithm>
#include <mutex>

#include "actors/node_discovery.hpp"
#include "actors/unpinned_logger.hpp"
#include "core/parse.hpp"

namespace actorrt {

uint16_t node_port(const std::string& address) {
  auto colon = address.rfind(':');
  auto port = colon == std::string::npos || colon == 0
                ? std::nullopt
                : parse_integer(address.c_str() + colon + 1, 1, 65535);
  if (!port)
    throw InvalidArgument("node address '" + address
                          + "' is not ADDR:PORT (port 1..65535)");
  return static_cast<uint16_t>(*port);
}

std::string protocol_id() {
  // Bump when a message or a serialised type changes.
  return "actorrt-protocol-5";
}

namespace {

constexpr std::chrono::milliseconds heartbeat_interval{500};
/// A peer silent for this long is gone.
constexpr std::chrono::seconds silence_limit{3};

} // namespace

void use_network(caf::actor_system_config& cfg, const std::string& app_id) {
  cfg.load<caf::io::middleman>();
  cfg.set("middleman.app-identifiers", std::vector<std::string>{app_id});
  cfg.set("middleman.heartbeat-interval", caf::timespan{heartbeat_interval});
  cfg.set("middleman.connection-timeout", caf::timespan{silence_limit});
  // A message read off a link is deserialized on the multiplexer's thread,
  // not handed to a BASP worker first: one thread fewer to wake per message
  // (a node serving 2 ms cores: 12.6-13.2 → 10.8-11.5 context switches a
  // job; its client 18.6-20.5 → 15.3-15.6).
  cfg.set("middleman.workers", size_t{0});
}

node_actor::behavior_type node(node_actor::pointer self,
                               std::vector<npu_core_actor> cores,
                               std::vector<core_report> reports,
                               usage_bounds per_client,
                               std::shared_ptr<usage_book> node_book) {
  // The node's devices; core i is core index[i] of device_of[i].
  std::map<int, std::pair<std::vector<npu_core_actor>, std::vector<int>>>
    grouped;
  std::vector<size_t> index;
  for (size_t i = 0; i < cores.size(); ++i) {
    auto& [members, numbers] = grouped[reports[i].device];
    index.push_back(members.size());
    members.push_back(cores[i]);
    numbers.push_back(reports[i].core);
    self->monitor(cores[i]);
  }
  std::map<int, std::shared_ptr<node_device>> devices;
  for (auto& [device, d] : grouped)
    devices[device] = std::make_shared<node_device>(d.first, d.second);
  std::vector<std::shared_ptr<node_device>> device_of;
  for (auto& r : reports)
    device_of.push_back(devices[r.device]);
  // Each client's guards, by the client's node; a client whose guards end
  // (it left) gets new ones when it comes back.
  auto clients
    = std::make_shared<std::map<caf::node_id, std::vector<npu_core_actor>>>();
  self->set_down_handler([=](caf::down_msg& down) {
    for (size_t i = 0; i < cores.size(); ++i)
      if (cores[i].address() == down.source)
        return device_of[i]->picker.stopped(index[i]);
    for (auto it = clients->begin(); it != clients->end(); ++it)
      for (auto& guard : it->second)
        if (guard.address() == down.source) {
          for (auto& other : it->second)
            self->send_exit(other, caf::exit_reason::user_shutdown);
          clients->erase(it);
          return;
        }
  });
  return {
    [=](cores_atom) {
      auto sender = self->current_sender();
      auto client = sender ? sender->node() : caf::node_id{};
      auto& guards = (*clients)[client];
      if (guards.empty()) {
        auto book = std::make_shared<usage_book>(per_client, "this client");
        for (size_t i = 0; i < cores.size(); ++i) {
          guards.push_back(
            self->spawn(core_guard, device_of[i], index[i], book, node_book));
          self->monitor(guards.back());
        }
      }
      return caf::make_result(guards, reports);
    },
  };
}

uint16_t publish_node(caf::actor_system& sys, const node_actor& served) {
  auto bound = sys.middleman().publish(served, 0, "127.0.0.1", true);
  if (!bound)
    throw DeviceIO("cannot listen on 127.0.0.1: " + sys.render(bound.error()));
  return *bound;
}

std::vector<std::string> default_nodes() {
  std::vector<std::string> result;
  const char* env = std::getenv("ACTORRT_NODES");
  if (!env)
    return result;
  std::stringstream all{env};
  std::string item;
  while (std::getline(all, item, ','))
    if (!item.empty()) {
      auto address = item;
      for (auto& prefix : {dns_prefix, listen_prefix})
        if (item.rfind(prefix, 0) == 0)
          address = item.substr(prefix.size());
      node_port(address);
      result.push_back(item);
    }
  return result;
}

namespace {

/// Where a system's node_connector is registered.
constexpr caf::atom_value connector_key = caf::atom("ArtConnect");

/// CAF's middleman actor with connections of its own: each passes the
/// node's gate and has its frames checked inside CAF's connection
/// (checked_node_scribe) rather than by a client_gate's relay. Detached:
/// the gate's handshake blocks. Quits with CAF's BASP broker.
class node_connector : public caf::io::middleman_actor_impl {
public:
  node_connector(caf::actor_config& cfg, caf::actor broker)
    : caf::io::middleman_actor_impl(cfg, broker), broker_(std::move(broker)) {}

  behavior_type make_behavior() override {
    monitor(broker_);
    set_down_handler([this](caf::down_msg&) { quit(); });
    return caf::io::middleman_actor_impl::make_behavior();
  }

  void on_exit() override {
    // The registry's reference would keep it (and its thread, which the
    // actor system waits for) from ending.
    system().registry().erase(connector_key);
    caf::io::middleman_actor_impl::on_exit();
  }

protected:
  caf::expected<caf::io::scribe_ptr> connect(const std::string& host,
                                             uint16_t port) override {
    try {
      auto& mx = static_cast<caf::io::network::default_multiplexer&>(
        system().middleman().backend());
      // An IPv6 address goes back in brackets, as split_address reads it.
      auto name = host.find(':') == std::string::npos ? host : "[" + host + "]";
      return checked_node_scribe(mx, name + ":" + std::to_string(port),
                                 node_token::from_environment());
    } catch (const std::exception& e) {
      return caf::make_error(caf::sec::cannot_connect_to_node, e.what());
    }
  }

private:
  caf::actor broker_;
};

/// `sys`'s node_connector, started at the first use.
caf::io::middleman_actor connector_of(caf::actor_system& sys) {
  static std::mutex mtx;
  std::lock_guard<std::mutex> guard{mtx};
  auto c = sys.registry().get<caf::io::middleman_actor>(connector_key);
  if (!c) {
    c = sys.spawn<node_connector, caf::detached + caf::hidden>(
      sys.middleman().named_broker<caf::io::basp_broker>(caf::atom("BASP")));
    sys.registry().put(connector_key, c);
  }
  return c;
}

/// Why `e` happened: its own words when it carries them.
std::string why_of(caf::actor_system& sys, const caf::error& e) {
  auto& ctx = e.context();
  if (ctx.match_elements<std::string>())
    return ctx.get_as<std::string>(0);
  return sys.render(e);
}

/// The node at `address`, through node_connector.
caf::expected<node_actor> connect_checked(caf::actor_system& sys,
                                          const std::string& address) {
  auto host = split_address(address).first;
  caf::expected<node_actor> result = caf::sec::cannot_connect_to_node;
  caf::scoped_actor self{sys};
  self
    ->request(connector_of(sys), caf::infinite, caf::connect_atom::value, host,
              node_port(address))
    .receive(
      [&](const caf::node_id&, caf::strong_actor_ptr& ptr,
          const std::set<std::string>& ifs) {
        auto ours = sys.message_types(caf::detail::type_list<node_actor>{});
        if (!ptr)
          result = caf::make_error(caf::sec::no_actor_published_at_port);
        else if (!std::includes(ifs.begin(), ifs.end(), ours.begin(),
                                ours.end()))
          result
            = caf::make_error(caf::sec::unexpected_actor_messaging_interface);
        else
          result = caf::actor_cast<node_actor>(std::move(ptr));
      },
      [&](caf::error& e) { result = std::move(e); });
  return result;
}

} // namespace

std::shared_ptr<client_gate> gate_to(const std::string& address) {
  node_port(address); // a clear error for a malformed one
  auto tls = tls_files::from_environment();
  if (!tls.enabled())
    return nullptr; // node_connector's checked connections
  return std::make_shared<client_gate>(address, node_token::from_environment(),
                                       tls);
}

node_actor join_node(caf::actor_system& sys, const scheduler_actor& scheduler,
                     const std::string& address,
                     const std::shared_ptr<client_gate>& gate) {
  unpinned_logger unpinned;
  // CAF 0.17's BASP gives a connection in its handshake a last-seen time of
  // zero, so a heartbeat tick that comes before the node's handshake ends
  // it with connection_timeout: a node busy for a moment (a tick comes
  // every 500 ms) is a lost race, not a lost node. Connect again for as
  // long as a silent node would take to count as gone.
  auto give_up = std::chrono::steady_clock::now() + silence_limit;
  auto connect = [&] {
    return gate ? sys.middleman().remote_actor<node_actor>("127.0.0.1",
                                                           gate->port())
                : connect_checked(sys, address);
  };
  auto gate_error = [&] { return gate ? gate->last_error() : std::string{}; };
  auto remote = connect();
  while (!remote && remote.error() == caf::sec::connection_timeout
         && gate_error().empty() && std::chrono::steady_clock::now() < give_up)
    remote = connect();
  if (!remote && !gate_error().empty())
    throw DeviceIO("cannot join node " + address + ": " + gate_error());
  if (!remote && remote.error() == caf::sec::incompatible_application_ids)
    throw DeviceIO("cannot join node " + address
                   + ": it speaks another ActorRT protocol version than "
                     "this client's ("
                   + protocol_id() + "); run the same version on both");
  if (!remote)
    throw DeviceIO("cannot join node " + address + ": "
                   + why_of(sys, remote.error()));
  caf::scoped_actor self{sys};
  std::vector<npu_core_actor> cores;
  std::vector<core_report> reports;
  self->request(*remote, std::chrono::seconds(30), cores_atom::value)
    .receive(
      [&](std::vector<npu_core_actor>& c, std::vector<core_report>& r) {
        cores = std::move(c);
        reports = std::move(r);
      },
      [&](caf::error& e) {
        throw DeviceIO("node " + address
                       + " did not list its cores: " + sys.render(e));
      });
  for (size_t i = 0; i < cores.size() && i < reports.size(); ++i) {
    auto& r = reports[i];
    r.host = address;
    r.device_key = address + "/" + std::to_string(r.device);
    caf::anon_send(scheduler, join_atom::value, cores[i], r);
  }
  return *remote;
}

caf::behavior node_link(caf::event_based_actor* self, std::string address,
                        scheduler_actor scheduler, node_actor joined,
                        std::shared_ptr<client_gate> gate) {
  auto backoff
    = std::make_shared<caf::timespan>(std::chrono::milliseconds(100));
  if (joined)
    self->monitor(joined);
  else
    self->send(self, join_atom::value);
  self->set_down_handler([=](caf::down_msg&) {
    self->delayed_send(self, *backoff, join_atom::value);
  });
  return {
    [=](join_atom) {
      try {
        self->monitor(join_node(self->system(), scheduler, address, gate));
        *backoff = std::chrono::milliseconds(100);
      } catch (const Error&) {
        *backoff
          = std::min<caf::timespan>(*backoff * 2, std::chrono::seconds(5));
        self->delayed_send(self, *backoff, join_atom::value);
      }
    },
  };
}

} // namespace actorrt
