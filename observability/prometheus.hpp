// This process's counters in Prometheus' text exposition format (0.0.4).
#pragma once

#include <string>
#include <vector>

#include "core/core_report.hpp"
#include "core/metrics.hpp"

namespace actorrt {

/// The families: per local core (the cores in `cores` whose host is
/// `host`), jobs ended by outcome, compute time, jobs in flight and
/// whether it is alive; and for the process's engines, jobs ended by
/// outcome, end-to-end latency and queue time. Durations are in seconds.
std::string prometheus_text(const process_metrics& counters,
                            const std::vector<core_report>& cores,
                            const std::string& host);

/// A worker node's gate: bytes that messages still arriving claim, its
/// budget for them, and messages waiting for a claim.
std::string prometheus_gate_text(uint64_t claimed, uint64_t budget,
                                 uint64_t waiting);

} // namespace actorrt
