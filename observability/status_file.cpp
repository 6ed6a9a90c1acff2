#include "observability/status_file.hpp"

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <sstream>

#include <nlohmann/json.hpp>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/clock.hpp"
#include "core/errors.hpp"
#include "core/host_memory.hpp"

namespace actorrt {

namespace fs = std::filesystem;
using json = nlohmann::json;

namespace {

std::string program_name() {
  std::ifstream comm("/proc/self/comm");
  std::string name;
  std::getline(comm, name);
  return name;
}

double unix_seconds() {
  return std::chrono::duration<double>(
           std::chrono::system_clock::now().time_since_epoch())
    .count();
}

bool process_alive(long pid) {
  return ::kill(static_cast<pid_t>(pid), 0) == 0 || errno == EPERM;
}

} // namespace

std::string status_dir() {
  if (const char* off = std::getenv("ACTORRT_STATUS");
      off && std::string(off) == "off")
    return {};
  if (const char* dir = std::getenv("ACTORRT_STATUS_DIR"); dir && *dir)
    return dir;
  if (const char* run = std::getenv("XDG_RUNTIME_DIR"); run && *run)
    return std::string(run) + "/actorrt";
  return "/tmp/actorrt-" + std::to_string(::getuid());
}

bool usable_status_dir(const std::string& dir) {
  if (dir.empty())
    return false;
  std::error_code ec;
  fs::create_directories(dir, ec);
  struct stat st {};
  if (::lstat(dir.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)
      || st.st_uid != ::getuid()) {
    static std::once_flag said;
    std::call_once(said, [&] {
      std::fprintf(stderr,
                   "actorrt: status folder %s is not this user's own "
                   "folder; no status for dxrt-cli -s\n",
                   dir.c_str());
    });
    return false;
  }
  fs::permissions(dir, fs::perms::owner_all, ec); // other users: no access
  return true;
}

status_file::status_file(std::string dir,
                         std::function<std::vector<core_report>()> report,
                         std::shared_ptr<process_metrics> counters,
                         std::function<int(int)> admitted, std::string host,
                         std::function<uint64_t(int)> reset,
                         std::chrono::milliseconds period)
  : report_(std::move(report)), counters_(std::move(counters)),
    admitted_(std::move(admitted)), host_(std::move(host)),
    reset_(std::move(reset)), period_(period) {
  static std::atomic<int> seq{0};
  path_ = dir + "/" + std::to_string(::getpid()) + "-" + std::to_string(++seq)
          + ".json";
  last_ns_ = now_ns();
  thread_ = std::thread([this] {
    std::unique_lock<std::mutex> lock{mtx_};
    while (!stop_) {
      lock.unlock();
      serve_reset_request();
      write();
      lock.lock();
      wake_.wait_for(lock, period_, [this] { return stop_; });
    }
  });
}

status_file::~status_file() {
  {
    std::lock_guard<std::mutex> guard{mtx_};
    stop_ = true;
  }
  wake_.notify_all();
  thread_.join();
  std::error_code ec;
  fs::remove(path_, ec);
}

namespace {

std::string reset_path(std::string status_path) {
  return status_path.substr(0, status_path.rfind(".json")) + ".reset";
}

} // namespace

void status_file::serve_reset_request() {
  auto path = reset_path(path_);
  std::ifstream in(path);
  std::string id;
  int device = -1;
  if (!(in >> id >> device))
    return;
  std::error_code ec;
  fs::remove(path, ec);
  json outcome = {{"id", id}, {"device", device}};
  try {
    outcome["lanes"] = reset_(device);
  } catch (const std::exception& e) {
    outcome["error"] = e.what();
  }
  last_reset_ = outcome.dump();
}

std::string request_reset(const std::string& status_path, int device) {
  auto id = std::to_string(now_ns());
  auto path = reset_path(status_path);
  {
    std::ofstream out(path + ".tmp");
    out << id << " " << device << "\n";
    if (!out)
      throw DeviceIO("cannot write the reset request " + path);
  }
  std::error_code ec;
  fs::rename(path + ".tmp", path, ec);
  if (ec)
    throw DeviceIO("cannot write the reset request " + path + ": "
                   + ec.message());
  return id;
}

void status_file::write() {
  auto cores = report_();
  auto now = now_ns();
  double interval_us = double(now - last_ns_) / 1e3;
  last_ns_ = now;
  json s;
  s["pid"] = ::getpid();
  s["path"] = path_;
  s["rss_bytes"] = resident_bytes();
  if (!last_reset_.empty())
    s["reset"] = json::parse(last_reset_);
  s["program"] = program_name();
  s["updated"] = unix_seconds();
  auto jobs = counters_->totals();
  s["jobs_done"] = jobs.done;
  s["jobs_failed"] = jobs.failed;
  auto& latency = jobs.latency;
  s["latency_ms"]
    = {{"mean", latency.mean() / 1e3}, {"p99", latency.quantile(0.99) / 1e3}};
  json list = json::array();
  for (auto& r : cores) {
    json c = {{"device", r.device},       {"core", r.core},
              {"host", r.host},           {"kind", r.kind},
              {"alive", r.alive},         {"simulated", r.simulated},
              {"dispatched", r.jobs},     {"in_flight", r.in_flight},
              {"local", r.host == host_}, {"backends", json::array()}};
    for (auto& [model, backend] : r.lanes)
      c["backends"].push_back(backend);
    // As this process's engines saw them: local cores ran only their
    // jobs, and a node's cores count every client's in its own metrics.
    auto i = jobs.cores.find({r.device, r.core});
    if (i != jobs.cores.end()) {
      auto& compute = i->second.compute;
      auto& before = busy_us_[{r.device, r.core}];
      c["jobs_done"] = i->second.done;
      c["jobs_failed"] = i->second.failed;
      if (i->second.runs > 0) // jobs per executor call (dynamic batching)
        c["mean_batch"]
          = double(i->second.done + i->second.failed) / double(i->second.runs);
      c["compute_ms"] = compute.mean() / 1e3;
      c["utilisation"] = interval_us > 0
                           ? std::min(1.0, (compute.sum - before) / interval_us)
                           : 0.0;
      before = compute.sum;
    }
    list.push_back(std::move(c));
  }
  s["cores"] = std::move(list);
  // Per device: jobs admitted (in flight for their engines), and of those
  // the ones no core holds yet (queued in the scheduler, or on their way).
  json devices = json::object();
  std::map<int, int> on_cores;
  for (auto& r : cores)
    on_cores[r.device] += r.in_flight;
  for (auto [device, held] : on_cores) {
    int admitted = admitted_(device);
    devices[std::to_string(device)]
      = {{"admitted", admitted}, {"queued", std::max(0, admitted - held)}};
  }
  s["devices"] = std::move(devices);
  // Readers never see half a file: write aside, then rename over.
  auto tmp = path_ + ".tmp";
  {
    std::ofstream out(tmp);
    out << s.dump() << "\n";
    if (!out)
      return; // the folder went away or is full: try again next time
  }
  std::error_code ec;
  fs::rename(tmp, path_, ec);
}

std::vector<std::string> read_status_files(const std::string& dir) {
  std::vector<std::string> result;
  std::error_code ec;
  std::vector<fs::path> files;
  for (auto& entry : fs::directory_iterator(dir, ec))
    if (entry.path().extension() == ".json")
      files.push_back(entry.path());
  std::sort(files.begin(), files.end());
  for (auto& file : files) {
    long pid = std::strtol(file.filename().c_str(), nullptr, 10);
    if (pid <= 0 || !process_alive(pid)) {
      fs::remove(file, ec);
      continue;
    }
    std::ifstream in(file);
    std::stringstream text;
    text << in.rdbuf();
    if (in && !text.str().empty())
      result.push_back(text.str());
  }
  return result;
}

} // namespace actorrt
