#include "actors/node_gate.hpp"

#include <caf/io/network/default_multiplexer.hpp>
#include <caf/io/network/stream_impl.hpp>
#include <caf/io/scribe.hpp>
#include <caf/policy/tcp.hpp>

#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <fcntl.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <openssl/ssl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>

#include <array>
#include <atomic>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <fstream>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <thread>
#include <utility>
#include <vector>

#include "actors/claim_budget.hpp"
#include "core/errors.hpp"

namespace actorrt {

namespace {

using clock_type = std::chrono::steady_clock;
using bytes32 = std::array<uint8_t, 32>;

// The gate's own handshake, before any BASP byte. The node speaks first:
//   node:   magic(8) token_required(1) node_nonce(32)
//   client: magic(8) client_nonce(32) mac("client")(32)
//   node:   accepted(1) mac("node")(32)
// mac(role) = HMAC-SHA256(token, role || node_nonce || client_nonce), all
// zero without a token. The client checks the node's mac too.
constexpr char magic[8] = {'A', 'R', 'T', 'G', 'A', 'T', 'E', '1'};
constexpr size_t challenge_bytes = 8 + 1 + 32;
constexpr size_t answer_bytes = 8 + 32 + 32;
constexpr size_t verdict_bytes = 1 + 32;

// BASP (CAF 0.17): a 32-byte header, then payload_len bytes.
constexpr size_t basp_header_bytes = 32;
constexpr uint32_t max_handshake_payload = 1u << 16;
enum basp_op : uint8_t {
  server_handshake = 0,
  client_handshake = 1,
  heartbeat = 6,
};

bytes32 random_nonce() {
  bytes32 n;
  if (RAND_bytes(n.data(), int(n.size())) != 1)
    throw DeviceIO("no random bytes for the gate's nonce");
  return n;
}

bytes32 mac(const node_token& token, const char* role, const bytes32& node,
            const bytes32& client) {
  bytes32 out{};
  if (!token)
    return out;
  std::vector<uint8_t> data(role, role + std::strlen(role));
  data.insert(data.end(), node.begin(), node.end());
  data.insert(data.end(), client.begin(), client.end());
  unsigned len = 0;
  HMAC(EVP_sha256(), token.secret.data(), int(token.secret.size()), data.data(),
       data.size(), out.data(), &len);
  return out;
}

bool same(const uint8_t* a, const uint8_t* b, size_t n) {
  return CRYPTO_memcmp(a, b, n) == 0; // constant time
}

/// A socket that closes itself.
class socket_fd {
public:
  explicit socket_fd(int fd = -1) : fd_(fd) {}
  ~socket_fd() {
    if (fd_ >= 0)
      ::close(fd_);
  }
  socket_fd(socket_fd&& other) noexcept : fd_(other.fd_) {
    other.fd_ = -1;
  }
  socket_fd& operator=(socket_fd&& other) noexcept {
    std::swap(fd_, other.fd_);
    return *this;
  }
  socket_fd(const socket_fd&) = delete;
  socket_fd& operator=(const socket_fd&) = delete;
  int get() const {
    return fd_;
  }
  /// Gives the descriptor up to the caller, who closes it.
  int release() {
    return std::exchange(fd_, -1);
  }
  /// Ends both directions; the threads blocked on it return.
  void shut() const {
    if (fd_ >= 0)
      ::shutdown(fd_, SHUT_RDWR);
  }

private:
  int fd_;
};

/// Why OpenSSL failed last on this thread, in its words.
std::string openssl_error() {
  char text[256] = "unknown error";
  if (auto e = ERR_peek_last_error())
    ERR_error_string_n(e, text, sizeof text);
  ERR_clear_error();
  return text;
}

using tls_context = std::shared_ptr<SSL_CTX>;

/// A TLS context with `tls`'s certificate and key that asks the peer for a
/// certificate `tls.ca` signed (a server fails a peer without one). Null
/// without TLS. Throws InvalidArgument when a file does not load.
tls_context make_tls_context(const tls_files& tls, bool server) {
  if (!tls.enabled())
    return nullptr;
  tls.check();
  tls_context ctx{
    SSL_CTX_new(server ? TLS_server_method() : TLS_client_method()),
    SSL_CTX_free};
  if (!ctx)
    throw DeviceIO("no TLS context: " + openssl_error());
  SSL_CTX_set_min_proto_version(ctx.get(), TLS1_2_VERSION);
  auto load = [&](int ok, const std::string& what) {
    if (ok != 1)
      throw InvalidArgument("TLS: cannot use " + what + ": " + openssl_error());
  };
  load(SSL_CTX_use_certificate_chain_file(ctx.get(), tls.certificate.c_str()),
       "the certificate '" + tls.certificate + "'");
  load(
    SSL_CTX_use_PrivateKey_file(ctx.get(), tls.key.c_str(), SSL_FILETYPE_PEM),
    "the key '" + tls.key + "'");
  load(SSL_CTX_check_private_key(ctx.get()),
       "the key '" + tls.key + "' with its certificate");
  load(SSL_CTX_load_verify_locations(ctx.get(), tls.ca.c_str(), nullptr),
       "the CA '" + tls.ca + "'");
  SSL_CTX_set_verify(
    ctx.get(), SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, nullptr);
  // Records arrive in bulk: read many with one system call.
  SSL_CTX_set_read_ahead(ctx.get(), 1);
  SSL_CTX_set_default_read_buffer_len(ctx.get(), 256 * 1024);
  return ctx;
}

/// One side of a relayed connection: a socket, with TLS on it or not.
/// With TLS, the relay's two threads share one SSL object, which OpenSSL
/// allows when its calls are serialised: each call holds `mtx_`, and the
/// socket (non-blocking then) is waited for without it.
class stream {
public:
  explicit stream(socket_fd s) : socket_(std::move(s)) {}
  ~stream() {
    if (ssl_)
      SSL_free(ssl_);
  }
  stream(const stream&) = delete;
  stream& operator=(const stream&) = delete;

  int fd() const {
    return socket_.get();
  }
  /// The plain socket, given up (no TLS on it).
  int release() {
    return socket_.release();
  }
  /// Ends both directions; the threads blocked on it return.
  void shut() const {
    socket_.shut();
  }
  /// Bounds each wait for the peer (zero: unbounded again).
  void set_timeout(std::chrono::milliseconds t) {
    timeout_ms_ = t.count() > 0 ? int(t.count()) : -1;
    timeval tv{};
    tv.tv_sec = t.count() / 1000;
    tv.tv_usec = (t.count() % 1000) * 1000;
    ::setsockopt(fd(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    ::setsockopt(fd(), SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  }
  /// Runs TLS's handshake with `ctx` (nothing without one); "" or why it
  /// failed.
  std::string start_tls(const tls_context& ctx, bool server) {
    if (!ctx)
      return "";
    ssl_ = SSL_new(ctx.get());
    if (!ssl_ || SSL_set_fd(ssl_, fd()) != 1)
      return "no TLS session: " + openssl_error();
    ::fcntl(fd(), F_SETFL, ::fcntl(fd(), F_GETFL) | O_NONBLOCK);
    if (tls_call(
          [server](SSL* s) { return server ? SSL_accept(s) : SSL_connect(s); })
        > 0)
      return "";
    auto verified = SSL_get_verify_result(ssl_);
    return "TLS handshake failed: "
           + (verified != X509_V_OK
                ? std::string("certificate: ")
                    + X509_verify_cert_error_string(verified)
                : why_);
  }
  /// What read_some returns when the peer sent nothing within the timeout.
  static constexpr long timed_out = -2;

  /// Up to `n` bytes; timed_out, or 0 or less when the stream ended.
  long read_some(void* data, size_t n) {
    if (!ssl_) {
      auto got = ::recv(fd(), data, n, 0);
      return got < 0 && (errno == EAGAIN || errno == EWOULDBLOCK) ? timed_out
                                                                  : got;
    }
    auto* p = static_cast<uint8_t*>(data);
    long got = tls_call([&](SSL* s) { return SSL_read(s, p, int(n)); });
    // One record at most came: take the others OpenSSL already holds too,
    // so they pass on in one write.
    std::lock_guard<std::mutex> guard{mtx_};
    while (got > 0 && size_t(got) < n && SSL_has_pending(ssl_)) {
      int more = SSL_read(ssl_, p + got, int(n - size_t(got)));
      if (more <= 0) {
        ERR_clear_error(); // the next read sees it again
        break;
      }
      got += more;
    }
    return got;
  }
  bool read_all(void* data, size_t n) {
    auto* p = static_cast<uint8_t*>(data);
    while (n > 0) {
      auto got = read_some(p, n);
      if (got <= 0)
        return false;
      p += got;
      n -= size_t(got);
    }
    return true;
  }
  bool write_all(const void* data, size_t n) {
    auto* p = static_cast<const uint8_t*>(data);
    while (n > 0) {
      long sent = ssl_ ? tls_call([&](SSL* s) {
        return SSL_write(s, p, int(std::min<size_t>(n, 1 << 30)));
      })
                       : ::send(fd(), p, n, MSG_NOSIGNAL);
      if (sent <= 0)
        return false;
      p += sent;
      n -= size_t(sent);
    }
    return true;
  }

private:
  /// `call` on the SSL object until it succeeds (its result) or fails (0
  /// or less; timed_out), waiting for the socket as OpenSSL asks.
  template <class Call>
  int tls_call(Call call) {
    for (;;) {
      short want = 0;
      {
        std::lock_guard<std::mutex> guard{mtx_};
        ERR_clear_error();
        int r = call(ssl_);
        if (r > 0)
          return r;
        int e = SSL_get_error(ssl_, r);
        if (e == SSL_ERROR_WANT_READ)
          want = POLLIN;
        else if (e == SSL_ERROR_WANT_WRITE)
          want = POLLOUT;
        else {
          why_ = e == SSL_ERROR_SSL ? openssl_error()
                 : e == SSL_ERROR_ZERO_RETURN
                   ? "the peer closed the connection"
                   : std::string("the connection ended");
          return -1;
        }
      }
      pollfd p{fd(), want, 0};
      int n = ::poll(&p, 1, timeout_ms_);
      if (n == 0) {
        why_ = "timed out";
        return int(timed_out);
      }
      if (n < 0 && errno != EINTR)
        return -1;
    }
  }

  socket_fd socket_;
  SSL* ssl_ = nullptr;
  std::mutex mtx_;
  int timeout_ms_ = -1;
  std::string why_;
};

void no_delay(int fd) {
  int one = 1;
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
}

} // namespace

bool is_loopback(const std::string& host) {
  return host == "localhost" || host == "::1" || host.rfind("127.", 0) == 0;
}

std::pair<std::string, std::string> split_address(const std::string& address) {
  auto colon = address.rfind(':');
  if (colon == std::string::npos)
    throw InvalidArgument("'" + address + "' is not HOST:PORT");
  auto host = address.substr(0, colon);
  if (host.size() > 1 && host.front() == '[' && host.back() == ']')
    host = host.substr(1, host.size() - 2);
  return {host, address.substr(colon + 1)};
}

namespace {

socket_fd connect_to(const std::string& host, const std::string& port) {
  addrinfo hints{};
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* found = nullptr;
  if (int rc = ::getaddrinfo(host.c_str(), port.c_str(), &hints, &found))
    throw DeviceIO("cannot resolve " + host + ": " + ::gai_strerror(rc));
  std::unique_ptr<addrinfo, decltype(&::freeaddrinfo)> owned{found,
                                                             ::freeaddrinfo};
  std::string why = "no address";
  for (auto* a = found; a; a = a->ai_next) {
    socket_fd s{::socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC, 0)};
    if (s.get() < 0)
      continue;
    if (::connect(s.get(), a->ai_addr, a->ai_addrlen) == 0) {
      no_delay(s.get());
      return s;
    }
    why = std::strerror(errno);
  }
  throw DeviceIO("cannot connect to " + host + ":" + port + ": " + why);
}

/// Listens on `host`:`port`; returns the socket and the port it got.
std::pair<socket_fd, uint16_t> listen_on(const std::string& host,
                                         uint16_t port) {
  addrinfo hints{};
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
  addrinfo* found = nullptr;
  auto service = std::to_string(port);
  if (int rc = ::getaddrinfo(host.c_str(), service.c_str(), &hints, &found))
    throw DeviceIO("cannot listen on " + host + ": " + ::gai_strerror(rc));
  std::unique_ptr<addrinfo, decltype(&::freeaddrinfo)> owned{found,
                                                             ::freeaddrinfo};
  socket_fd s{::socket(found->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0)};
  int one = 1;
  ::setsockopt(s.get(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  if (s.get() < 0 || ::bind(s.get(), found->ai_addr, found->ai_addrlen) != 0
      || ::listen(s.get(), 128) != 0)
    throw DeviceIO("cannot listen on " + host + ":" + service + ": "
                   + std::strerror(errno));
  sockaddr_storage bound{};
  socklen_t len = sizeof bound;
  ::getsockname(s.get(), reinterpret_cast<sockaddr*>(&bound), &len);
  uint16_t got = bound.ss_family == AF_INET6
                   ? ntohs(reinterpret_cast<sockaddr_in6*>(&bound)->sin6_port)
                   : ntohs(reinterpret_cast<sockaddr_in*>(&bound)->sin_port);
  return {std::move(s), got};
}

std::string peer_address(const sockaddr_storage& peer) {
  char text[INET6_ADDRSTRLEN] = "?";
  if (peer.ss_family == AF_INET6)
    ::inet_ntop(AF_INET6,
                &reinterpret_cast<const sockaddr_in6&>(peer).sin6_addr, text,
                sizeof text);
  else
    ::inet_ntop(AF_INET, &reinterpret_cast<const sockaddr_in&>(peer).sin_addr,
                text, sizeof text);
  return text;
}

/// The rules one side's BASP frames follow: the handshake of its role
/// first (with a payload: CAF dereferences it), then messages of a known
/// kind whose payload fits the bound, and no payload naming CAF's
/// built-in byte buffer (`@charbuf`): CAF 0.17 sizes a std::vector<char> to
/// its claimed length before reading it, so a message of a few bytes could
/// claim 4 GiB. ActorRT sends none (its byte fields check their claims);
/// data that happens to hold those 8 bytes costs its sender the link.
class basp_rules {
public:
  basp_rules(uint8_t handshake, uint32_t max_payload)
    : handshake_(handshake), max_payload_(max_payload) {}

  /// The payload length of the frame `header` starts, or why it may not
  /// pass.
  std::string check(const uint8_t* header, uint32_t& payload) {
    uint8_t op = header[0];
    std::memcpy(&payload, header + 4, 4);
    payload = ntohl(payload);
    tail_.clear();
    bool first = std::exchange(first_, false);
    if (first && op != handshake_)
      return "its first BASP frame is not its handshake";
    if (op == handshake_) {
      if (payload == 0 || payload > max_handshake_payload)
        return "a BASP handshake of " + std::to_string(payload) + " bytes";
      return "";
    }
    if (op <= client_handshake || op > heartbeat)
      return "a BASP frame of kind " + std::to_string(int(op))
             + " (not one it may send)";
    if (op == heartbeat ? payload != 0 : payload == 0)
      return "a BASP frame of kind " + std::to_string(int(op))
             + (op == heartbeat ? " with" : " without") + " a payload";
    if (payload > max_payload_)
      return "a BASP payload of " + std::to_string(payload)
             + " bytes (the bound is " + std::to_string(max_payload_) + ")";
    return "";
  }

  /// The next `n` bytes of the current frame's payload: "" or why they may
  /// not pass (the name may straddle two calls).
  std::string scan(const uint8_t* data, size_t n) {
    const char* bytes = reinterpret_cast<const char*>(data);
    constexpr size_t keep = sizeof forbidden - 2; // all but one byte
    auto joined = tail_ + std::string(bytes, std::min(n, keep));
    if (joined.find(forbidden) != std::string::npos
        || ::memmem(data, n, forbidden, sizeof forbidden - 1) != nullptr)
      return "a message naming CAF's @charbuf (a byte buffer CAF would "
             "allocate at its claimed size)";
    // The payload's last bytes, for a name that goes on in the next.
    tail_ = n >= keep
              ? std::string(bytes + n - keep, keep)
              : joined.substr(joined.size() - std::min(joined.size(), keep));
    return "";
  }

private:
  static constexpr char forbidden[] = "@charbuf";
  uint8_t handshake_;
  uint32_t max_payload_;
  bool first_ = true;
  std::string tail_; // of the current payload, at most `keep` bytes
};

/// What the frames of a gate's peers share: the bytes they may claim at
/// once, and how long a peer may send nothing in the middle of a frame that
/// holds a claim (`from`'s timeout).
struct frame_claims {
  claim_budget& budget;
  std::chrono::milliseconds stall;
};

/// A frame's claim on the budget, held until its payload has passed whole
/// (or the connection ends).
class held_claim {
public:
  explicit held_claim(claim_budget& budget) : budget_(budget) {}
  ~held_claim() {
    release();
  }
  held_claim(const held_claim&) = delete;
  held_claim& operator=(const held_claim&) = delete;

  bool take(uint64_t n) {
    bytes_ = budget_.take(n) ? n : 0;
    return bytes_ == n;
  }
  void release() {
    if (bytes_ > 0)
      budget_.give(bytes_);
    bytes_ = 0;
  }
  uint64_t bytes() const {
    return bytes_;
  }

private:
  claim_budget& budget_;
  uint64_t bytes_ = 0;
};

/// Whether the other end of `s` has shut its side (what it sent before may
/// still wait to be read).
bool peer_shut(const stream& s) {
  pollfd p{s.fd(), POLLRDHUP, 0};
  return ::poll(&p, 1, 0) == 1 && (p.revents & (POLLRDHUP | POLLHUP | POLLERR));
}

/// Moves `from` to `to` until either ends; with `rules`, checks each
/// frame's header before any of the frame passes, and stops (returning
/// why) at the first that breaks them. A frame whose payload is not all in
/// yet passes its header only with a claim on `claims` for that payload
/// (waiting for it), and its peer must go on sending until it is whole.
/// Frames pass in batches: one read and one write for all that arrived.
std::string pump(stream& from, stream& to, basp_rules* rules,
                 const frame_claims* claims = nullptr) {
  constexpr size_t capacity = 256 * 1024;
  std::vector<uint8_t> buffer(capacity);
  if (!rules) {
    for (;;) {
      auto got = from.read_some(buffer.data(), capacity);
      if (got <= 0 || !to.write_all(buffer.data(), size_t(got)))
        return "";
    }
  }
  size_t have = 0;   // bytes in the buffer
  uint64_t rest = 0; // of the current frame's payload, not yet in the buffer
  std::optional<held_claim> claim;
  if (claims)
    claim.emplace(claims->budget);
  size_t pos = 0; // what may pass: whole headers checked, payload bytes
  // Writes what may pass and keeps the rest at the buffer's start.
  auto pass = [&] {
    if (!to.write_all(buffer.data(), pos))
      return false;
    std::memmove(buffer.data(), buffer.data() + pos, have - pos);
    have -= pos;
    pos = 0;
    return true;
  };
  for (;;) {
    auto got = from.read_some(buffer.data() + have, capacity - have);
    if (got == stream::timed_out) {
      if (!claim || claim->bytes() == 0)
        continue; // a quiet peer between frames holds nothing
      return "sent nothing for " + std::to_string(claims->stall.count())
             + " ms in the middle of a frame of "
             + std::to_string(claim->bytes()) + " bytes";
    }
    if (got <= 0)
      return "";
    have += size_t(got);
    for (;;) {
      if (rest > 0) {
        auto take = std::min<uint64_t>(rest, have - pos);
        if (auto why = rules->scan(buffer.data() + pos, size_t(take));
            !why.empty()) {
          to.write_all(buffer.data(), pos); // the frame stays incomplete
          return why;
        }
        pos += size_t(take);
        rest -= take;
        if (rest > 0)
          break;
        if (claim && claim->bytes() > 0) {
          // Whole now: CAF reads it at once, so its claim ends here.
          if (!pass())
            return "";
          claim->release();
        }
      }
      if (have - pos < basp_header_bytes)
        break;
      uint32_t payload = 0;
      auto why = rules->check(buffer.data() + pos, payload);
      if (!why.empty()) {
        to.write_all(buffer.data(), pos); // what came before it is good
        return why;
      }
      if (claim && payload > have - pos - basp_header_bytes) {
        // CAF would hold the whole payload while the rest comes: what came
        // before passes now, then the header waits for its claim.
        if (!pass())
          return "";
        if (!claim->take(payload))
          return ""; // the gate ends
        // A peer that left while its frame waited would still make CAF
        // hold the frame's size, for a connection about to close.
        if (peer_shut(from))
          return "closed its connection while a frame of "
                 + std::to_string(payload) + " bytes waited for the budget";
      }
      pos += basp_header_bytes;
      rest = payload;
    }
    if (!pass())
      return "";
  }
}

/// Threads of a gate: counted, so a gate ends only after all of them.
struct thread_count {
  std::mutex mtx;
  std::condition_variable idle;
  int running = 0;
  std::set<int> open; // sockets to shut when the gate ends
  bool stopping = false;

  bool enter() {
    std::lock_guard<std::mutex> guard{mtx};
    if (stopping)
      return false;
    ++running;
    return true;
  }
  void leave() {
    std::lock_guard<std::mutex> guard{mtx};
    --running;
    idle.notify_all();
  }
  void track(int fd, bool on) {
    std::lock_guard<std::mutex> guard{mtx};
    if (!on)
      open.erase(fd);
    else if (stopping) // too late: the gate is ending
      ::shutdown(fd, SHUT_RDWR);
    else
      open.insert(fd);
  }
  void stop() {
    std::unique_lock<std::mutex> lock{mtx};
    stopping = true;
    for (int fd : open)
      ::shutdown(fd, SHUT_RDWR);
    idle.wait(lock, [this] { return running == 0; });
  }
};

/// Runs `fn` on a thread of `threads`, if the gate is not ending.
/// OpenSSL writes with write(2), which raises SIGPIPE when the peer has
/// gone: a gate's threads hold it blocked, so the write fails with EPIPE
/// instead of ending the process (the signal stays pending on the thread
/// and goes with it). Plain sockets use MSG_NOSIGNAL.
void block_sigpipe() {
  sigset_t pipe;
  sigemptyset(&pipe);
  sigaddset(&pipe, SIGPIPE);
  pthread_sigmask(SIG_BLOCK, &pipe, nullptr);
}

template <class F>
void spawn(thread_count& threads, F fn) {
  if (!threads.enter())
    return;
  std::thread([&threads, fn = std::move(fn)]() mutable {
    block_sigpipe();
    try {
      fn();
    } catch (...) {
      // a connection's failure ends that connection only
    }
    threads.leave();
  }).detach();
}

/// Both directions between `peer` and `local` (CAF's side) until either
/// ends; the peer's frames follow `rules`. Returns why the peer was
/// dropped, or "".
std::string relay(thread_count& threads, stream& peer, stream& local,
                  basp_rules rules, const frame_claims& claims) {
  threads.track(peer.fd(), true);
  threads.track(local.fd(), true);
  std::string why;
  std::thread back([&] {
    block_sigpipe();
    pump(local, peer, nullptr);
    peer.shut();
    local.shut();
  });
  why = pump(peer, local, &rules, &claims);
  peer.shut();
  local.shut();
  back.join();
  threads.track(peer.fd(), false);
  threads.track(local.fd(), false);
  return why;
}

/// A listening socket, the threads serving what it accepts, and the end of
/// both when its gate ends.
struct listening {
  socket_fd socket;
  uint16_t port = 0;
  thread_count threads;

  /// Listens on `host`:`p` and hands each peer `admit` lets in (it decides
  /// at once; the others are closed) to `serve` on a thread of its own.
  template <class Admit, class Serve>
  void open(const std::string& host, uint16_t p, Admit admit, Serve serve) {
    std::tie(socket, port) = listen_on(host, p);
    spawn(threads, [this, admit, serve] {
      for (;;) {
        sockaddr_storage addr{};
        socklen_t len = sizeof addr;
        socket_fd peer{::accept4(socket.get(),
                                 reinterpret_cast<sockaddr*>(&addr), &len,
                                 SOCK_CLOEXEC)};
        if (peer.get() < 0) {
          if (errno == EINTR || errno == ECONNABORTED)
            continue;
          if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS
              || errno == ENOMEM) { // out of descriptors: let some end
            std::this_thread::sleep_for(std::chrono::milliseconds(50));
            continue;
          }
          return; // the socket was shut: the gate ends
        }
        auto who = peer_address(addr);
        if (!admit(who))
          continue;
        spawn(threads, [serve, who,
                        held = std::make_shared<socket_fd>(std::move(peer))] {
          serve(std::move(*held), who);
        });
      }
    });
  }

  void close() {
    socket.shut();
    threads.stop();
  }
};

} // namespace

// -- node_token --------------------------------------------------------------

node_token node_token::from_file(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0)
    throw InvalidArgument("cannot read the token file '" + path + "'");
  if (st.st_mode & (S_IRWXG | S_IRWXO))
    throw InvalidArgument("the token file '" + path
                          + "' is open to other users: chmod 600 it");
  std::ifstream in(path);
  std::string line;
  std::getline(in, line);
  while (!line.empty() && (line.back() == '\r' || line.back() == ' '))
    line.pop_back();
  if (line.size() < 16)
    throw InvalidArgument("the token in '" + path
                          + "' is shorter than 16 characters");
  return node_token{line};
}

node_token node_token::from_environment() {
  if (const char* file = std::getenv("ACTORRT_NODE_TOKEN_FILE"); file && *file)
    return from_file(file);
  if (const char* secret = std::getenv("ACTORRT_NODE_TOKEN");
      secret && *secret) {
    if (std::strlen(secret) < 16)
      throw InvalidArgument("ACTORRT_NODE_TOKEN is shorter than 16 characters");
    return node_token{secret};
  }
  return {};
}

// -- tls_files ---------------------------------------------------------------

void tls_files::check() const {
  bool any = !certificate.empty() || !key.empty() || !ca.empty();
  if (any && (certificate.empty() || key.empty() || ca.empty()))
    throw InvalidArgument("TLS needs a certificate, its key and a CA file, "
                          "all three");
  for (auto* path : {&certificate, &key, &ca})
    if (!path->empty() && !std::ifstream(*path))
      throw InvalidArgument("cannot read TLS file '" + *path + "'");
}

tls_files tls_files::from_environment() {
  auto get = [](const char* name) {
    const char* v = std::getenv(name);
    return std::string(v ? v : "");
  };
  tls_files t{get("ACTORRT_TLS_CERT"), get("ACTORRT_TLS_KEY"),
              get("ACTORRT_TLS_CA")};
  t.check();
  return t;
}

// -- gate_limits -------------------------------------------------------------

void gate_limits::check() const {
  if (max_claimed_bytes < max_frame_bytes)
    throw InvalidArgument(
      "the budget for messages in transit (" + std::to_string(max_claimed_bytes)
      + " bytes, --message-budget-mib) is below the largest message ("
      + std::to_string(max_frame_bytes)
      + " bytes, --max-message-mib): a message of the largest size could "
        "never pass");
}

std::unique_ptr<claim_budget> gate_limits::make_budget() const {
  check();
  return std::make_unique<claim_budget>(max_claimed_bytes);
}

// -- node_gate ---------------------------------------------------------------

struct node_gate::state {
  node_token token;
  tls_context tls;
  gate_limits limits;
  std::unique_ptr<claim_budget> budget;
  uint16_t caf_port = 0;
  listening net;
  std::atomic<int> pending{0};
  std::mutex mtx; // guards what follows
  std::map<std::string, std::deque<clock_type::time_point>> failures;
  std::map<std::string, clock_type::time_point> banned_until;
  clock_type::time_point log_second{};
  int logged = 0, unlogged = 0;

  /// Drops what no longer counts, so many addresses cannot grow the books
  /// without bound (swept when they get large).
  void forget_old(clock_type::time_point now) {
    if (failures.size() + banned_until.size() < 1024)
      return;
    for (auto it = failures.begin(); it != failures.end();)
      it = now - it->second.back() > limits.failure_window ? failures.erase(it)
                                                           : std::next(it);
    for (auto it = banned_until.begin(); it != banned_until.end();)
      it = now >= it->second ? banned_until.erase(it) : std::next(it);
  }

  /// Whether `who` may try now (not banned).
  bool admitted(const std::string& who) {
    std::lock_guard<std::mutex> guard{mtx};
    auto ban = banned_until.find(who);
    if (ban == banned_until.end())
      return true;
    if (clock_type::now() < ban->second)
      return false;
    banned_until.erase(ban);
    return true;
  }

  void failed(const std::string& who, const std::string& why) {
    std::lock_guard<std::mutex> guard{mtx};
    auto now = clock_type::now();
    forget_old(now);
    auto& times = failures[who];
    times.push_back(now);
    while (!times.empty() && now - times.front() > limits.failure_window)
      times.pop_front();
    // The log itself is bounded: 20 lines a second, then a count.
    if (now - log_second >= std::chrono::seconds(1)) {
      if (unlogged > 0)
        std::fprintf(stderr, "actorrt-node: %d more refusals not shown\n",
                     unlogged);
      log_second = now;
      logged = unlogged = 0;
    }
    bool log = ++logged <= 20;
    unlogged += log ? 0 : 1;
    if (log)
      std::fprintf(stderr, "actorrt-node: refused %s: %s (%zu in %lld s)\n",
                   who.c_str(), why.c_str(), times.size(),
                   (long long) limits.failure_window.count());
    if (int(times.size()) >= limits.max_failures) {
      banned_until[who] = now + limits.ban;
      failures.erase(who);
      std::fprintf(stderr,
                   "actorrt-node: %s refused for %lld s after %d failed "
                   "attempts\n",
                   who.c_str(), (long long) limits.ban.count(),
                   limits.max_failures);
    }
  }

  /// One peer: TLS's handshake (with TLS), the gate's, then the relay to
  /// CAF.
  void serve(socket_fd socket, const std::string& who) {
    struct handshaking { // counted in `pending` until the verdict
      std::atomic<int>& n;
      bool counted = true;
      void done() {
        if (std::exchange(counted, false))
          --n;
      }
      ~handshaking() {
        done();
      }
    } pending_guard{pending};
    stream peer{std::move(socket)};
    peer.set_timeout(limits.handshake_timeout);
    if (auto why = peer.start_tls(tls, true); !why.empty()) {
      pending_guard.done();
      return failed(who, why);
    }
    auto node_nonce = random_nonce();
    uint8_t challenge[challenge_bytes];
    std::memcpy(challenge, magic, 8);
    challenge[8] = token ? 1 : 0;
    std::memcpy(challenge + 9, node_nonce.data(), 32);
    uint8_t answer[answer_bytes];
    if (!peer.write_all(challenge, sizeof challenge)
        || !peer.read_all(answer, sizeof answer)) {
      pending_guard.done();
      return failed(who, "no complete gate handshake within "
                           + std::to_string(limits.handshake_timeout.count())
                           + " ms");
    }
    bytes32 client_nonce;
    std::memcpy(client_nonce.data(), answer + 8, 32);
    auto expected = mac(token, "client", node_nonce, client_nonce);
    bool good = std::memcmp(answer, magic, 8) == 0
                && same(answer + 40, expected.data(), 32);
    uint8_t verdict[verdict_bytes] = {uint8_t(good ? 1 : 0)};
    if (good) {
      auto proof = mac(token, "node", node_nonce, client_nonce);
      std::memcpy(verdict + 1, proof.data(), 32);
    }
    peer.write_all(verdict, sizeof verdict);
    pending_guard.done();
    if (!good)
      return failed(who, std::memcmp(answer, magic, 8) == 0
                           ? "wrong token"
                           : "not an ActorRT client");
    peer.set_timeout(limits.stall_timeout);
    no_delay(peer.fd());
    stream local{connect_to("127.0.0.1", std::to_string(caf_port))};
    auto why = relay(net.threads, peer, local,
                     basp_rules{client_handshake, limits.max_frame_bytes},
                     {*budget, limits.stall_timeout});
    if (!why.empty())
      failed(who, why);
  }
};

node_gate::node_gate(const std::string& bind, uint16_t port, uint16_t caf_port,
                     node_token token, const tls_files& tls, gate_limits limits)
  : state_(std::make_shared<state>()) {
  auto& s = *state_;
  s.token = std::move(token);
  s.tls = make_tls_context(tls, true);
  s.limits = limits;
  s.budget = limits.make_budget();
  s.caf_port = caf_port;
  auto* st = state_.get();
  s.net.open(
    bind, port,
    [st](const std::string& who) {
      if (!st->admitted(who) || st->pending >= st->limits.max_pending)
        return false;
      ++st->pending;
      return true;
    },
    [st](socket_fd peer, const std::string& who) {
      st->serve(std::move(peer), who);
    });
}

node_gate::~node_gate() {
  state_->budget->close(); // frames waiting for a claim end too
  state_->net.close();
}

uint16_t node_gate::port() const {
  return state_->net.port;
}

const claim_budget& node_gate::budget() const {
  return *state_->budget;
}

namespace {

/// The gate's handshake on `node`, the client's side: "" or why it failed.
std::string prove_to_node(stream& node, const node_token& token,
                          const std::string& address) {
  uint8_t challenge[challenge_bytes];
  if (!node.read_all(challenge, sizeof challenge)
      || std::memcmp(challenge, magic, 8) != 0)
    return "node " + address
           + " did not open with ActorRT's gate handshake (a node "
             "that needs TLS, another program, or an older "
             "actorrt-node)";
  bool required = challenge[8] != 0;
  if (required && !token)
    return "node " + address
           + " requires a token: set "
             "ACTORRT_NODE_TOKEN_FILE (or ACTORRT_NODE_TOKEN)";
  if (!required && token)
    return "node " + address
           + " does not authenticate its clients "
             "(it has no token): unset ACTORRT_NODE_TOKEN_FILE and "
             "ACTORRT_NODE_TOKEN to use it anyway";
  bytes32 node_nonce, client_nonce = random_nonce();
  std::memcpy(node_nonce.data(), challenge + 9, 32);
  uint8_t answer[answer_bytes];
  std::memcpy(answer, magic, 8);
  std::memcpy(answer + 8, client_nonce.data(), 32);
  auto proof = mac(token, "client", node_nonce, client_nonce);
  std::memcpy(answer + 40, proof.data(), 32);
  uint8_t verdict[verdict_bytes];
  if (!node.write_all(answer, sizeof answer)
      || !node.read_all(verdict, sizeof verdict))
    return "node " + address + " closed the gate handshake";
  if (verdict[0] != 1)
    return "node " + address + " refused this client's token";
  auto expected = mac(token, "node", node_nonce, client_nonce);
  if (!same(verdict + 1, expected.data(), 32))
    return "node " + address
           + " does not know the token: it is not "
             "the node this client was configured for";
  return "";
}

/// The node's BASP frames, checked as their bytes arrive (the rules the
/// client_gate's relay applies), for a connection CAF reads itself.
struct frame_scanner {
  frame_scanner(uint32_t max_payload, std::string address)
    : rules(server_handshake, max_payload), address(std::move(address)) {}

  /// False, and says why once, at the first byte that breaks the rules.
  bool feed(const uint8_t* p, size_t n) {
    if (!why.empty())
      return false;
    while (n > 0) {
      if (rest > 0) {
        auto take = size_t(std::min<uint64_t>(rest, n));
        why = rules.scan(p, take);
        if (!why.empty())
          break;
        p += take;
        n -= take;
        rest -= take;
        continue;
      }
      auto take = std::min(basp_header_bytes - have, n);
      std::memcpy(header + have, p, take);
      have += take;
      p += take;
      n -= take;
      if (have < basp_header_bytes)
        continue;
      have = 0;
      uint32_t payload = 0;
      why = rules.check(header, payload);
      if (!why.empty())
        break;
      rest = payload;
    }
    if (why.empty())
      return true;
    std::fprintf(stderr, "actorrt: dropped node %s: %s\n", address.c_str(),
                 why.c_str());
    return false;
  }

  basp_rules rules;
  std::string address;
  uint8_t header[basp_header_bytes];
  size_t have = 0;   // of the current header
  uint64_t rest = 0; // of the current payload
  std::string why;
};

/// CAF's TCP policy, with the node's bytes checked before CAF sees them.
struct checked_tcp {
  frame_scanner scanner;

  caf::io::network::rw_state read_some(size_t& result,
                                       caf::io::network::native_socket fd,
                                       void* buf, size_t len) {
    auto r = caf::policy::tcp::read_some(result, fd, buf, len);
    if (r == caf::io::network::rw_state::success && result > 0
        && !scanner.feed(static_cast<uint8_t*>(buf), result))
      return caf::io::network::rw_state::failure;
    return r;
  }
  static caf::io::network::rw_state
  write_some(size_t& result, caf::io::network::native_socket fd,
             const void* buf, size_t len) {
    return caf::policy::tcp::write_some(result, fd, buf, len);
  }
  static bool try_accept(caf::io::network::native_socket& result,
                         caf::io::network::native_socket fd) {
    return caf::policy::tcp::try_accept(result, fd);
  }
  static constexpr bool must_read_more(caf::io::network::native_socket,
                                       size_t) {
    return false;
  }
};

/// CAF's scribe_impl, over checked_tcp.
class checked_scribe : public caf::io::scribe {
public:
  checked_scribe(caf::io::network::default_multiplexer& mx, int fd,
                 checked_tcp policy)
    : caf::io::scribe(caf::io::network::conn_hdl_from_socket(fd)),
      stream_(mx, fd, std::move(policy)) {}

  void configure_read(caf::io::receive_policy::config config) override {
    stream_.configure_read(config);
    if (!launched_)
      launch();
  }
  void ack_writes(bool enable) override {
    stream_.ack_writes(enable);
  }
  std::vector<char>& wr_buf() override {
    return stream_.wr_buf();
  }
  std::vector<char>& rd_buf() override {
    return stream_.rd_buf();
  }
  void graceful_shutdown() override {
    stream_.graceful_shutdown();
    detach(&stream_.backend(), false);
  }
  void flush() override {
    stream_.flush(this);
  }
  std::string addr() const override {
    auto x = caf::io::network::remote_addr_of_fd(stream_.fd());
    return x ? *x : std::string{};
  }
  uint16_t port() const override {
    auto x = caf::io::network::remote_port_of_fd(stream_.fd());
    return x ? *x : 0;
  }
  void add_to_loop() override {
    stream_.activate(this);
  }
  void remove_from_loop() override {
    stream_.passivate();
  }

private:
  void launch() {
    launched_ = true;
    stream_.start(this);
  }

  bool launched_ = false;
  caf::io::network::stream_impl<checked_tcp> stream_;
};

} // namespace

caf::io::scribe_ptr
checked_node_scribe(caf::io::network::default_multiplexer& mx,
                    const std::string& address, const node_token& token,
                    gate_limits limits) {
  auto [host, service] = split_address(address);
  stream node{connect_to(host, service)};
  node.set_timeout(limits.handshake_timeout);
  if (auto why = prove_to_node(node, token, address); !why.empty())
    throw DeviceIO(why); // CAF makes the socket non-blocking: no timeout left
  checked_tcp policy{frame_scanner{limits.max_frame_bytes, address}};
  return caf::make_counted<checked_scribe>(mx, node.release(),
                                           std::move(policy));
}

// -- client_gate -------------------------------------------------------------

struct client_gate::state {
  std::string host, service, address;
  node_token token;
  tls_context tls;
  gate_limits limits;
  std::unique_ptr<claim_budget> budget;
  listening net;
  mutable std::mutex mtx;
  std::string last_error;

  void fail(const std::string& why) {
    std::lock_guard<std::mutex> guard{mtx};
    last_error = why;
  }

  /// CAF's connection `local`: through the node's gate, then relayed.
  void serve(stream& local) {
    stream node{connect_to(host, service)};
    node.set_timeout(limits.handshake_timeout);
    if (auto why = node.start_tls(tls, false); !why.empty())
      return fail("node " + address + ": " + why
                  + " (a node without TLS, or a certificate the other "
                    "side's CA did not sign: see ACTORRT_TLS_CERT, "
                    "ACTORRT_TLS_KEY, ACTORRT_TLS_CA)");
    if (auto why = prove_to_node(node, token, address); !why.empty())
      return fail(why);
    node.set_timeout(limits.stall_timeout);
    fail("");
    // CAF gave this connection up while the node kept it waiting (see
    // join_node): its handshake must not reach the node's CAF, which would
    // route replies to this client over a connection nobody reads.
    if (peer_shut(local))
      return;
    auto why = relay(net.threads, node, local,
                     basp_rules{server_handshake, limits.max_frame_bytes},
                     {*budget, limits.stall_timeout});
    if (!why.empty())
      fail("dropped node " + address + ": " + why);
  }
};

client_gate::client_gate(const std::string& address, node_token token,
                         const tls_files& tls, gate_limits limits)
  : state_(std::make_shared<state>()) {
  auto& s = *state_;
  std::tie(s.host, s.service) = split_address(address);
  s.address = address;
  s.token = std::move(token);
  s.tls = make_tls_context(tls, false);
  s.limits = limits;
  s.budget = limits.make_budget();
  auto* st = state_.get();
  s.net.open(
    "127.0.0.1", 0, [](const std::string&) { return true; },
    [st](socket_fd socket, const std::string&) {
      no_delay(socket.get());
      stream local{std::move(socket)};
      try {
        st->serve(local);
      } catch (const std::exception& e) {
        st->fail(e.what());
      }
    });
}

client_gate::~client_gate() {
  state_->budget->close();
  state_->net.close();
}

uint16_t client_gate::port() const {
  return state_->net.port;
}

std::string client_gate::last_error() const {
  std::lock_guard<std::mutex> guard{state_->mtx};
  return state_->last_error;
}

} // namespace actorrt
