#include "actors/runtime_cpus.hpp"

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <mutex>
#include <optional>
#include <set>
#include <string>

#include <fcntl.h>
#include <sched.h>
#include <sys/file.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <caf/actor_system_config.hpp>
#include <caf/thread_hook.hpp>

#include "core/errors.hpp"
#include "core/parse.hpp"
#include "device/cpu_slots.hpp"

namespace actorrt {

namespace {

/// Where the runtime's threads go. The first runtime configured with CPUs
/// sets `kept_on` (one process, one placement), which never changes after;
/// `threads` are the runtime's threads. The process's CPUs, where they go
/// back to, are cpu_slots::host()'s, made before any of them started.
struct placement {
  std::mutex mtx;
  std::optional<cpu_set_t> kept_on;
  std::set<pid_t> threads;
  std::atomic<bool> placing{false}; // kept_on is set
  std::atomic<bool> kept{false};    // the threads are on kept_on now
  std::atomic<int> lone{0};         // lone jobs in a row
};

/// Never destroyed: CAF's threads may end while the process exits, after
/// static objects are gone (a client's node link crashed there).
placement& places() {
  static auto* p = new placement;
  return *p;
}

/// The calling thread's id, as sched_setaffinity takes it.
pid_t this_thread() {
  return static_cast<pid_t>(::syscall(SYS_gettid));
}

/// Moves `tid` to `p.kept_on` or back to every CPU.
void place(const placement& p, pid_t tid, bool on_kept) {
  auto& set = on_kept ? *p.kept_on : cpu_slots::host().cpus();
  ::sched_setaffinity(tid, sizeof set, &set);
}

class keep_on_cpus : public caf::thread_hook {
public:
  void init(caf::actor_system&) override {}
  void thread_started() override {
    auto& p = places();
    std::lock_guard<std::mutex> guard{p.mtx};
    p.threads.insert(this_thread());
    if (p.kept)
      place(p, this_thread(), true);
  }
  void thread_terminates() override {
    auto& p = places();
    std::lock_guard<std::mutex> guard{p.mtx};
    p.threads.erase(this_thread());
  }
};

} // namespace

int claim_cpu(const std::string& lock_dir) {
  auto& allowed = cpu_slots::host().cpus();
  for (int c = CPU_SETSIZE - 1; c >= 0; --c) {
    if (!CPU_ISSET(c, &allowed))
      continue;
    auto path = lock_dir + "/actorrt-cpu-" + std::to_string(c) + ".lock";
    int fd
      = ::open(path.c_str(), O_RDONLY | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644);
    if (fd < 0)
      continue; // not ours to open (another user's 0600 file, a symlink)
    if (::flock(fd, LOCK_EX | LOCK_NB) == 0)
      return c; // the descriptor stays open: the claim lasts as long
    ::close(fd);
  }
  return -1;
}

std::vector<int> runtime_cpus_from_environment() {
  const char* env = std::getenv("ACTORRT_RUNTIME_CPUS");
  std::vector<int> cpus;
  if (env && std::string(env) == "off")
    return cpus;
  auto& allowed = cpu_slots::host().cpus();
  if (!env || !*env || std::string(env) == "auto") {
    // Fewer CPUs than the four threads that poll on a Run's way: claim one.
    // Once per process; other processes claim others, or none.
    static const int claimed = [&] {
      int n = CPU_COUNT(&allowed);
      return n >= 2 && n < auto_below_cpus ? claim_cpu("/tmp") : -1;
    }();
    if (claimed >= 0 && CPU_ISSET(claimed, &allowed))
      cpus.push_back(claimed);
    return cpus;
  }
  std::string list = env;
  for (size_t from = 0; from <= list.size();) {
    auto to = std::min(list.find(',', from), list.size());
    auto item = list.substr(from, to - from);
    auto cpu = parse_integer(item.c_str(), 0, CPU_SETSIZE - 1);
    if (!cpu || !CPU_ISSET(int(*cpu), &allowed))
      throw InvalidArgument(
        "ACTORRT_RUNTIME_CPUS='" + list
        + "': expected comma-separated numbers of CPUs this process may run "
          "on ('"
        + item + "' is not one)");
    cpus.push_back(int(*cpu));
    from = to + 1;
  }
  return cpus;
}

void keep_runtime_threads_on(caf::actor_system_config& cfg,
                             const std::vector<int>& cpus) {
  if (cpus.empty())
    return;
  cfg.add_thread_hook<keep_on_cpus>();
  auto& p = places();
  std::lock_guard<std::mutex> guard{p.mtx};
  if (p.kept_on)
    return;
  cpu_set_t set;
  CPU_ZERO(&set);
  for (int c : cpus)
    CPU_SET(c, &set);
  p.kept_on = set;
  p.placing.store(true, std::memory_order_release);
}

void runtime_jobs_alone(bool alone) {
  auto& p = places();
  if (!p.placing.load(std::memory_order_acquire))
    return;
  int n = alone ? p.lone.fetch_add(1, std::memory_order_relaxed) + 1 : 0;
  if (!alone)
    p.lone.store(0, std::memory_order_relaxed);
  bool want = n >= lane_placement::lone_runs;
  if (want == p.kept.load(std::memory_order_relaxed))
    return;
  std::lock_guard<std::mutex> guard{p.mtx};
  if (want == p.kept.load(std::memory_order_relaxed))
    return;
  for (auto tid : p.threads)
    place(p, tid, want);
  p.kept.store(want, std::memory_order_release);
}

bool runtime_threads_kept() {
  return places().kept.load(std::memory_order_acquire);
}

void lane_placement::enter() {
  lane_ = true;
  {
    // A lane places itself: not one of the threads the runtime moves.
    auto& p = places();
    std::lock_guard<std::mutex> guard{p.mtx};
    p.threads.erase(this_thread());
  }
  cpu_slots::host().enter_lane();
}

void lane_placement::next(bool alone) {
  if (!lane_)
    return;
  alone_ = alone ? alone_ + 1 : 0;
  bool want = alone_ >= lone_runs && runtime_threads_kept();
  if (want && !beside_) {
    auto& set = *places().kept_on;
    beside_ = ::sched_setaffinity(0, sizeof set, &set) == 0;
  } else if (!want && beside_) {
    cpu_slots::host().enter_lane();
    beside_ = false;
  }
}

} // namespace actorrt
