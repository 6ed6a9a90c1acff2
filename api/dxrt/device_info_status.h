// DX-RT's device status, for ActorRT's devices: a device is a set of cores
// (CPU lanes, simulated NPU cores, or a worker node's). What ActorRT
// measures is reported: cores, their state, backend, jobs, utilisation and
// the host memory. What only NPU silicon has (voltage, DDR, PCIe,
// firmware) is an empty string, or a DeviceIOException for a number.
#pragma once

#include <cstdint>
#include <memory>
#include <ostream>
#include <string>
#include <vector>

#include "dxrt/common.h"

namespace dxrt {

class Device;
using DevicePtr = std::shared_ptr<Device>;

enum class DeviceType : uint32_t {
  ACC_TYPE = 0,
  STD_TYPE = 1,
};

class DXRT_API DeviceStatus {
public:
  /// ActorRT hands out no Device objects: throws InvalidArgumentException;
  /// use GetCurrentStatus(id).
  static DeviceStatus GetCurrentStatus(DevicePtr& device);
  /// A snapshot of device `id` of this process's runtime; throws
  /// InvalidArgumentException when there is no such device.
  static DeviceStatus GetCurrentStatus(int id);
  static int GetDeviceCount();

  int GetId() const {
    return _id;
  }
  /// "CPU lanes", "simulated NPU" or "worker node".
  std::string DeviceTypeStr() const;
  /// "ACC": every device here accelerates a host.
  std::string DeviceTypeWord() const;
  /// The device's kind as ACTORRT_DEVICES names it ("cpu", "ort", "sim").
  std::string DeviceVariantStr() const;
  /// The host it runs on ("local" or the worker node's address).
  std::string BoardTypeStr() const;
  /// "host RAM": lanes use the host's memory.
  std::string MemoryTypeStr() const;
  /// The host's physical memory in bytes.
  int64_t MemorySize() const;
  /// "": no PCIe link.
  std::string PcieInfoStr(int spd, int wd, int bus, int dev, int func) const;
  /// Throws DeviceIOException: host RAM has no clock ActorRT can read.
  int MemoryFrequency() const;
  std::string MemorySizeStrBinaryPrefix() const;
  std::string MemorySizeStrWithComma() const;
  /// Host memory: total, available and this process's resident set.
  std::string AllMemoryInfoStr() const;
  /// "": no DVFS.
  std::string DvfsStateInfoStr() const;
  /// Core `ch`: state, backend, jobs done and failed, jobs in flight,
  /// utilisation since the runtime started.
  std::string NpuStatusStr(int ch) const;
  /// "": no DDR channels of its own.
  std::string DdrStatusStr(int ch) const;
  std::string DdrBitErrStr(void) const;
  /// "": no firmware.
  std::string FirmwareVersionStr() const;
  std::ostream& InfoToStream(std::ostream& os) const;
  std::ostream& StatusToStream(std::ostream& os) const;
  std::ostream& DebugStatusToStream(std::ostream& os) const;
  std::string GetInfoString() const;
  std::string GetStatusString() const;

  /// Throws DeviceIOException: no voltage sensor.
  uint32_t Voltage(int ch) const;
  uint32_t GetNpuVoltage(int ch) const {
    return Voltage(ch);
  }
  /// The host CPU's current clock (MHz) for CPU lanes; throws
  /// DeviceIOException where it cannot be read or for simulated cores.
  uint32_t NpuClock(int ch) const;
  uint32_t GetNpuClock(int ch) const {
    return NpuClock(ch);
  }
  /// The host CPU's temperature (°C) for CPU lanes, from the kernel's
  /// thermal zones; throws DeviceIOException where there is no sensor.
  int Temperature(int ch) const;
  int GetTemperature(int ch) const {
    return Temperature(ch);
  }
  /// 0: lanes move no data by DMA.
  uint64_t DmaChannel() const {
    return 0;
  }
  /// Throws DeviceIOException, as MemoryFrequency.
  uint64_t MemoryClock() const;
  DeviceType GetDeviceType() const {
    return DeviceType::ACC_TYPE;
  }

  // ActorRT's: the same figures as numbers.
  struct Core {
    bool alive = false;
    bool simulated = false;
    std::string backend; // the lanes' executors, comma-separated
    uint64_t jobsDone = 0;
    uint64_t jobsFailed = 0;
    int inFlight = 0;
    double utilisation = 0; // share of the runtime's life spent computing
  };
  int GetNpuCount() const {
    return static_cast<int>(_cores.size());
  }
  /// Throws InvalidArgumentException for a core the device does not have.
  const Core& GetCore(int ch) const;

private:
  DeviceStatus() = default;

  int _id = 0;
  std::string _kind;
  std::string _host;
  std::vector<Core> _cores;
};

DXRT_API std::ostream& operator<<(std::ostream& os, const DeviceStatus& d);

} // namespace dxrt
