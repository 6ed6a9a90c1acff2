#include <catch2/catch.hpp>

#include <atomic>
#include <random>
#include <sstream>
#include <thread>
#include <vector>

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include "core/errors.hpp"
#include "core/metrics.hpp"
#include "observability/metrics_endpoint.hpp"
#include "observability/prometheus.hpp"

using namespace actorrt;

TEST_CASE("histogram bounds rise ten steps a decade from 1 us to 100 s",
          "[metrics]") {
  CHECK(histogram::bound(0) == 1.0);
  CHECK(histogram::bound(10) == Approx(10.0));
  CHECK(histogram::bound(79) == Approx(8e7));
  for (size_t i = 1; i + 1 < histogram::buckets; ++i)
    CHECK(histogram::bound(i) > histogram::bound(i - 1));
}

TEST_CASE("histogram quantiles are within a bucket of the exact ones",
          "[metrics]") {
  histogram h;
  std::mt19937 gen{3};
  std::lognormal_distribution<double> dist{7.0, 1.0}; // ~1 ms, wide
  std::vector<int64_t> xs;
  for (int i = 0; i < 100000; ++i)
    xs.push_back(int64_t(dist(gen)));
  for (auto x : xs)
    h.record(x);
  std::sort(xs.begin(), xs.end());
  auto s = h.read();
  CHECK(s.count == xs.size());
  CHECK(s.max == xs.back());
  for (double q : {0.5, 0.9, 0.99, 0.999}) {
    double exact = double(xs[size_t(q * double(xs.size() - 1))]);
    CHECK(s.quantile(q) == Approx(exact).epsilon(0.26));
  }
  CHECK(s.quantile(1.0) == double(xs.back()));
  CHECK(histogram{}.read().quantile(0.5) == 0);
}

TEST_CASE("a process's totals hold its engines' jobs, live and ended",
          "[metrics]") {
  auto process = std::make_shared<process_metrics>();
  std::vector<std::unique_ptr<metrics>> engines;
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    engines.push_back(std::make_unique<metrics>());
    process->join(engines.back().get());
  }
  // Each engine's actor records its own; a reader polls meanwhile.
  for (int t = 0; t < 4; ++t)
    threads.emplace_back([e = engines[t].get()] {
      for (int i = 0; i < 10000; ++i) {
        e->latency.record(i);
        e->done.fetch_add(1);
        e->core(0, 0).done.fetch_add(1);
      }
    });
  uint64_t seen = 0;
  while (seen < 40000) {
    auto now = process->totals().done;
    CHECK(now >= seen); // a counter never goes back
    seen = now;
  }
  for (auto& t : threads)
    t.join();
  auto live = process->totals();
  CHECK(live.latency.count == 40000);
  CHECK(live.latency.sum == 4 * (10000.0 * 9999 / 2));
  process->leave(engines[0].get());
  engines[0].reset();
  process->leave(engines[1].get());
  auto after = process->totals();
  CHECK(after.done == 40000); // what ended engines counted stays
  CHECK(after.latency.count == 40000);
  CHECK(after.latency.max == 9999);
  CHECK(engines[2]->cores().at({0, 0})->done == 10000);
}

TEST_CASE("Prometheus text has every family, local cores only, and "
          "cumulative buckets",
          "[metrics]") {
  process_metrics m;
  metrics engine;
  m.join(&engine);
  engine.done = 5;
  engine.failed = 1;
  for (int i = 0; i < 5; ++i)
    engine.latency.record(1000 * (i + 1));
  m.core(0, 1).done = 5;
  m.core(0, 1).compute.record(700);
  core_report here;
  here.device = 0;
  here.core = 1;
  here.kind = "cpu";
  here.host = "local";
  here.in_flight = 2;
  core_report remote = here;
  remote.device = 1;
  remote.host = "node-b";
  auto text = prometheus_text(m, {here, remote}, "local");
  CHECK_THAT(text, Catch::Contains("# TYPE actorrt_core_jobs_total counter"));
  CHECK_THAT(text, Catch::Contains("actorrt_core_jobs_total{device=\"0\","
                                   "core=\"1\",kind=\"cpu\",outcome=\"done\"} "
                                   "5\n"));
  CHECK_THAT(text, Catch::Contains("actorrt_core_in_flight{device=\"0\","
                                   "core=\"1\",kind=\"cpu\"} 2\n"));
  CHECK_THAT(text, Catch::Contains("actorrt_jobs_total{outcome=\"failed\"} 1"));
  CHECK_THAT(text, Catch::Contains("actorrt_job_latency_seconds_count 5\n"));
  CHECK_THAT(text, Catch::Contains(
                     "actorrt_job_latency_seconds_bucket{le=\"+Inf\"} 5\n"));
  CHECK_THAT(text, Catch::Contains(
                     "actorrt_job_latency_seconds_bucket{le=\"0.001\"} 1\n"));
  CHECK_THAT(text, Catch::Contains("actorrt_job_latency_seconds_sum 0.015\n"));
  CHECK(text.find("device=\"1\"") == std::string::npos); // the node's own
  std::istringstream lines{text};
  std::string line;
  uint64_t last = 0;
  while (std::getline(lines, line))
    if (line.rfind("actorrt_job_latency_seconds_bucket", 0) == 0) {
      auto n = std::stoull(line.substr(line.rfind(' ') + 1));
      CHECK(n >= last);
      last = n;
    }
  CHECK(last == 5);
}

TEST_CASE("the metrics endpoint answers GET /metrics over HTTP, 404 "
          "elsewhere, and refuses a bad address",
          "[metrics]") {
  namespace asio = boost::asio;
  namespace http = boost::beast::http;
  std::atomic<int> asked{0};
  metrics_endpoint endpoint{"127.0.0.1:0", [&] {
                              ++asked;
                              return std::string("actorrt_up 1\n");
                            }};
  REQUIRE(endpoint.port() != 0);
  auto get = [&](const std::string& target) {
    asio::io_context io;
    boost::beast::tcp_stream stream{io};
    stream.connect({asio::ip::make_address("127.0.0.1"), endpoint.port()});
    http::request<http::empty_body> req{http::verb::get, target, 11};
    req.set(http::field::host, "127.0.0.1");
    http::write(stream, req);
    boost::beast::flat_buffer buffer;
    http::response<http::string_body> res;
    http::read(stream, buffer, res);
    return res;
  };
  auto ok = get("/metrics");
  CHECK(ok.result() == http::status::ok);
  CHECK(ok.body() == "actorrt_up 1\n");
  CHECK(std::string(ok[http::field::content_type])
        == "text/plain; version=0.0.4");
  CHECK(get("/").result() == http::status::not_found);
  CHECK(asked == 1);
  CHECK_THROWS_AS(metrics_endpoint("127.0.0.1:http", [] { return ""; }),
                  InvalidArgument);
  CHECK_THROWS_AS(metrics_endpoint("nowhere:9", [] { return ""; }),
                  InvalidArgument);
  CHECK_THROWS_AS(metrics_endpoint(endpoint.address(), [] { return ""; }),
                  DeviceIO); // taken
}
