// DX-RT's process-wide settings and versions. What each item means here:
// PROFILER (with PROFILER_SAVE_DATA "ON") records ActorRT's job trace into
// profiler.json, written when either is turned off or the process ends;
// PROFILER_SHOW_DATA "ON" prints the Profiler's events then; SHOW_PROFILE
// prints an engine's latency and core-time figures when it is disposed;
// SHOW_MODEL_INFO prints a model's tensors when an engine loads it. Items
// that name DX-RT machinery ActorRT does not have (DEBUG, SERVICE,
// DYNAMIC_CPU_THREAD, TASK_FLOW, SHOW_THROTTLING) can be read and turned off;
// turning them on throws InvalidOperationException saying why.
#pragma once

#include <mutex>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "dxrt/common.h"

namespace dxrt {

class DXRT_API Configuration {
public:
  ~Configuration();

private:
  Configuration();
  Configuration(const Configuration&) = delete;
  Configuration& operator=(const Configuration&) = delete;

public:
  static Configuration& GetInstance();

  /// Reads KEY=VALUE lines (DX-RT's keys: ENABLE_DEBUG, ENABLE_PROFILER,
  /// ENABLE_MULTI_PROCESS, ENABLE_DYNAMIC_CPU_THREAD, ENABLE_TASK_FLOW,
  /// PROFILER_SHOW_DATA, PROFILER_SAVE_DATA; '#' starts a comment). Throws
  /// FileNotFoundException or InvalidArgumentException naming the line.
  void LoadConfigFile(const std::string& fileName);

  enum class ITEM {
    DEBUG = 1,
    PROFILER,
    SERVICE,
    DYNAMIC_CPU_THREAD,
    TASK_FLOW,
    SHOW_THROTTLING,
    SHOW_PROFILE,
    SHOW_MODEL_INFO
  };
  enum class ATTRIBUTE { PROFILER_SHOW_DATA = 1001, PROFILER_SAVE_DATA };

  /// Throws InvalidOperationException for a locked item or one that has no
  /// meaning here, InvalidArgumentException for a value outside the enum.
  void SetEnable(const ITEM item, bool enabled);
  /// Attributes belong to PROFILER and take "ON" or "OFF".
  void SetAttribute(const ITEM item, const ATTRIBUTE attrib,
                    const std::string& value);
  bool GetEnable(const ITEM item);
  /// "" when never set.
  std::string GetAttribute(const ITEM item, const ATTRIBUTE attrib);
  /// Makes the item read-only for the rest of the process.
  void LockEnable(const ITEM item);

  /// ActorRT's version.
  std::string GetVersion() const;
  /// "": CPU lanes and simulated cores have no device driver.
  std::string GetDriverVersion() const;
  /// "": no PCIe device.
  std::string GetPCIeDriverVersion() const;
  /// Empty: no device runs firmware.
  std::vector<std::pair<int, std::string>> GetFirmwareVersions() const;
  /// The loaded ONNX Runtime's version, "" when none loaded.
  std::string GetONNXRuntimeVersion() const;

private:
  void apply(ITEM item, bool enabled); // with _mutex held
  void update_trace();                 // with _mutex held

  std::unordered_map<ITEM, bool> _enableSettings;
  std::unordered_map<ATTRIBUTE, std::string> _attributes;
  std::unordered_map<ITEM, bool> _isReadonly;
  bool _tracing = false;
  std::mutex _mutex;
};

} // namespace dxrt
