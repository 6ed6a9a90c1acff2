#include "actors/node_finder.hpp"

#include <cstdlib>
#include <map>

#include <netdb.h>
#include <sys/socket.h>

#include "actors/node_actor.hpp"
#include "actors/node_gate.hpp"

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
    bool seen = false;
    for (auto& known : addresses)
      seen = seen || known == address;
    if (!seen)
      addresses.push_back(address);
  }
  ::freeaddrinfo(found);
  return addresses;
}

caf::timespan node_refresh() {
  const char* env = std::getenv("ACTORRT_NODES_REFRESH_MS");
  if (!env)
    return std::chrono::seconds(5);
  char* end = nullptr;
  long ms = std::strtol(env, &end, 10);
  if (*env == '\0' || *end != '\0' || ms < 100 || ms > 3600 * 1000)
    throw InvalidArgument("ACTORRT_NODES_REFRESH_MS='" + std::string(env)
                          + "' is not a number of milliseconds in 100.."
                            "3600000");
  return std::chrono::milliseconds(ms);
}

namespace {

struct finder_state {
  std::map<std::string, caf::actor> links; // by address
};

/// Resolves `name` once: links the addresses that appeared, unlinks those
/// that left. Returns how many addresses it found.
size_t find_once(caf::event_based_actor* self, finder_state& st,
                 const std::string& name, const scheduler_actor& scheduler,
                 const node_resolver& resolve) {
  auto [host, port] = split_address(name);
  auto now = resolve(host, port);
  for (auto i = st.links.begin(); i != st.links.end();) {
    bool kept = false;
    for (auto& address : now)
      kept = kept || address == i->first;
    if (kept) {
      ++i;
    } else {
      self->send_exit(i->second, caf::exit_reason::user_shutdown);
      i = st.links.erase(i);
    }
  }
  for (auto& address : now) {
    if (st.links.count(address))
      continue;
    auto gate = gate_to(address);
    node_actor joined;
    try {
      joined = join_node(self->system(), scheduler, address, gate);
    } catch (const Error&) {
      // Not up yet (or refusing): its link keeps trying.
    }
    st.links[address] = self->system().spawn<caf::detached>(
      node_link, address, scheduler, joined, gate);
  }
  return now.size();
}

} // namespace

caf::behavior node_finder(caf::event_based_actor* self, std::string name,
                          scheduler_actor scheduler, caf::timespan refresh,
                          node_resolver resolve) {
  auto st = std::make_shared<finder_state>();
  self->attach_functor([st] {
    for (auto& [address, link] : st->links)
      caf::anon_send_exit(link, caf::exit_reason::user_shutdown);
  });
  auto found = find_once(self, *st, name, scheduler, resolve);
  self->delayed_send(self, refresh, tick_atom::value);
  return {
    [=](join_atom) { return static_cast<uint64_t>(found); },
    [=](tick_atom) {
      find_once(self, *st, name, scheduler, resolve);
      self->delayed_send(self, refresh, tick_atom::value);
    },
  };
}

} // namespace actorrt
