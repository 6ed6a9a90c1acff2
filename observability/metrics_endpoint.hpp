// An HTTP endpoint that serves GET /metrics (Prometheus text) from a
// thread of its own, with Boost.Beast.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

namespace actorrt {

class metrics_endpoint {
public:
  /// Listens on `address` ("HOST:PORT"; port 0 picks one). `body` makes
  /// each response's text; it runs on the endpoint's thread. Throws
  /// InvalidArgument for a malformed address, DeviceIO when it can't bind.
  metrics_endpoint(const std::string& address,
                   std::function<std::string()> body);
  ~metrics_endpoint(); // stops listening; open connections are closed

  metrics_endpoint(const metrics_endpoint&) = delete;
  metrics_endpoint& operator=(const metrics_endpoint&) = delete;

  uint16_t port() const;
  /// "IP:PORT" it listens on.
  std::string address() const;

private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

/// The endpoint ACTORRT_METRICS asks for ("HOST:PORT", or just "PORT" for
/// 127.0.0.1), or none when it is unset. Prints where it listens to stderr.
std::unique_ptr<metrics_endpoint>
metrics_endpoint_from_environment(std::function<std::string()> body);

} // namespace actorrt
