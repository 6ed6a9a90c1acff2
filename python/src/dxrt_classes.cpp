// DX-RT's Configuration and DeviceStatus for dx_engine: the C++ classes of
// api/dxrt/, so both faces share one implementation and one runtime.
#include "dxrt_classes.hpp"

#include <pybind11/stl.h>

#include "dxrt/configuration.h"
#include "dxrt/device_info_status.h"
#include "gil.hpp"

namespace actorrt::python {

namespace {

using Configuration = dxrt::Configuration;
using DeviceStatus = dxrt::DeviceStatus;

Configuration::ITEM item(int value) {
  return static_cast<Configuration::ITEM>(value);
}

Configuration::ATTRIBUTE attribute(int value) {
  return static_cast<Configuration::ATTRIBUTE>(value);
}

} // namespace

void bind_dxrt_classes(py::module_& m) {
  // The process's one instance; Python never owns or frees it.
  py::class_<Configuration, std::unique_ptr<Configuration, py::nodelete>>(
    m, "_Configuration")
    .def_static("instance", &Configuration::GetInstance,
                py::return_value_policy::reference)
    .def("load_config_file", &Configuration::LoadConfigFile)
    .def("set_enable",
         [](Configuration& c, int i, bool on) { c.SetEnable(item(i), on); })
    .def("get_enable",
         [](Configuration& c, int i) { return c.GetEnable(item(i)); })
    .def("lock_enable", [](Configuration& c, int i) { c.LockEnable(item(i)); })
    .def("set_attribute",
         [](Configuration& c, int i, int a, const std::string& value) {
           c.SetAttribute(item(i), attribute(a), value);
         })
    .def("get_attribute",
         [](Configuration& c, int i, int a) {
           return c.GetAttribute(item(i), attribute(a));
         })
    .def("get_version", &Configuration::GetVersion)
    .def("get_driver_version", &Configuration::GetDriverVersion)
    .def("get_pcie_driver_version", &Configuration::GetPCIeDriverVersion)
    .def("get_firmware_versions", &Configuration::GetFirmwareVersions)
    .def("get_onnx_runtime_version", &Configuration::GetONNXRuntimeVersion);

  py::class_<DeviceStatus>(m, "_DeviceStatus")
    .def_static("get_current_status",
                [](int id) {
                  without_gil nogil; // asks the runtime's actors
                  return DeviceStatus::GetCurrentStatus(id);
                })
    .def_static("get_device_count",
                [] {
                  without_gil nogil;
                  return DeviceStatus::GetDeviceCount();
                })
    .def("get_id", &DeviceStatus::GetId)
    .def("get_npu_count", &DeviceStatus::GetNpuCount)
    .def("get_temperature", &DeviceStatus::GetTemperature)
    .def("get_npu_voltage", &DeviceStatus::GetNpuVoltage)
    .def("get_npu_clock", &DeviceStatus::GetNpuClock)
    .def("get_device_type", &DeviceStatus::DeviceTypeStr)
    .def("get_device_variant", &DeviceStatus::DeviceVariantStr)
    .def("get_host", &DeviceStatus::BoardTypeStr)
    .def("get_memory_size", &DeviceStatus::MemorySize)
    .def("get_memory_info", &DeviceStatus::AllMemoryInfoStr)
    .def("get_info_string", &DeviceStatus::GetInfoString)
    .def("get_status_string", &DeviceStatus::GetStatusString)
    .def("get_npu_status", &DeviceStatus::NpuStatusStr)
    .def("get_core", [](const DeviceStatus& s, int ch) {
      auto& c = s.GetCore(ch);
      py::dict d;
      d["alive"] = c.alive;
      d["simulated"] = c.simulated;
      d["backend"] = c.backend;
      d["jobs_done"] = c.jobsDone;
      d["jobs_failed"] = c.jobsFailed;
      d["in_flight"] = c.inFlight;
      d["utilisation"] = c.utilisation;
      return d;
    });
}

} // namespace actorrt::python
