// A running process's devices, for local readers (dxrt-cli -s): a JSON file
// per runtime in the status folder, rewritten every second and removed
// when the runtime ends. Readers skip and delete files of processes that
// are gone.
#pragma once

#include <atomic>
#include <condition_variable>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "core/core_report.hpp"
#include "core/metrics.hpp"

namespace actorrt {

/// ACTORRT_STATUS_DIR, else $XDG_RUNTIME_DIR/actorrt, else
/// /tmp/actorrt-<uid>; empty when ACTORRT_STATUS=off.
std::string status_dir();

/// True when `dir` is (or could be made as) a folder of this user's only;
/// a shared /tmp may hold one somebody else made first.
bool usable_status_dir(const std::string& dir);

class status_file {
public:
  /// Writes the status of the cores `report` returns, of `counters` and
  /// of the jobs admitted per device (`admitted`) under `dir` every
  /// `period`, until
  /// destroyed. A reset request beside the file (request_reset) is carried
  /// out with `reset` (device → lanes rebuilt) and its outcome written in
  /// the status ("reset").
  status_file(std::string dir, std::function<std::vector<core_report>()> report,
              std::shared_ptr<process_metrics> counters,
              std::function<int(int)> admitted, std::string host,
              std::function<uint64_t(int)> reset,
              std::chrono::milliseconds period = std::chrono::seconds(1));
  ~status_file();

  status_file(const status_file&) = delete;
  status_file& operator=(const status_file&) = delete;

  const std::string& path() const {
    return path_;
  }

private:
  void write();
  void serve_reset_request();

  std::string path_;
  std::function<std::vector<core_report>()> report_;
  std::shared_ptr<process_metrics> counters_;
  std::function<int(int)> admitted_;
  std::string host_;
  std::function<uint64_t(int)> reset_;
  std::string last_reset_; // the latest reset request's outcome (JSON)
  std::chrono::milliseconds period_;
  // Compute time per core at the last write, for utilisation since then.
  std::map<std::pair<int, int>, double> busy_us_;
  int64_t last_ns_ = 0;
  std::mutex mtx_;
  std::condition_variable wake_;
  bool stop_ = false;
  std::thread thread_;
};

/// The status (JSON text) of every running process that writes one in
/// `dir`; files of processes that are gone are deleted.
std::vector<std::string> read_status_files(const std::string& dir);

/// Asks the runtime whose status file is `status_path` to rebuild the lanes
/// of `device` (-1: all) at its next write; returns the request's id, which
/// its status's "reset" carries once done. Only this user can ask: the
/// folder is theirs alone.
std::string request_reset(const std::string& status_path, int device);

} // namespace actorrt
