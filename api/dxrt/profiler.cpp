#include "dxrt/profiler.h"

#include <algorithm>
#include <fstream>
#include <iomanip>
#include <iostream>

#include "dxrt/exception/exception.h"
#include "observability/trace.hpp"

namespace dxrt {

namespace {

constexpr size_t kept_per_event = 10000;

int64_t nanos(ProfilerClock::time_point t) { // as now_ns() counts
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
           t.time_since_epoch())
    .count();
}

uint64_t micros(const TimePoint& tp) {
  return static_cast<uint64_t>(
    std::chrono::duration_cast<std::chrono::microseconds>(tp.end - tp.start)
      .count());
}

} // namespace

Profiler::Profiler() = default;
Profiler::~Profiler() = default;

Profiler& Profiler::GetInstance() {
  // Never destroyed: Configuration shows its events from its own
  // destructor at exit, whichever of the two was made first.
  static auto* instance = new Profiler;
  return *instance;
}

void Profiler::Add(const std::string& event) {
  std::lock_guard<std::mutex> guard{_lock};
  _events[event];
}

void Profiler::AddTimePoint(const std::string& event, TimePointPtr tp) {
  if (!tp)
    throw NullPointerException("Profiler::AddTimePoint: no time point");
  if (actorrt::trace::enabled()) // beside the jobs, on this thread's track
    actorrt::trace::span(event, nanos(tp->start), nanos(tp->end));
  std::lock_guard<std::mutex> guard{_lock};
  auto& log = _events[event];
  if (log.points.size() < kept_per_event)
    log.points.push_back(*tp);
  else
    log.points[log.next] = *tp;
  log.next = (log.next + 1) % kept_per_event;
}

void Profiler::Start(const std::string& event) {
  std::lock_guard<std::mutex> guard{_lock};
  auto& log = _events[event];
  log.open = true;
  log.started = ProfilerClock::now();
}

void Profiler::End(const std::string& event) {
  auto now = ProfilerClock::now();
  TimePointPtr tp;
  {
    std::lock_guard<std::mutex> guard{_lock};
    auto it = _events.find(event);
    if (it == _events.end() || !it->second.open)
      throw InvalidOperationException("Profiler::End(\"" + event
                                      + "\") without a Start");
    it->second.open = false;
    tp = std::make_shared<TimePoint>(TimePoint{it->second.started, now});
  }
  AddTimePoint(event, tp);
}

uint64_t Profiler::Get(const std::string& event) {
  std::lock_guard<std::mutex> guard{_lock};
  auto it = _events.find(event);
  if (it == _events.end())
    throw InvalidArgumentException("Profiler: no event \"" + event + "\"");
  auto& log = it->second;
  if (log.points.empty())
    return 0;
  size_t latest = (log.next + kept_per_event - 1) % kept_per_event;
  return micros(log.points[std::min(latest, log.points.size() - 1)]);
}

double Profiler::GetAverage(const std::string& event) {
  std::lock_guard<std::mutex> guard{_lock};
  auto it = _events.find(event);
  if (it == _events.end())
    throw InvalidArgumentException("Profiler: no event \"" + event + "\"");
  auto& points = it->second.points;
  if (points.empty())
    return 0;
  double sum = 0;
  for (auto& tp : points)
    sum += double(micros(tp));
  return sum / double(points.size());
}

void Profiler::Erase(const std::string& event) {
  std::lock_guard<std::mutex> guard{_lock};
  _events.erase(event);
}

void Profiler::Clear() {
  std::lock_guard<std::mutex> guard{_lock};
  _events.clear();
}

void Profiler::Show(bool showDurations) {
  std::lock_guard<std::mutex> guard{_lock};
  std::cout << "Profiler: " << _events.size() << " event(s), microseconds\n";
  for (auto& [name, log] : _events) {
    uint64_t lo = UINT64_MAX, hi = 0;
    double sum = 0;
    for (auto& tp : log.points) {
      auto us = micros(tp);
      lo = std::min(lo, us);
      hi = std::max(hi, us);
      sum += double(us);
    }
    std::cout << "  " << std::left << std::setw(32) << name << " count "
              << log.points.size();
    if (!log.points.empty())
      std::cout << ", mean " << sum / double(log.points.size()) << ", min "
                << lo << ", max " << hi;
    std::cout << "\n";
    if (showDurations)
      for (auto& tp : log.points)
        std::cout << "    " << micros(tp) << "\n";
  }
}

void Profiler::Save(const std::string& file) {
  std::ofstream out(file);
  if (!out)
    throw FileIOException("Profiler::Save: cannot write " + file);
  std::lock_guard<std::mutex> guard{_lock};
  auto epoch = ProfilerClock::time_point{};
  out << "{\"traceEvents\":[";
  bool first = true;
  for (auto& [name, log] : _events)
    for (auto& tp : log.points) {
      auto ts = std::chrono::duration_cast<std::chrono::microseconds>(tp.start
                                                                      - epoch)
                  .count();
      std::string escaped;
      for (char c : name) {
        if (c == '"' || c == '\\')
          escaped += '\\';
        escaped += c;
      }
      out << (first ? "" : ",") << "{\"name\":\"" << escaped
          << "\",\"ph\":\"X\",\"pid\":1,\"tid\":1,\"ts\":" << ts
          << ",\"dur\":" << micros(tp) << "}";
      first = false;
    }
  out << "]}\n";
}

} // namespace dxrt
