// The host's memory and this process's share of it, as the kernel tells
// (/proc): what dxrt-cli, dxtop, DeviceStatus and the status files report.
#pragma once

#include <cstdint>

namespace actorrt {

struct host_memory {
  int64_t total = -1;     // bytes of RAM (MemTotal), -1 when unknown
  int64_t available = -1; // bytes a new allocation can still get
};

host_memory read_host_memory();

/// This process's resident set in bytes, -1 when unknown.
int64_t resident_bytes();

} // namespace actorrt
