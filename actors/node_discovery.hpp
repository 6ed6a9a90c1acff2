// Worker nodes that come and go. A client finds them by name: an entry
// "dns:HOST:PORT" in ACTORRT_NODES, which may resolve to several addresses
// (as a Kubernetes headless service does), is resolved again and again
// (node_finder). Or they find the client: a node given the client's
// address announces itself to the client's node_registry (ACTORRT_LISTEN).
// Either way each new address gets a node_link of its own, so nodes that
// start after the client join it.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "actors/messages.hpp"
#include "actors/node_gate.hpp"

namespace actorrt {

/// The prefix of a node entry that names many nodes by DNS.
inline const std::string dns_prefix = "dns:";
/// The prefix of a node entry where nodes announce themselves
/// ("listen:HOST:PORT").
inline const std::string listen_prefix = "listen:";

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

/// The node_links of one finder or registry, by address; they end with it.
class node_links {
public:
  node_links(caf::actor_system& sys, scheduler_actor scheduler)
    : sys_(sys), scheduler_(std::move(scheduler)) {}
  ~node_links();
  node_links(const node_links&) = delete;
  node_links& operator=(const node_links&) = delete;

  /// Joins the node at `address` (blocking; a node that does not answer
  /// yet is tried again with backoff) and keeps it joined, unless it has a
  /// link already.
  void add(const std::string& address);
  /// Ends the links of the addresses not in `kept`.
  void keep_only(const std::vector<std::string>& kept);

private:
  caf::actor_system& sys_;
  scheduler_actor scheduler_;
  std::map<std::string, caf::actor> links_;
};

/// Keeps `scheduler` joined to every node that `name` ("HOST:PORT")
/// resolves to, resolving it every `refresh`: an address that appears gets
/// a link; one that leaves the name loses its link (its cores stay while
/// the node lives). Answers (join_atom) with how many addresses it found,
/// once its first round of joins is over. Spawn it detached: resolving and
/// joining block.
caf::behavior node_finder(caf::event_based_actor* self, std::string name,
                          scheduler_actor scheduler, caf::timespan refresh,
                          node_resolver resolve);

/// The client side of announcements: each address a node announces gets a
/// link (which joins it through the client's own gate, with its token and
/// certificates). Spawn it detached: joining blocks.
node_registry::behavior_type node_registry_actor(node_registry::pointer self,
                                                 scheduler_actor scheduler);

/// The node side: tells the client listening at `client` ("HOST:PORT",
/// reached through `gate`) that this node is at `advertised`, and again
/// whenever that client comes back after it was lost (retried every
/// second meanwhile). Spawn it detached: connecting blocks.
caf::behavior node_announcer(caf::event_based_actor* self, std::string client,
                             std::string advertised,
                             std::shared_ptr<client_gate> gate);

} // namespace actorrt
