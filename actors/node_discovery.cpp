#include "actors/node_discovery.hpp"

#include <algorithm>
#include <cstdio>
#include <cstdlib>

#include <netdb.h>
#include <sys/socket.h>

#include <caf/io/all.hpp>

#include "actors/node_actor.hpp"
#include "actors/unpinned_logger.hpp"
#include "core/parse.hpp"

namespace actorrt {

std::vector<std::string> resolve_addresses(const std::string& host,
                                           const std::string& port) {
  addrinfo hints{};
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* found = nullptr;
  if (::getaddrinfo(host.c_str(), port.c_str(), &hints, &found) != 0)
    return {};
  std::vector<std::string> addresses;
  for (auto* a = found; a; a = a->ai_next) {
    char ip[NI_MAXHOST];
    if (::getnameinfo(a->ai_addr, a->ai_addrlen, ip, sizeof ip, nullptr, 0,
                      NI_NUMERICHOST)
        != 0)
      continue;
    auto address = a->ai_family == AF_INET6
                     ? "[" + std::string(ip) + "]:" + port
                     : std::string(ip) + ":" + port;
    if (std::find(addresses.begin(), addresses.end(), address)
        == addresses.end())
      addresses.push_back(address);
  }
  ::freeaddrinfo(found);
  return addresses;
}

caf::timespan node_refresh() {
  const char* env = std::getenv("ACTORRT_NODES_REFRESH_MS");
  if (!env)
    return std::chrono::seconds(5);
  auto ms = parse_integer(env, 100, 3600 * 1000);
  if (!ms)
    throw InvalidArgument("ACTORRT_NODES_REFRESH_MS='" + std::string(env)
                          + "' is not a number of milliseconds in 100.."
                            "3600000");
  return std::chrono::milliseconds(*ms);
}

node_links::~node_links() {
  for (auto& [address, link] : links_)
    caf::anon_send_exit(link, caf::exit_reason::user_shutdown);
}

void node_links::add(const std::string& address) {
  if (links_.count(address))
    return;
  auto gate = gate_to(address);
  node_actor joined;
  try {
    joined = join_node(sys_, scheduler_, address, gate);
  } catch (const Error&) {
    // Not up yet (or refusing): its link keeps trying.
  }
  links_[address]
    = sys_.spawn<caf::detached>(node_link, address, scheduler_, joined, gate);
}

void node_links::keep_only(const std::vector<std::string>& kept) {
  for (auto i = links_.begin(); i != links_.end();) {
    if (std::find(kept.begin(), kept.end(), i->first) != kept.end()) {
      ++i;
    } else {
      caf::anon_send_exit(i->second, caf::exit_reason::user_shutdown);
      i = links_.erase(i);
    }
  }
}

namespace {

/// Resolves `name` once: links the addresses that appeared, unlinks those
/// that left. Returns how many addresses it found.
size_t find_once(node_links& links, const std::string& name,
                 const node_resolver& resolve) {
  auto [host, port] = split_address(name);
  auto now = resolve(host, port);
  links.keep_only(now);
  for (auto& address : now)
    links.add(address);
  return now.size();
}

} // namespace

caf::behavior node_finder(caf::event_based_actor* self, std::string name,
                          scheduler_actor scheduler, caf::timespan refresh,
                          node_resolver resolve) {
  // Owned by the behaviour: the links end when the finder does.
  auto links = std::make_shared<node_links>(self->system(), scheduler);
  auto found = find_once(*links, name, resolve);
  self->delayed_send(self, refresh, tick_atom::value);
  return {
    [=](join_atom) { return static_cast<uint64_t>(found); },
    [=](tick_atom) {
      find_once(*links, name, resolve);
      self->delayed_send(self, refresh, tick_atom::value);
    },
  };
}

node_registry::behavior_type node_registry_actor(node_registry::pointer self,
                                                 scheduler_actor scheduler) {
  auto links = std::make_shared<node_links>(self->system(), scheduler);
  return {
    [=](join_atom, const std::string& address) {
      try {
        links->add(address);
      } catch (const Error& e) {
        std::fprintf(stderr, "actorrt: ignored a node's announcement: %s\n",
                     e.what());
      }
    },
  };
}

caf::behavior node_announcer(caf::event_based_actor* self, std::string client,
                             std::string advertised,
                             std::shared_ptr<client_gate> gate) {
  auto registry = std::make_shared<node_registry>();
  self->set_down_handler([=](caf::down_msg&) {
    *registry = nullptr; // the client left: tell it again when it is back
    self->send(self, tick_atom::value);
  });
  self->send(self, tick_atom::value);
  return {
    [=](tick_atom) {
      if (*registry)
        return;
      unpinned_logger unpinned;
      auto remote = self->system().middleman().remote_actor<node_registry>(
        "127.0.0.1", gate->port());
      if (!remote) {
        self->delayed_send(self, std::chrono::seconds(1), tick_atom::value);
        return;
      }
      *registry = *remote;
      self->monitor(*registry);
      self->send(*registry, join_atom::value, advertised);
      std::fprintf(stderr, "actorrt-node: announced %s to the client at %s\n",
                   advertised.c_str(), client.c_str());
    },
  };
}

} // namespace actorrt
