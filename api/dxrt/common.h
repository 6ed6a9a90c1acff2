// DX-RT's common definitions: the export macro, the processor kinds and the
// in-flight limit ("max load") every device grants an engine.
#pragma once

// DX-RT's public headers bring these along, and code written for DX-RT
// (its own examples among it) relies on them without including them.
#include <dirent.h>
#include <signal.h>
#include <sys/time.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cassert>
#include <chrono>
#include <cmath>
#include <condition_variable>
#include <cstdarg>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <exception>
#include <fstream>
#include <functional>
#include <iomanip>
#include <iostream>
#include <limits>
#include <map>
#include <memory>
#include <mutex>
#include <numeric>
#include <queue>
#include <random>
#include <shared_mutex>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <tuple>
#include <unordered_map>
#include <utility>
#include <vector>

#define DXRT_API

/// DX-RT's default in-flight limit per device (DXRT_TASK_MAX_LOAD overrides).
#define DXRT_TASK_MAX_LOAD_DEFAULT (6)
#define DXRT_TASK_MAX_LOAD dxrt::GetTaskMaxLoad()

namespace dxrt {

enum DXRT_API Processor {
  NPU, ///< an NPU core (here: a CPU lane or a simulated core)
  CPU, ///< the host CPU
  NONE_PROCESSOR,
};
DXRT_API std::ostream& operator<<(std::ostream&, const Processor&);

/// The in-flight limit per device: DXRT_TASK_MAX_LOAD when it is 1..100,
/// else 6.
DXRT_API int GetTaskMaxLoad();

template <typename T>
T vectorProduct(const std::vector<T>& v) {
  return std::accumulate(v.begin(), v.end(), T(1), std::multiplies<T>());
}

} // namespace dxrt
