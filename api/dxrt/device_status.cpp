#include <unistd.h>

#include <fstream>
#include <sstream>

#include "actors/runtime.hpp"
#include "core/clock.hpp"
#include "core/host_memory.hpp"
#include "dxrt/device_info_status.h"
#include "dxrt/exception/exception.h"
#include "dxrt/guard.hpp"
#include "dxrt/util.h"

namespace dxrt {

namespace {

std::string gib(int64_t bytes) {
  std::ostringstream os;
  os.precision(3);
  os << double(bytes) / double(1ull << 30) << " GiB";
  return os.str();
}

bool cpu_lanes(const std::string& kind) {
  return kind != "sim" && kind != "remote";
}

} // namespace

int DeviceStatus::GetDeviceCount() {
  return guarded([] {
    return static_cast<int>(actorrt::runtime::shared()->devices().size());
  });
}

DeviceStatus DeviceStatus::GetCurrentStatus(DevicePtr&) {
  throw InvalidArgumentException(
    "ActorRT hands out no dxrt::Device objects: use "
    "DeviceStatus::GetCurrentStatus(id)");
}

DeviceStatus DeviceStatus::GetCurrentStatus(int id) {
  return guarded([id] {
    auto rt = actorrt::runtime::shared();
    int count = static_cast<int>(rt->devices().size());
    if (id < 0 || id >= count)
      throw InvalidArgumentException("no device " + std::to_string(id)
                                     + ": this process has "
                                     + std::to_string(count));
    DeviceStatus s;
    s._id = id;
    auto counted = rt->counters()->cores();
    double seconds
      = double(actorrt::now_ns() - rt->counters()->started_ns) / 1e9;
    for (auto& r : rt->report()) {
      if (r.device != id)
        continue;
      s._kind = r.kind;
      s._host = r.host;
      Core c;
      c.alive = r.alive;
      c.simulated = r.simulated;
      c.inFlight = r.in_flight;
      for (auto& [model, backend] : r.lanes)
        if (c.backend.find(backend) == std::string::npos)
          c.backend += (c.backend.empty() ? "" : ",") + backend;
      if (auto m = counted.find({r.device, r.core}); m != counted.end()) {
        c.jobsDone = m->second->done.load();
        c.jobsFailed = m->second->failed.load();
        auto busy = m->second->compute.read().sum / 1e6;
        c.utilisation = seconds > 0 ? busy / seconds : 0;
      }
      s._cores.push_back(std::move(c));
    }
    return s;
  });
}

const DeviceStatus::Core& DeviceStatus::GetCore(int ch) const {
  if (ch < 0 || ch >= GetNpuCount())
    throw InvalidArgumentException(
      "device " + std::to_string(_id) + " has no core " + std::to_string(ch)
      + " (it has " + std::to_string(GetNpuCount()) + ")");
  return _cores[ch];
}

std::string DeviceStatus::DeviceTypeStr() const {
  if (_host != "local")
    return "worker node";
  return cpu_lanes(_kind) ? "CPU lanes" : "simulated NPU";
}

std::string DeviceStatus::DeviceTypeWord() const {
  return "ACC";
}

std::string DeviceStatus::DeviceVariantStr() const {
  return _kind;
}

std::string DeviceStatus::BoardTypeStr() const {
  return _host;
}

std::string DeviceStatus::MemoryTypeStr() const {
  return "host RAM";
}

int64_t DeviceStatus::MemorySize() const {
  return actorrt::read_host_memory().total;
}

std::string DeviceStatus::PcieInfoStr(int, int, int, int, int) const {
  return "";
}

int DeviceStatus::MemoryFrequency() const {
  throw DeviceIOException("host RAM has no clock ActorRT can read");
}

uint64_t DeviceStatus::MemoryClock() const {
  throw DeviceIOException("host RAM has no clock ActorRT can read");
}

std::string DeviceStatus::MemorySizeStrBinaryPrefix() const {
  return gib(MemorySize());
}

std::string DeviceStatus::MemorySizeStrWithComma() const {
  return format_number_with_commas(MemorySize());
}

std::string DeviceStatus::AllMemoryInfoStr() const {
  auto host = actorrt::read_host_memory();
  return "host RAM " + gib(host.total) + ", available " + gib(host.available)
         + ", this process " + gib(actorrt::resident_bytes());
}

std::string DeviceStatus::DvfsStateInfoStr() const {
  return "";
}

std::string DeviceStatus::NpuStatusStr(int ch) const {
  auto& c = GetCore(ch);
  std::ostringstream os;
  os.precision(3);
  os << "NPU " << ch << ": " << (c.alive ? "running" : "down") << ", "
     << (c.backend.empty() ? "no model" : c.backend) << ", jobs " << c.jobsDone
     << " done, " << c.jobsFailed << " failed, " << c.inFlight
     << " in flight, utilisation " << c.utilisation * 100 << "%";
  return os.str();
}

std::string DeviceStatus::DdrStatusStr(int) const {
  return "";
}

std::string DeviceStatus::DdrBitErrStr(void) const {
  return "";
}

std::string DeviceStatus::FirmwareVersionStr() const {
  return "";
}

uint32_t DeviceStatus::Voltage(int ch) const {
  GetCore(ch);
  throw DeviceIOException("device " + std::to_string(_id)
                          + " has no voltage sensor (" + DeviceTypeStr() + ")");
}

uint32_t DeviceStatus::NpuClock(int ch) const {
  if (GetCore(ch).simulated || _host != "local")
    throw DeviceIOException("device " + std::to_string(_id) + " ("
                            + DeviceTypeStr() + ") has no clock to read");
  std::ifstream in("/proc/cpuinfo");
  std::string line;
  while (std::getline(in, line))
    if (line.rfind("cpu MHz", 0) == 0)
      return static_cast<uint32_t>(std::stod(line.substr(line.find(':') + 1)));
  throw DeviceIOException("the host CPU's clock cannot be read here");
}

int DeviceStatus::Temperature(int ch) const {
  if (GetCore(ch).simulated || _host != "local")
    throw DeviceIOException("device " + std::to_string(_id) + " ("
                            + DeviceTypeStr() + ") has no temperature sensor");
  for (int zone = 0; zone < 32; ++zone) {
    std::ifstream in("/sys/class/thermal/thermal_zone" + std::to_string(zone)
                     + "/temp");
    long milli;
    if (in >> milli)
      return static_cast<int>(milli / 1000);
  }
  throw DeviceIOException("the host has no thermal sensor the kernel shows "
                          "(/sys/class/thermal)");
}

std::ostream& DeviceStatus::InfoToStream(std::ostream& os) const {
  return os << "Device " << _id << ": " << DeviceTypeStr() << " (" << _kind
            << ") on " << _host << ", " << GetNpuCount()
            << " cores\nMemory: " << MemoryTypeStr() << " "
            << MemorySizeStrBinaryPrefix() << "\n";
}

std::ostream& DeviceStatus::StatusToStream(std::ostream& os) const {
  for (int ch = 0; ch < GetNpuCount(); ++ch)
    os << NpuStatusStr(ch) << "\n";
  return os;
}

std::ostream& DeviceStatus::DebugStatusToStream(std::ostream& os) const {
  InfoToStream(os);
  StatusToStream(os);
  return os << AllMemoryInfoStr() << "\n";
}

std::string DeviceStatus::GetInfoString() const {
  std::ostringstream os;
  InfoToStream(os);
  return os.str();
}

std::string DeviceStatus::GetStatusString() const {
  std::ostringstream os;
  StatusToStream(os);
  return os.str();
}

std::ostream& operator<<(std::ostream& os, const DeviceStatus& d) {
  d.InfoToStream(os);
  return d.StatusToStream(os);
}

} // namespace dxrt
