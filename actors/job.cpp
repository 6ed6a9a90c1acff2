#include "actors/job.hpp"

#include <algorithm>

namespace actorrt {

bool placement::allows(int device, int core) const {
  if (core < 0 || core >= 32 || (core_mask & (1u << core)) == 0)
    return false;
  return devices.empty()
         || std::find(devices.begin(), devices.end(), device) != devices.end();
}

} // namespace actorrt
