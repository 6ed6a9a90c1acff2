// DX-RT's profiler: named events with start and end times, kept in memory
// (the latest 10,000 per event), summarised by Show and written by Save as
// a Chrome trace (Perfetto and chrome://tracing open it). While ActorRT's
// job trace records (Configuration's PROFILER item, ACTORRT_TRACE,
// StartTrace), each event also goes into it, on its thread's track.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "dxrt/common.h"
#include "dxrt/configuration.h"

namespace dxrt {

using ProfilerClock = std::chrono::steady_clock;

struct DXRT_API TimePoint {
  ProfilerClock::time_point start;
  ProfilerClock::time_point end;
};
using TimePointPtr = std::shared_ptr<TimePoint>;

class DXRT_API Profiler {
private:
  Profiler();
  ~Profiler();
  Profiler(const Profiler&) = delete;
  Profiler& operator=(const Profiler&) = delete;

public:
  static Profiler& GetInstance();

  /// Makes the event known (no time point yet).
  void Add(const std::string& event);
  void AddTimePoint(const std::string& event, TimePointPtr tp);
  /// Start and End on the same event make one time point.
  void Start(const std::string& event);
  /// Throws InvalidOperationException when the event was not started.
  void End(const std::string& event);
  /// The latest time point's duration (µs); throws InvalidArgumentException
  /// for an unknown event.
  uint64_t Get(const std::string& event);
  /// Mean duration (µs) over the time points kept; 0 when there are none.
  double GetAverage(const std::string& event);
  void Erase(const std::string& event);
  void Clear();
  /// Prints each event's count, mean, min and max (and every duration).
  void Show(bool showDurations = false);
  /// Writes the events as Chrome trace JSON; throws FileIOException.
  void Save(const std::string& file);

private:
  struct event_log {
    std::vector<TimePoint> points; // a ring of the latest kept
    size_t next = 0;
    bool open = false;
    ProfilerClock::time_point started;
  };
  std::map<std::string, event_log> _events;
  std::mutex _lock;
};

} // namespace dxrt
