// dxtop: DX-RT v3's terminal monitor for ActorRT. Every running ActorRT
// process of this user (from its status file), each of its devices and
// cores: utilisation over the last second, jobs per second, jobs in flight,
// failures, the lane's backend; the process's resident memory and the
// host's. Redraws in place; q or Ctrl-C quits.
#include <poll.h>
#include <termios.h>
#include <unistd.h>

#include <chrono>
#include <csignal>
#include <cstdio>
#include <ctime>
#include <map>
#include <string>
#include <tuple>

#include <CLI/CLI.hpp>

#include "core/host_memory.hpp"
#include "tools/common/number_checks.hpp"
#include "tools/common/processes.hpp"

namespace {

using json = nlohmann::json;

volatile std::sig_atomic_t interrupted = 0;

/// Raw keys without echo while dxtop runs, the terminal as it was after.
class raw_terminal {
public:
  raw_terminal() : tty_(::isatty(STDIN_FILENO) != 0) {
    if (!tty_ || ::tcgetattr(STDIN_FILENO, &saved_) != 0) {
      tty_ = false;
      return;
    }
    termios raw = saved_;
    raw.c_lflag &= ~(ICANON | ECHO);
    ::tcsetattr(STDIN_FILENO, TCSANOW, &raw);
    std::printf("\x1b[?25l"); // no cursor
  }
  ~raw_terminal() {
    if (tty_) {
      ::tcsetattr(STDIN_FILENO, TCSANOW, &saved_);
      std::printf("\x1b[?25h\n");
    }
  }
  /// Waits up to `ms` for a key; true when it is q.
  bool quit_pressed(int ms) const {
    pollfd in{STDIN_FILENO, POLLIN, 0};
    if (::poll(&in, 1, ms) <= 0)
      return false;
    char key = 0;
    return ::read(STDIN_FILENO, &key, 1) == 1 && (key == 'q' || key == 'Q');
  }

private:
  bool tty_;
  termios saved_{};
};

double gib(double bytes) {
  return bytes / double(1ull << 30);
}

std::string bar(double share, int width) {
  int filled = int(share * width + 0.5);
  filled = std::max(0, std::min(width, filled));
  return "[" + std::string(filled, '#') + std::string(width - filled, '.')
         + "]";
}

using core_key = std::tuple<int, int, int>; // pid, device, core

/// One screen: every process, device and core. `before` holds each core's
/// jobs at the last screen, for jobs per second.
void draw(std::map<core_key, uint64_t>& before, double seconds) {
  auto now = std::time(nullptr);
  char stamp[16];
  std::strftime(stamp, sizeof stamp, "%H:%M:%S", std::localtime(&now));
  auto memory = actorrt::read_host_memory();
  std::printf("dxtop - ActorRT  %s   host memory %.2f / %.2f GiB used   "
              "(q quits)\x1b[K\n\x1b[K\n",
              stamp, gib(double(memory.total - memory.available)),
              gib(double(memory.total)));
  auto processes = actorrt::tools::running_processes();
  if (processes.empty())
    std::printf("(no running ActorRT process)\x1b[K\n");
  std::map<core_key, uint64_t> now_jobs;
  for (auto& s : processes) {
    int pid = s.value("pid", 0);
    std::printf("PID %-7d %-16s RSS %7.1f MiB  %llu jobs done, %llu failed, "
                "latency p99 %.3f ms\x1b[K\n",
                pid, s.value("program", "?").c_str(),
                double(s.value("rss_bytes", 0ll)) / (1 << 20),
                (unsigned long long) s.value("jobs_done", 0ull),
                (unsigned long long) s.value("jobs_failed", 0ull),
                s["latency_ms"].value("p99", 0.0));
    int shown = -1;
    for (auto& c : s["cores"]) {
      int d = c.value("device", 0), core = c.value("core", 0);
      if (d != shown) {
        shown = d;
        std::printf(
          "  Device %d  %s%s%s\x1b[K\n", d, c.value("kind", "?").c_str(),
          c.value("simulated", false) ? "  SIMULATED" : "",
          c.value("local", true) ? ""
                                 : ("  node " + c.value("host", "?")).c_str());
      }
      uint64_t jobs = c.value("jobs_done", 0ull) + c.value("jobs_failed", 0ull);
      core_key key{pid, d, core};
      now_jobs[key] = jobs;
      auto last = before.find(key);
      double rate = last != before.end() && seconds > 0
                      ? double(jobs - std::min(jobs, last->second)) / seconds
                      : 0.0;
      std::string backends;
      for (auto& b : c["backends"])
        backends += (backends.empty() ? "" : ",") + b.get<std::string>();
      double busy = c.value("utilisation", 0.0);
      std::printf("    NPU %d  %-7s %s %5.1f%%  %9.1f jobs/s  %3d in flight  "
                  "%5llu failed  %s\x1b[K\n",
                  core, c.value("alive", false) ? "running" : "stopped",
                  bar(busy, 20).c_str(), busy * 100, rate,
                  c.value("in_flight", 0),
                  (unsigned long long) c.value("jobs_failed", 0ull),
                  backends.empty() ? "(no model)" : backends.c_str());
    }
  }
  std::printf("\x1b[J");
  before = std::move(now_jobs);
}

} // namespace

int main(int argc, char** argv) {
  CLI::App app{"dxtop: ActorRT's devices, live"};
  double interval = 1.0;
  int iterations = 0;
  app.add_option("-i,--interval", interval, "seconds between screens")
    ->check(CLI::Range(0.1, 60.0));
  app
    .add_option("-n,--iterations", iterations,
                "stop after this many screens (default: until q)")
    ->check(actorrt::tools::positive);
  CLI11_PARSE(app, argc, argv);
  std::signal(SIGINT, [](int) { interrupted = 1; });
  std::signal(SIGTERM, [](int) { interrupted = 1; });
  raw_terminal terminal;
  std::map<core_key, uint64_t> before;
  auto last = std::chrono::steady_clock::now();
  for (int i = 0; !interrupted && (iterations == 0 || i < iterations); ++i) {
    auto now = std::chrono::steady_clock::now();
    std::printf("\x1b[H");
    draw(before, std::chrono::duration<double>(now - last).count());
    std::fflush(stdout);
    last = now;
    if (terminal.quit_pressed(int(interval * 1000)))
      break;
  }
  return 0;
}
