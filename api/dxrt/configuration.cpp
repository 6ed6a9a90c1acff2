#include "dxrt/configuration.h"

#include <cstdlib>
#include <fstream>
#include <iostream>
#include <sstream>

#include "actorrt/inference_engine.hpp"
#include "dxrt/exception/exception.h"
#include "dxrt/guard.hpp"
#include "dxrt/profiler.h"

namespace dxrt {

namespace {

using ITEM = Configuration::ITEM;
using ATTRIBUTE = Configuration::ATTRIBUTE;

const char* trace_file = "profiler.json"; // DX-RT's file name

/// Why an item cannot be turned on here, or nullptr when it can.
const char* missing_machinery(ITEM item) {
  switch (item) {
    case ITEM::DEBUG:
      return "DX-RT's debug dumps of NPU registers and buffers have no "
             "counterpart on CPU lanes";
    case ITEM::SERVICE:
      return "ActorRT has no multi-process service yet: each process runs "
             "its own lanes";
    case ITEM::DYNAMIC_CPU_THREAD:
      return "a CPU lane is one thread per core by design";
    case ITEM::TASK_FLOW:
      return "a model is one task; use the PROFILER item (or ACTORRT_TRACE) "
             "for every job's stages";
    case ITEM::SHOW_THROTTLING:
      return "CPU lanes and simulated cores are not throttled by an NPU's "
             "thermal control";
    default:
      return nullptr;
  }
}

bool known(ITEM item) {
  return item >= ITEM::DEBUG && item <= ITEM::SHOW_MODEL_INFO;
}

bool on_off(const std::string& value, const std::string& what) {
  if (value == "ON" || value == "on" || value == "1" || value == "true")
    return true;
  if (value == "OFF" || value == "off" || value == "0" || value == "false"
      || value.empty())
    return false;
  throw InvalidArgumentException(what + " takes ON or OFF, got \"" + value
                                 + "\"");
}

} // namespace

Configuration::Configuration() = default;

Configuration::~Configuration() {
  std::lock_guard<std::mutex> guard{_mutex};
  if (_tracing) {
    actorrt::StopTrace();
    std::cout << "[DXRT] profiler trace written to " << trace_file << "\n";
  }
  if (on_off(_attributes[ATTRIBUTE::PROFILER_SHOW_DATA], "PROFILER_SHOW_DATA"))
    Profiler::GetInstance().Show();
}

Configuration& Configuration::GetInstance() {
  // Built on first use and destroyed at exit, after the engines of main():
  // that is when the trace is written and the profile shown.
  static Configuration instance;
  return instance;
}

void Configuration::apply(ITEM item, bool enabled) {
  if (!known(item))
    throw InvalidArgumentException("unknown Configuration item "
                                   + std::to_string(int(item)));
  if (_isReadonly[item])
    throw InvalidOperationException("configuration change not allowed: item "
                                    + std::to_string(int(item)) + " is locked");
  if (const char* why = enabled ? missing_machinery(item) : nullptr)
    throw InvalidOperationException(why);
  _enableSettings[item] = enabled;
  update_trace();
}

void Configuration::update_trace() {
  bool want = _enableSettings[ITEM::PROFILER]
              && _attributes[ATTRIBUTE::PROFILER_SAVE_DATA] == "ON";
  if (want == _tracing)
    return;
  guarded([&] {
    if (want)
      actorrt::StartTrace(trace_file);
    else
      actorrt::StopTrace();
  });
  _tracing = want;
}

void Configuration::SetEnable(const ITEM item, bool enabled) {
  std::lock_guard<std::mutex> guard{_mutex};
  apply(item, enabled);
}

void Configuration::SetAttribute(const ITEM item, const ATTRIBUTE attrib,
                                 const std::string& value) {
  std::lock_guard<std::mutex> guard{_mutex};
  if (item != ITEM::PROFILER
      || (attrib != ATTRIBUTE::PROFILER_SHOW_DATA
          && attrib != ATTRIBUTE::PROFILER_SAVE_DATA))
    throw InvalidArgumentException(
      "only the PROFILER item has attributes (PROFILER_SHOW_DATA, "
      "PROFILER_SAVE_DATA)");
  if (_isReadonly[item])
    throw InvalidOperationException("configuration change not allowed: "
                                    "PROFILER is locked");
  _attributes[attrib] = on_off(value, "a PROFILER attribute") ? "ON" : "OFF";
  update_trace();
}

bool Configuration::GetEnable(const ITEM item) {
  std::lock_guard<std::mutex> guard{_mutex};
  if (!known(item))
    throw InvalidArgumentException("unknown Configuration item "
                                   + std::to_string(int(item)));
  auto it = _enableSettings.find(item);
  return it != _enableSettings.end() && it->second;
}

std::string Configuration::GetAttribute(const ITEM item,
                                        const ATTRIBUTE attrib) {
  std::lock_guard<std::mutex> guard{_mutex};
  if (item != ITEM::PROFILER)
    throw InvalidArgumentException("only the PROFILER item has attributes");
  auto it = _attributes.find(attrib);
  if (attrib != ATTRIBUTE::PROFILER_SHOW_DATA
      && attrib != ATTRIBUTE::PROFILER_SAVE_DATA)
    throw InvalidArgumentException("unknown PROFILER attribute "
                                   + std::to_string(int(attrib)));
  return it == _attributes.end() ? "" : it->second;
}

void Configuration::LockEnable(const ITEM item) {
  std::lock_guard<std::mutex> guard{_mutex};
  if (!known(item))
    throw InvalidArgumentException("unknown Configuration item "
                                   + std::to_string(int(item)));
  _isReadonly[item] = true;
}

void Configuration::LoadConfigFile(const std::string& fileName) {
  std::ifstream in(fileName);
  if (!in)
    throw FileNotFoundException("cannot open configuration file " + fileName);
  static const std::unordered_map<std::string, ITEM> items
    = {{"ENABLE_DEBUG", ITEM::DEBUG},
       {"ENABLE_PROFILER", ITEM::PROFILER},
       {"ENABLE_MULTI_PROCESS", ITEM::SERVICE},
       {"ENABLE_DYNAMIC_CPU_THREAD", ITEM::DYNAMIC_CPU_THREAD},
       {"ENABLE_TASK_FLOW", ITEM::TASK_FLOW}};
  static const std::unordered_map<std::string, ATTRIBUTE> attributes
    = {{"PROFILER_SHOW_DATA", ATTRIBUTE::PROFILER_SHOW_DATA},
       {"PROFILER_SAVE_DATA", ATTRIBUTE::PROFILER_SAVE_DATA}};
  std::lock_guard<std::mutex> guard{_mutex};
  std::string line;
  for (int number = 1; std::getline(in, line); ++number) {
    line = line.substr(0, line.find('#'));
    auto eq = line.find('=');
    auto trim = [](std::string s) {
      auto b = s.find_first_not_of(" \t\r");
      auto e = s.find_last_not_of(" \t\r");
      return b == std::string::npos ? std::string() : s.substr(b, e - b + 1);
    };
    if (trim(line).empty())
      continue;
    auto where = fileName + ":" + std::to_string(number);
    if (eq == std::string::npos)
      throw InvalidArgumentException(where + ": expected KEY=VALUE");
    auto key = trim(line.substr(0, eq));
    auto value = trim(line.substr(eq + 1));
    if (auto it = items.find(key); it != items.end())
      apply(it->second, on_off(value, where + ": " + key));
    else if (auto at = attributes.find(key); at != attributes.end())
      _attributes[at->second]
        = on_off(value, where + ": " + key) ? "ON" : "OFF";
    else
      throw InvalidArgumentException(where + ": unknown key " + key);
  }
  update_trace();
}

std::string Configuration::GetVersion() const {
  return ACTORRT_VERSION;
}

std::string Configuration::GetDriverVersion() const {
  return "";
}

std::string Configuration::GetPCIeDriverVersion() const {
  return "";
}

std::vector<std::pair<int, std::string>>
Configuration::GetFirmwareVersions() const {
  return {};
}

std::string Configuration::GetONNXRuntimeVersion() const {
  return actorrt::OnnxRuntimeVersion();
}

} // namespace dxrt
