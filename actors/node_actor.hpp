// Worker nodes: a process's cores served to other hosts' schedulers through
// CAF's middleman (BASP over TCP), no protocol of our own. A node publishes
// one node_actor; a client asks it for its cores and joins them to its own
// scheduler, after which jobs reach them as they reach local cores (by
// value: everything a core receives is serialisable).
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "actors/core_guard.hpp"
#include "actors/messages.hpp"
#include "actors/node_gate.hpp"

namespace actorrt {

/// What a client and a node must agree on: BASP's handshake refuses a peer
/// with another identifier, so a node of another ActorRT protocol version is
/// a clear error at connect time.
std::string protocol_id();

/// Loads CAF's middleman into `cfg`, with `app_id` as the application
/// identifier and heartbeats, so that a silent peer is dropped (and its
/// jobs run elsewhere) within a few seconds.
void use_network(caf::actor_system_config& cfg,
                 const std::string& app_id = protocol_id());

/// Publishes `served` on a free port of 127.0.0.1, for a node_gate to relay
/// to; returns the port. Throws DeviceIO.
uint16_t publish_node(caf::actor_system& sys, const node_actor& served);

/// The behaviour of a node_actor: hands each client its own guards of
/// `cores` (core_guard: what each client may hold and queue, `per_client`,
/// and all of them together, the book `all_clients`) with their `reports`.
/// The guards of one device's cores share its core_picker, so a batch runs
/// on the core of the device expected to free first.
node_actor::behavior_type node(node_actor::pointer self,
                               std::vector<npu_core_actor> cores,
                               std::vector<core_report> reports,
                               usage_bounds per_client,
                               std::shared_ptr<usage_book> all_clients);

/// The PORT of a node address ADDR:PORT. Throws InvalidArgument for anything
/// else.
uint16_t node_port(const std::string& address);

/// The nodes named by ACTORRT_NODES ("ADDR:PORT[,ADDR:PORT...]"), in order;
/// an entry "dns:HOST:PORT" stands for every address HOST resolves to, now
/// and later (see node_finder), and "listen:HOST:PORT" for the nodes that
/// announce themselves there (see node_registry_actor). Throws
/// InvalidArgument for a malformed entry.
std::vector<std::string> default_nodes();

/// The way to the node at `address` with ACTORRT_TLS_*'s certificates: a
/// client_gate (TLS ends there, and ACTORRT_NODE_TOKEN(_FILE)'s token is
/// proven inside it). Null without TLS: then CAF's own connection passes
/// the node's gate and checks its frames (checked_node_scribe), with no
/// relay on the way.
std::shared_ptr<client_gate> gate_to(const std::string& address);

/// Connects through `gate` (null: directly, see gate_to) to the node at
/// `address` ("ADDR:PORT") and
/// joins its cores to `scheduler`, named
/// after the node (their host is `address`). Blocks until they joined.
/// Throws DeviceIO naming the node when it cannot be reached, refuses this
/// client, or speaks another protocol (a node of another version).
node_actor join_node(caf::actor_system& sys, const scheduler_actor& scheduler,
                     const std::string& address,
                     const std::shared_ptr<client_gate>& gate);

/// Keeps a client joined to the node at `address` (already joined through
/// `joined`, or not yet when that is null): when the node is lost, it
/// reconnects with backoff (0.1 s doubling to 5 s) and joins the cores of the
/// node that answers there, so a restarted node serves running clients again.
/// Spawn it detached (it blocks while it connects).
caf::behavior node_link(caf::event_based_actor* self, std::string address,
                        scheduler_actor scheduler, node_actor joined,
                        std::shared_ptr<client_gate> gate);

} // namespace actorrt
