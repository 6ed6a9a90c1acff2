#include "core/host_memory.hpp"

#include <unistd.h>

#include <fstream>
#include <string>

namespace actorrt {

host_memory read_host_memory() {
  host_memory m;
  std::ifstream in("/proc/meminfo");
  std::string key, unit;
  int64_t kib = 0;
  while (in >> key >> kib) {
    std::getline(in, unit);
    if (key == "MemTotal:")
      m.total = kib * 1024;
    else if (key == "MemAvailable:")
      m.available = kib * 1024;
  }
  return m;
}

int64_t resident_bytes() {
  std::ifstream statm("/proc/self/statm");
  int64_t pages = 0, resident = 0;
  if (statm >> pages >> resident)
    return resident * ::sysconf(_SC_PAGESIZE);
  return -1;
}

} // namespace actorrt
