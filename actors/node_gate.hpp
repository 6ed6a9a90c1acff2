// The gate in front of a worker node's CAF port, and its counterpart in a
// client. CAF 0.17's BASP parser trusts its input (a server handshake
// without payload, sent by anybody who reaches the port, dereferences a
// null payload in basp::instance::handle and ends the process), so no byte
// from the network reaches it unchecked:
//  - a node's gate listens on the node's address; CAF listens on loopback
//    only. Each connection first proves a shared token (HMAC-SHA256 over
//    both sides' nonces, compared in constant time, failures logged and
//    rate-limited per address), then every BASP frame is checked (its
//    operation, its order, its payload's size) before CAF reads it; a peer
//    that breaks a rule is dropped, never the node;
//  - a client's gate is a loopback port its CAF connects to for one node:
//    it proves the token to the node (and checks the node's proof) and
//    checks the node's frames the same way.
// With TLS, the gates speak it (OpenSSL, certificates verified on both
// sides) and run the same handshake and frame checks inside it: CAF on
// both ends speaks plain BASP over loopback.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

#include <caf/io/fwd.hpp>

namespace actorrt {

/// The shared secret of a node and its clients; empty: none.
struct node_token {
  std::string secret;

  explicit operator bool() const {
    return !secret.empty();
  }
  /// The first line of `path`, which only its owner may read. Throws
  /// InvalidArgument (unreadable, empty, shorter than 16 characters, or
  /// readable by others).
  static node_token from_file(const std::string& path);
  /// ACTORRT_NODE_TOKEN_FILE, else ACTORRT_NODE_TOKEN, else none.
  static node_token from_environment();
};

/// Certificates for TLS on the link: this side's certificate and key, and
/// the CA that must have signed the peer's. All three set: TLS with
/// certificates verified on both sides; none: plain TCP.
struct tls_files {
  std::string certificate;
  std::string key;
  std::string ca;

  bool enabled() const {
    return !certificate.empty();
  }
  /// Throws InvalidArgument unless all three or none are set, and readable.
  void check() const;
  /// ACTORRT_TLS_CERT, ACTORRT_TLS_KEY, ACTORRT_TLS_CA (for clients).
  static tls_files from_environment();
};

class claim_budget;

struct gate_limits {
  /// The largest BASP payload a peer may send (a job's inputs, a model).
  uint32_t max_frame_bytes = 1u << 30;
  /// Payload bytes that frames still arriving may claim at once, over all
  /// of a gate's peers: CAF allocates a frame's whole payload when its
  /// header arrives, so this bounds what peers, authenticated ones too,
  /// make the process hold for frames in transit. A frame that would pass
  /// it waits (its peer with it) for earlier ones. At least
  /// max_frame_bytes.
  uint64_t max_claimed_bytes = 2ull << 30;
  /// A peer that sends nothing for this long in the middle of a frame is
  /// dropped, and its claim with it; the gate's writes to a peer that
  /// reads nothing for this long fail too.
  std::chrono::milliseconds stall_timeout{30000};
  /// Failed handshakes from one address within `failure_window` before it
  /// is refused for `ban`.
  int max_failures = 5;
  std::chrono::seconds failure_window{60};
  std::chrono::seconds ban{60};
  /// A peer that has not finished the handshake by then is dropped.
  std::chrono::milliseconds handshake_timeout{5000};
  /// Connections still in their handshake at once; more are closed.
  int max_pending = 32;

  /// Throws InvalidArgument when max_claimed_bytes is smaller than
  /// max_frame_bytes (a message of the largest size could never pass).
  void check() const;
  /// The budget of claimed bytes (checked first).
  std::unique_ptr<claim_budget> make_budget() const;
};

/// A node's gate: listens on `bind`:`port` (0: any free port) and lets
/// peers that prove `token` (anyone, when it is empty; with `tls`, only
/// peers whose certificate its CA signed) through to CAF at
/// 127.0.0.1:`caf_port`. Logs refusals on stderr. Throws DeviceIO when it
/// cannot listen, InvalidArgument when `tls`'s files do not load.
class node_gate {
public:
  node_gate(const std::string& bind, uint16_t port, uint16_t caf_port,
            node_token token, const tls_files& tls = {},
            gate_limits limits = {});
  ~node_gate();
  node_gate(const node_gate&) = delete;
  node_gate& operator=(const node_gate&) = delete;

  uint16_t port() const;
  /// The budget its peers' frames claim (see gate_limits).
  const claim_budget& budget() const;

  struct state;

private:
  std::shared_ptr<state> state_;
};

/// A plain TCP connection to the node at `address` ("HOST:PORT") that
/// passed the node's gate with `token`, as a scribe for CAF's BASP broker
/// that checks every frame the node sends (the client_gate's rules, inside
/// CAF's own connection: no relay, no second loopback connection). Blocks
/// for the gate's handshake; throws DeviceIO with why it failed.
caf::io::scribe_ptr
checked_node_scribe(caf::io::network::default_multiplexer& mx,
                    const std::string& address, const node_token& token,
                    gate_limits limits = {});

/// True for a host name or address only this host reaches (127.0.0.0/8,
/// ::1, localhost): listening there needs neither a token nor TLS.
bool is_loopback(const std::string& host);

/// HOST and PORT of "HOST:PORT" ("[v6]:PORT" too). Throws InvalidArgument.
std::pair<std::string, std::string> split_address(const std::string& address);

/// A client's gate to the node at `address` ("HOST:PORT"): CAF connects to
/// 127.0.0.1:port() instead, and each connection passes the node's gate
/// with `token` (inside TLS with `tls`).
class client_gate {
public:
  client_gate(const std::string& address, node_token token,
              const tls_files& tls = {}, gate_limits limits = {});
  ~client_gate();
  client_gate(const client_gate&) = delete;
  client_gate& operator=(const client_gate&) = delete;

  uint16_t port() const;
  /// Why the latest connection to the node failed ("" when none did).
  std::string last_error() const;

  struct state;

private:
  std::shared_ptr<state> state_;
};

} // namespace actorrt
