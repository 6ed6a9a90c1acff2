#include "actors/local_service.hpp"

#include <cerrno>
#include <cstdlib>

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core/errors.hpp"
#include "core/parse.hpp"

namespace actorrt {

namespace {

/// Whether something accepts connections on 127.0.0.1:`port` (within
/// 200 ms; a refused connect answers at once).
bool listening(uint16_t port) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0)
    return false;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bool up = ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
  if (!up && errno == EINPROGRESS) {
    pollfd p{fd, POLLOUT, 0};
    int err = 0;
    socklen_t len = sizeof err;
    up = ::poll(&p, 1, 200) == 1
         && ::getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) == 0 && err == 0;
  }
  ::close(fd);
  return up;
}

} // namespace

uint16_t service_port() {
  const char* env = std::getenv("ACTORRT_SERVICE_PORT");
  if (!env)
    return 7749;
  auto port = parse_integer(env, 1, 65535);
  if (!port)
    throw InvalidArgument(std::string("ACTORRT_SERVICE_PORT '") + env
                          + "' is not a port (1..65535)");
  return static_cast<uint16_t>(*port);
}

std::string service_address() {
  return "127.0.0.1:" + std::to_string(service_port());
}

std::string service_mode() {
  const char* env = std::getenv("ACTORRT_SERVICE");
  std::string mode = env ? env : "auto";
  if (mode != "auto" && mode != "on" && mode != "off")
    throw InvalidArgument("ACTORRT_SERVICE is '" + mode
                          + "': use auto, on or off");
  return mode;
}

std::optional<std::string> chosen_service() {
  auto mode = service_mode();
  if (mode == "off")
    return std::nullopt;
  if (mode == "on")
    return service_address();
  // auto: a process told which devices or nodes to use uses those.
  if (std::getenv("ACTORRT_DEVICES") || std::getenv("ACTORRT_NODES")
      || !listening(service_port()))
    return std::nullopt;
  return service_address();
}

} // namespace actorrt
