#include "observability/prometheus.hpp"

#include <cstdio>
#include <sstream>

namespace actorrt {

namespace {

std::string number(double x) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.9g", x);
  return buf;
}

void family(std::ostringstream& out, const char* name, const char* type,
            const char* help) {
  out << "# HELP " << name << ' ' << help << "\n# TYPE " << name << ' ' << type
      << '\n';
}

/// `labels` is empty or `a="x",b="y"`.
void buckets(std::ostringstream& out, const char* name,
             const std::string& labels, const histogram::snapshot& s) {
  auto sep = labels.empty() ? "" : ",";
  uint64_t cumulative = 0;
  for (size_t i = 0; i + 1 < histogram::buckets; ++i) {
    cumulative += s.counts[i];
    out << name << "_bucket{" << labels << sep << "le=\""
        << number(histogram::bound(i) / 1e6) << "\"} " << cumulative << '\n';
  }
  out << name << "_bucket{" << labels << sep << "le=\"+Inf\"} " << s.count
      << '\n';
  auto braces = labels.empty() ? std::string() : "{" + labels + "}";
  out << name << "_sum" << braces << ' ' << number(s.sum / 1e6) << '\n'
      << name << "_count" << braces << ' ' << s.count << '\n';
}

std::string core_labels(const core_report& r) {
  return "device=\"" + std::to_string(r.device) + "\",core=\""
         + std::to_string(r.core) + "\",kind=\"" + r.kind + "\"";
}

} // namespace

std::string prometheus_text(const process_metrics& counters,
                            const std::vector<core_report>& cores,
                            const std::string& host) {
  std::vector<core_report> local;
  for (auto& r : cores)
    if (r.host == host)
      local.push_back(r);
  auto counted = counters.cores();
  auto of = [&](const core_report& r) -> const core_metrics* {
    auto i = counted.find({r.device, r.core});
    return i == counted.end() ? nullptr : i->second;
  };
  std::ostringstream out;
  family(out, "actorrt_core_jobs_total", "counter",
         "Jobs this process's NPU cores ran, by outcome.");
  for (auto& r : local)
    if (auto c = of(r))
      for (auto [outcome, n] : {std::pair{"done", c->done.load()},
                                std::pair{"failed", c->failed.load()}})
        out << "actorrt_core_jobs_total{" << core_labels(r) << ",outcome=\""
            << outcome << "\"} " << n << '\n';
  family(out, "actorrt_core_compute_seconds", "histogram",
         "Compute time of each job on its core.");
  for (auto& r : local)
    if (auto c = of(r))
      buckets(out, "actorrt_core_compute_seconds", core_labels(r),
              c->compute.read());
  family(out, "actorrt_core_in_flight", "gauge",
         "Jobs dispatched to a core and not yet answered.");
  for (auto& r : local)
    out << "actorrt_core_in_flight{" << core_labels(r) << "} " << r.in_flight
        << '\n';
  family(out, "actorrt_core_up", "gauge", "1 while the core runs jobs.");
  for (auto& r : local)
    out << "actorrt_core_up{" << core_labels(r) << "} " << (r.alive ? 1 : 0)
        << '\n';
  auto jobs = counters.totals();
  family(out, "actorrt_jobs_total", "counter",
         "Jobs this process's engines ended, by outcome (any core).");
  out << "actorrt_jobs_total{outcome=\"done\"} " << jobs.done
      << "\nactorrt_jobs_total{outcome=\"failed\"} " << jobs.failed << '\n';
  family(out, "actorrt_runs_total", "counter",
         "Executor calls those jobs ran in: jobs / runs is the mean batch "
         "(dynamic batching).");
  out << "actorrt_runs_total " << jobs.runs << '\n';
  family(out, "actorrt_job_latency_seconds", "histogram",
         "End-to-end latency: submitted to outputs ready.");
  buckets(out, "actorrt_job_latency_seconds", "", jobs.latency);
  family(out, "actorrt_job_queue_seconds", "histogram",
         "Latency minus compute: queueing, transfer and delivery.");
  buckets(out, "actorrt_job_queue_seconds", "", jobs.queue);
  return out.str();
}

std::string prometheus_gate_text(uint64_t claimed, uint64_t budget,
                                 uint64_t waiting) {
  std::ostringstream out;
  family(out, "actorrt_gate_claimed_bytes", "gauge",
         "Bytes that messages still arriving claim now (held until whole).");
  out << "actorrt_gate_claimed_bytes " << claimed << '\n';
  family(out, "actorrt_gate_budget_bytes", "gauge",
         "Bytes that messages still arriving may claim at once.");
  out << "actorrt_gate_budget_bytes " << budget << '\n';
  family(out, "actorrt_gate_waiting_messages", "gauge",
         "Messages whose header waits for a claim on the budget.");
  out << "actorrt_gate_waiting_messages " << waiting << '\n';
  return out.str();
}

} // namespace actorrt
