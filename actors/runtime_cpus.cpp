#include "actors/runtime_cpus.hpp"

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <mutex>
#include <optional>
#include <string>

#include <fcntl.h>
#include <sched.h>
#include <sys/file.h>
#include <unistd.h>

#include <caf/actor_system_config.hpp>
#include <caf/thread_hook.hpp>

#include "core/errors.hpp"
#include "core/parse.hpp"
#include "device/cpu_slots.hpp"

namespace actorrt {

namespace {

cpu_set_t process_set() {
  cpu_set_t set;
  CPU_ZERO(&set);
  if (::sched_getaffinity(0, sizeof set, &set) != 0)
    for (int c = 0; c < CPU_SETSIZE; ++c)
      CPU_SET(c, &set);
  return set;
}

/// The runtime's CPUs, once some are set: the first set wins (one process,
/// one placement) and never changes, so after `kept` it is read unlocked.
std::mutex mtx;
std::optional<cpu_set_t> runtime_set;
std::atomic<bool> kept{false};

class keep_on_cpus : public caf::thread_hook {
public:
  explicit keep_on_cpus(cpu_set_t cpus) : cpus_(cpus) {}
  void init(caf::actor_system&) override {}
  void thread_started() override {
    ::sched_setaffinity(0, sizeof cpus_, &cpus_);
  }
  void thread_terminates() override {}

private:
  cpu_set_t cpus_;
};

} // namespace

int claim_cpu(const std::string& lock_dir) {
  auto allowed = process_set();
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
  if (!env || !*env || std::string(env) == "off")
    return cpus;
  auto allowed = process_set();
  if (std::string(env) == "auto") {
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
                             std::vector<int> cpus) {
  if (cpus.empty())
    return;
  cpu_slots::host(); // made here, on every CPU of the process
  cpu_set_t set;
  CPU_ZERO(&set);
  for (int c : cpus)
    CPU_SET(c, &set);
  cfg.add_thread_hook<keep_on_cpus>(set);
  std::lock_guard<std::mutex> guard{mtx};
  if (!runtime_set)
    runtime_set = set;
  kept.store(true, std::memory_order_release);
}

bool runtime_threads_kept() {
  return kept.load(std::memory_order_acquire);
}

void lane_placement::enter() {
  lane_ = true;
  cpu_slots::host().enter_lane();
}

void lane_placement::next(bool alone) {
  if (!lane_ || !runtime_threads_kept())
    return;
  alone_ = alone ? alone_ + 1 : 0;
  if (!beside_ && alone_ >= lone_runs) {
    beside_ = ::sched_setaffinity(0, sizeof *runtime_set, &*runtime_set) == 0;
  } else if (beside_ && alone_ == 0) {
    cpu_slots::host().enter_lane();
    beside_ = false;
  }
}

} // namespace actorrt
