#include "observability/metrics_endpoint.hpp"

#include <cstdio>
#include <cstdlib>
#include <thread>

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include "core/errors.hpp"

namespace actorrt {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

namespace {

/// One connection: reads requests and answers them until the client
/// closes, idles for 10 s, or sends something that is not HTTP.
class session : public std::enable_shared_from_this<session> {
public:
  session(tcp::socket socket, const std::function<std::string()>& body)
    : stream_(std::move(socket)), body_(body) {}

  void read() {
    request_ = {};
    stream_.expires_after(std::chrono::seconds(10));
    http::async_read(stream_, buffer_, request_,
                     [self = shared_from_this()](beast::error_code ec, size_t) {
                       if (!ec)
                         self->answer();
                     });
  }

private:
  void answer() {
    auto& res = response_;
    res = {};
    res.version(request_.version());
    res.keep_alive(request_.keep_alive());
    res.set(http::field::server, "actorrt");
    auto target = request_.target();
    if (request_.method() != http::verb::get
        && request_.method() != http::verb::head) {
      res.result(http::status::method_not_allowed);
      res.body() = "GET /metrics\n";
    } else if (target == "/metrics" || target.starts_with("/metrics?")) {
      res.result(http::status::ok);
      res.set(http::field::content_type, "text/plain; version=0.0.4");
      try {
        res.body() = body_();
      } catch (const std::exception& e) {
        res.result(http::status::internal_server_error);
        res.body() = std::string(e.what()) + "\n";
      }
    } else {
      res.result(http::status::not_found);
      res.body() = "ActorRT serves its metrics at /metrics\n";
    }
    res.prepare_payload();
    http::async_write(
      stream_, res, [self = shared_from_this()](beast::error_code ec, size_t) {
        if (!ec && self->response_.keep_alive())
          self->read();
      });
  }

  beast::tcp_stream stream_;
  beast::flat_buffer buffer_;
  http::request<http::string_body> request_;
  http::response<http::string_body> response_;
  const std::function<std::string()>& body_;
};

} // namespace

struct metrics_endpoint::impl {
  std::function<std::string()> body;
  asio::io_context io{1};
  tcp::acceptor acceptor{io};
  std::thread thread;

  void accept() {
    acceptor.async_accept([this](beast::error_code ec, tcp::socket socket) {
      if (ec)
        return; // closed
      std::make_shared<session>(std::move(socket), body)->read();
      accept();
    });
  }
};

metrics_endpoint::metrics_endpoint(const std::string& address,
                                   std::function<std::string()> body)
  : impl_(std::make_unique<impl>()) {
  auto colon = address.rfind(':');
  std::string host
    = colon == std::string::npos ? "127.0.0.1" : address.substr(0, colon);
  std::string port_text
    = colon == std::string::npos ? address : address.substr(colon + 1);
  char* end = nullptr;
  long port = std::strtol(port_text.c_str(), &end, 10);
  if (port_text.empty() || *end != '\0' || port < 0 || port > 65535)
    throw InvalidArgument("metrics address '" + address + "' is not HOST:PORT");
  beast::error_code ec;
  auto ip = asio::ip::make_address(host, ec);
  if (ec)
    throw InvalidArgument("metrics address '" + address
                          + "': not an IP address: " + host);
  impl_->body = std::move(body);
  tcp::endpoint where{ip, static_cast<uint16_t>(port)};
  auto& a = impl_->acceptor;
  a.open(where.protocol(), ec);
  if (!ec)
    a.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec)
    a.bind(where, ec);
  if (!ec)
    a.listen(asio::socket_base::max_listen_connections, ec);
  if (ec)
    throw DeviceIO("metrics endpoint cannot listen on " + address + ": "
                   + ec.message());
  impl_->accept();
  impl_->thread = std::thread([d = impl_.get()] { d->io.run(); });
}

metrics_endpoint::~metrics_endpoint() {
  impl_->io.stop();
  impl_->thread.join();
}

uint16_t metrics_endpoint::port() const {
  return impl_->acceptor.local_endpoint().port();
}

std::string metrics_endpoint::address() const {
  auto where = impl_->acceptor.local_endpoint();
  return where.address().to_string() + ":" + std::to_string(where.port());
}

std::unique_ptr<metrics_endpoint>
metrics_endpoint_from_environment(std::function<std::string()> body) {
  const char* address = std::getenv("ACTORRT_METRICS");
  if (!address || !*address)
    return nullptr;
  auto endpoint = std::make_unique<metrics_endpoint>(address, std::move(body));
  std::fprintf(stderr, "actorrt: metrics at http://%s/metrics\n",
               endpoint->address().c_str());
  return endpoint;
}

} // namespace actorrt
