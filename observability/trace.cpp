#include "observability/trace.hpp"

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <map>
#include <mutex>

#include <nlohmann/json.hpp>
#include <unistd.h>

#include "core/clock.hpp"
#include "core/errors.hpp"

namespace actorrt::trace {

namespace {

using json = nlohmann::json;

constexpr size_t max_jobs = 1000000;

struct recorder {
  std::atomic<bool> on{false};
  std::mutex mtx;
  std::string path;
  int64_t origin = 0;
  std::vector<job_record> jobs;
  struct named_span {
    std::string name;
    uint32_t thread;
    int64_t begin, end;
  };
  std::vector<named_span> spans;
  size_t dropped = 0;
  std::map<uint32_t, std::string> engines;
  std::atomic<uint32_t> threads{0};
};

recorder& rec() {
  static auto* r = new recorder; // outlives every engine, even at exit
  return *r;
}

// Track ids: submitting threads 1.., cores 10000 + 100 × device + core,
// engines' result threads 1000000 + engine.
int64_t core_track(int device, int core) {
  return 10000 + 100 * int64_t(device) + core;
}
int64_t engine_track(uint32_t engine) {
  return 1000000 + int64_t(engine);
}

json track_name(int64_t tid, const std::string& name) {
  return {{"ph", "M"},
          {"name", "thread_name"},
          {"pid", ::getpid()},
          {"tid", tid},
          {"args", {{"name", name}}}};
}

/// Chrome trace events of one job; `us` turns now_ns() into trace time.
void events_of(job_record j, int64_t origin, json& out) {
  auto us = [origin](int64_t ns) { return double(ns - origin) / 1e3; };
  auto pid = ::getpid();
  auto args = json{{"job", j.job}};
  auto slice = [&](const char* name, int64_t tid, int64_t from, int64_t to) {
    out.push_back({{"ph", "X"},
                   {"name", name},
                   {"cat", "job"},
                   {"pid", pid},
                   {"tid", tid},
                   {"ts", us(from)},
                   {"dur", std::max(0.001, double(to - from) / 1e3)},
                   {"args", args}});
  };
  auto flow = [&](const char* ph, int64_t tid, int64_t at) {
    json e = {{"ph", ph},     {"name", "job"},
              {"cat", "job"}, {"id", (uint64_t(j.engine) << 40) | j.job},
              {"pid", pid},   {"tid", tid},
              {"ts", us(at)}, {"bp", "e"}};
    out.push_back(std::move(e));
  };
  auto submitter = int64_t(j.submitter);
  auto results = engine_track(j.engine);
  // A core on another host has its own clock: its stages are moved to end
  // where the result arrived, and say so.
  if (j.device >= 0
      && !(j.submitted <= j.dispatched && j.finished <= j.delivered)) {
    auto shift = j.delivered - j.finished;
    j.dispatched += shift;
    j.started += shift;
    j.finished += shift;
    args["clock"] = "remote core: aligned to delivery";
  }
  slice("submitted", submitter, j.submitted, j.submitted);
  flow("s", submitter, j.submitted);
  if (j.device >= 0) {
    auto core = core_track(j.device, j.core);
    slice("dispatched", core, j.dispatched, j.started);
    slice(j.failed ? "compute (failed)" : "compute", core, j.started,
          j.finished);
    flow("t", core, j.started);
  }
  slice("delivered", results, j.delivered, j.delivered);
  flow("f", results, j.delivered);
  if (j.callback_begin)
    slice("callback", results, j.callback_begin, j.callback_end);
}

void write(const std::string& path, int64_t origin,
           const std::vector<job_record>& jobs,
           const std::vector<recorder::named_span>& spans, size_t dropped,
           const std::map<uint32_t, std::string>& engines) {
  json events = json::array();
  events.push_back({{"ph", "M"},
                    {"name", "process_name"},
                    {"pid", ::getpid()},
                    {"args", {{"name", "ActorRT"}}}});
  std::map<int64_t, std::string> tracks;
  for (auto& j : jobs) {
    tracks[j.submitter] = "submitting thread " + std::to_string(j.submitter);
    if (j.device >= 0)
      tracks[core_track(j.device, j.core)]
        = "NPU core " + std::to_string(j.device) + ":" + std::to_string(j.core);
    auto e = engines.find(j.engine);
    tracks[engine_track(j.engine)]
      = "results: " + (e == engines.end() ? std::string("?") : e->second);
  }
  for (auto& s : spans)
    tracks[s.thread] = "thread " + std::to_string(s.thread);
  for (auto& [tid, name] : tracks)
    events.push_back(track_name(tid, name));
  for (auto& j : jobs)
    events_of(j, origin, events);
  for (auto& s : spans)
    events.push_back({{"ph", "X"},
                      {"name", s.name},
                      {"cat", "profiler"},
                      {"pid", ::getpid()},
                      {"tid", s.thread},
                      {"ts", double(s.begin - origin) / 1e3},
                      {"dur", double(s.end - s.begin) / 1e3}});
  json doc = {{"traceEvents", std::move(events)},
              {"displayTimeUnit", "ms"},
              {"otherData",
               {{"producer", "ActorRT"},
                {"jobs", jobs.size()},
                {"dropped_jobs", dropped}}}};
  std::ofstream out(path);
  out << doc.dump() << "\n";
  if (!out)
    std::fprintf(stderr, "actorrt: cannot write trace file '%s'\n",
                 path.c_str());
}

} // namespace

bool enabled() {
  return rec().on.load(std::memory_order_relaxed);
}

void start(const std::string& path) {
  {
    std::ofstream probe(path);
    if (!probe)
      throw InvalidArgument("cannot write trace file '" + path + "'");
  }
  auto& r = rec();
  std::lock_guard<std::mutex> guard{r.mtx};
  r.path = path;
  r.origin = now_ns();
  r.jobs.clear();
  r.spans.clear();
  r.dropped = 0;
  r.on = true;
}

size_t stop() {
  auto& r = rec();
  std::vector<job_record> jobs;
  std::vector<recorder::named_span> spans;
  std::string path;
  size_t dropped;
  int64_t origin;
  std::map<uint32_t, std::string> engines;
  {
    std::lock_guard<std::mutex> guard{r.mtx};
    if (!r.on)
      return 0;
    r.on = false;
    jobs.swap(r.jobs);
    spans.swap(r.spans);
    path = r.path;
    dropped = r.dropped;
    origin = r.origin;
    engines = r.engines;
  }
  write(path, origin, jobs, spans, dropped, engines);
  return jobs.size();
}

void start_from_environment() {
  static std::once_flag once;
  std::call_once(once, [] {
    const char* path = std::getenv("ACTORRT_TRACE");
    if (!path || !*path)
      return;
    start(path);
    std::atexit([] {
      auto n = stop();
      std::fprintf(stderr, "actorrt: trace of %zu jobs written to %s\n", n,
                   std::getenv("ACTORRT_TRACE"));
    });
  });
}

uint32_t thread_index() {
  thread_local uint32_t index = ++rec().threads;
  return index;
}

uint32_t engine_index(const std::string& model_name) {
  static std::atomic<uint32_t> next{0};
  auto index = ++next;
  auto& r = rec();
  std::lock_guard<std::mutex> guard{r.mtx};
  r.engines[index] = model_name;
  return index;
}

void span(const std::string& name, int64_t begin, int64_t end) {
  auto thread = thread_index();
  auto& r = rec();
  std::lock_guard<std::mutex> guard{r.mtx};
  if (!r.on)
    return;
  if (r.jobs.size() + r.spans.size() < max_jobs)
    r.spans.push_back({name, thread, begin, end});
  else
    ++r.dropped;
}

void record(const job_record& job) {
  auto& r = rec();
  std::lock_guard<std::mutex> guard{r.mtx};
  if (!r.on)
    return;
  if (r.jobs.size() < max_jobs)
    r.jobs.push_back(job);
  else
    ++r.dropped;
}

} // namespace actorrt::trace
