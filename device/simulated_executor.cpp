#include "device/simulated_executor.hpp"

#include <sys/prctl.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <sstream>
#include <thread>

#include "core/clock.hpp"
#include "core/cpu_contention.hpp"
#include "core/errors.hpp"

namespace actorrt {

namespace {

double number(const std::string& text, const std::string& what,
              std::string* unit = nullptr) {
  char* end = nullptr;
  double value = std::strtod(text.c_str(), &end);
  if (end == text.c_str() || value < 0 || (!unit && *end != '\0'))
    throw InvalidArgument("bad simulated-NPU " + what + " '" + text + "'");
  if (unit)
    *unit = end;
  return value;
}

std::chrono::nanoseconds duration(const std::string& text,
                                  const std::string& what) {
  std::string unit;
  double value = number(text, what, &unit);
  double scale = unit == "ns"   ? 1
                 : unit == "us" ? 1e3
                 : unit == "ms" ? 1e6
                 : unit == "s"  ? 1e9
                                : 0;
  if (scale == 0)
    throw InvalidArgument("bad simulated-NPU " + what + " '" + text
                          + "': use ns, us, ms or s");
  return std::chrono::nanoseconds{static_cast<int64_t>(value * scale)};
}

} // namespace

simulated_settings simulated_settings::parse(const std::string& params) {
  simulated_settings s;
  std::stringstream parts{params};
  std::string part;
  std::getline(parts, part, ':');
  if (!part.empty()) {
    std::string unit;
    double value = number(part, "latency", &unit);
    if (unit == "gmacs")
      s.gmacs_per_second = value;
    else
      s.latency = duration(part, "latency (or use gmacs)");
  }
  while (std::getline(parts, part, ':')) {
    auto eq = part.find('=');
    auto key = part.substr(0, eq);
    auto value = eq == std::string::npos ? "" : part.substr(eq + 1);
    if (key == "fail") {
      s.fail_rate = number(value, "fail rate");
      if (s.fail_rate > 1)
        throw InvalidArgument("simulated-NPU fail rate must be 0..1");
    } else if (key == "die_after") {
      s.die_after = static_cast<int64_t>(number(value, "die_after"));
    } else if (key == "stall_after") {
      s.stall_after = static_cast<int64_t>(number(value, "stall_after"));
    } else if (key == "stall_for") {
      s.stall_for = duration(value, "stall_for");
    } else if (key == "batch") {
      s.batch_cost = number(value, "batch cost");
    } else if (key == "seed") {
      s.seed = static_cast<uint64_t>(number(value, "seed"));
    } else if (key == "cores") {
      s.fault_cores = 0;
      std::stringstream list{value};
      std::string core;
      while (std::getline(list, core, '+')) {
        auto i = static_cast<int>(number(core, "core"));
        if (i >= 32)
          throw InvalidArgument("simulated-NPU core " + core + " is not 0..31");
        s.fault_cores |= 1u << i;
      }
    } else {
      throw InvalidArgument("unknown simulated-NPU parameter '" + part
                            + "' (known: fail, die_after, stall_after, "
                              "stall_for, cores, seed, batch)");
    }
  }
  return s;
}

simulated_executor::simulated_executor(const model& m,
                                       const simulated_settings& settings,
                                       int core)
  : settings_(settings),
    latency_(settings.gmacs_per_second > 0
               ? std::chrono::nanoseconds{static_cast<int64_t>(
                 m.macs() / settings.gmacs_per_second)}
               : settings.latency),
    faulty_(core >= 0 && core < 32 && (settings.fault_cores >> core) & 1u),
    draws_(settings.seed * 1000003u + static_cast<uint64_t>(core)) {}

bool simulated_executor::misbehave() {
  ++jobs_;
  if (faulty_ && settings_.die_after >= 0 && jobs_ > settings_.die_after)
    throw lane_lost("simulated NPU core crashed (die_after="
                    + std::to_string(settings_.die_after) + ")");
  bool stall = faulty_ && settings_.stall_after >= 0
               && jobs_ == settings_.stall_after + 1;
  if (stall)
    std::this_thread::sleep_for(settings_.stall_for);
  if (settings_.fail_rate > 0
      && std::uniform_real_distribution<double>(0, 1)(draws_)
           < settings_.fail_rate)
    throw DeviceIO(
      "simulated NPU fault (fail=" + std::to_string(settings_.fail_rate) + ")");
  return stall;
}

int64_t simulated_executor::run(const tensors& inputs, tensors& outputs) {
  auto now = now_ns();
  // Sent while the device still ran the one before: it was next in the
  // device's queue, and started when that one ended.
  bool next = latency_.count() > 0 && queued_ != 0 && queued_ <= last_end_;
  queued_ = 0;
  auto started = next ? last_end_ : now;
  compute(inputs, outputs, started);
  return started;
}

void simulated_executor::run_batch(std::vector<job>& jobs) {
  run_each(jobs, [this](job& j) {
    queued_ = j.queued; // for run(), which subclasses may wrap
    auto started = run(j.inputs, j.outputs);
    j.finished = std::max(last_end_, started); // the device's time
    return started;
  });
}

int64_t simulated_executor::compute(const tensors& inputs, tensors& outputs,
                                    int64_t start) {
  if (misbehave())
    start = now_ns(); // it computes once the stall is over
  int64_t n = 1;
  if (!inputs.empty() && inputs.front().info().dynamic_batch)
    n = std::max<int64_t>(inputs.front().info().shape.at(0), 1);
  auto end = start
             + std::chrono::duration_cast<std::chrono::nanoseconds>(
                 latency_ * (1 + settings_.batch_cost * double(n - 1)))
                 .count();
  for (auto& out : outputs) {
    auto& bytes = output_memory(out);
    auto per = out.info().dynamic_batch ? n : 1;
    auto sample = bytes.size / size_t(per);
    auto given = inputs.empty() ? 0 : inputs.front().bytes.size / size_t(n);
    auto echoed = std::min(sample, given);
    for (int64_t s = 0; s < per; ++s) {
      auto* to = bytes.data + size_t(s) * sample;
      if (echoed)
        std::memcpy(to, inputs.front().bytes.data + size_t(s) * given, echoed);
      std::memset(to + echoed, 0, sample - echoed);
    }
  }
  if (latency_.count() > 0)
    wait_until(std::chrono::steady_clock::time_point(
      std::chrono::nanoseconds(end))); // now_ns() is steady_clock's
  last_end_ = end;
  return end;
}

void simulated_executor::wait_until(
  std::chrono::steady_clock::time_point deadline) {
  using clock = std::chrono::steady_clock;
  // The kernel lets a sleeper wake up to 50 us late by default (timer
  // slack): 2.5% of a 2 ms job, a device slower than its model.
  [[maybe_unused]] thread_local const bool exact
    = prctl(PR_SET_TIMERSLACK, 1UL) == 0;
  // Even then a timer wakes a thread tens of us late on a VM (40 us p50
  // here): the sleep ends that much early, by what recent ones overshot,
  // and the rest is polled, yielding to any thread with work.
  auto wake = deadline - late_ - std::chrono::microseconds(10);
  if (clock::now() < wake) {
    std::this_thread::sleep_until(wake);
    auto overshot = clock::now() - wake;
    late_
      += (std::min(overshot, decltype(overshot)(std::chrono::milliseconds(1)))
          - late_)
         / 8;
  }
  // Where other tasks hold the CPUs a yield returns a slice later: sleep.
  if (!cpus_contended())
    while (clock::now() < deadline && !yield_cpu()) {
    }
  std::this_thread::sleep_until(deadline); // at once when it has passed
}

} // namespace actorrt
