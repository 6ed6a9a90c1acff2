// Worker nodes found by name: a name ("dns:HOST:PORT" in ACTORRT_NODES)
// that resolves to several addresses, as a Kubernetes headless service
// does, is resolved again and again; each address that appears gets a
// node_link of its own, so nodes that start after the client join it.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "actors/messages.hpp"

namespace actorrt {

/// The prefix of a node entry that names many nodes by DNS.
inline const std::string dns_prefix = "dns:";

/// Every address ("IP:PORT", "[IPv6]:PORT") `host` resolves to now, in the
/// resolver's order, without repeats; none when it does not resolve.
using node_resolver = std::function<std::vector<std::string>(
  const std::string& host, const std::string& port)>;

/// The system's resolver (getaddrinfo: /etc/hosts, DNS).
std::vector<std::string> resolve_addresses(const std::string& host,
                                           const std::string& port);

/// How often names are resolved again: ACTORRT_NODES_REFRESH_MS (100 ms to
/// 1 h), else 5 s. Throws InvalidArgument for a value out of range.
caf::timespan node_refresh();

/// Keeps `scheduler` joined to every node that `name` ("HOST:PORT")
/// resolves to, resolving it every `refresh`: an address that appears gets
/// a node_link (which joins it, or keeps trying with backoff); one that
/// leaves the name loses its link (its cores stay while the node lives).
/// Answers (join_atom) with how many addresses it found, once its first
/// round of joins is over. Spawn it detached: resolving and joining block.
caf::behavior node_finder(caf::event_based_actor* self, std::string name,
                          scheduler_actor scheduler, caf::timespan refresh,
                          node_resolver resolve);

} // namespace actorrt
