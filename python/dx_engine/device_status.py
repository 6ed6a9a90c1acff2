"""DX-RT's device status, for ActorRT's devices (CPU lanes, simulated NPU
cores, worker nodes): what the runtime measures. Values only NPU silicon
has (voltage; temperature and clock where the host shows none) raise
RuntimeError rather than inventing a number."""
from typing import Any, Dict

from . import _native


class DeviceStatus:
    """A snapshot of one device of this process's runtime."""

    def __init__(self, status: "_native._DeviceStatus") -> None:
        self._instance = status

    @classmethod
    def get_current_status(cls, deviceId: int) -> "DeviceStatus":
        if isinstance(deviceId, bool) or not isinstance(deviceId, int):
            raise TypeError("deviceId must be an int")
        return cls(_native._DeviceStatus.get_current_status(deviceId))

    @classmethod
    def get_device_count(cls) -> int:
        return _native._DeviceStatus.get_device_count()

    def get_id(self) -> int:
        return self._instance.get_id()

    def get_npu_count(self) -> int:
        """Cores of the device."""
        return self._instance.get_npu_count()

    def get_temperature(self, ch: int) -> int:
        """The host CPU's temperature (°C) for CPU lanes, where the kernel
        shows a thermal sensor; RuntimeError otherwise."""
        return self._instance.get_temperature(ch)

    def get_npu_voltage(self, ch: int) -> int:
        """RuntimeError: no device here has a voltage sensor."""
        return self._instance.get_npu_voltage(ch)

    def get_npu_clock(self, ch: int) -> int:
        """The host CPU's clock (MHz) for CPU lanes; RuntimeError for
        simulated and remote cores."""
        return self._instance.get_npu_clock(ch)

    def get_core(self, ch: int) -> Dict[str, Any]:
        """Core ``ch``: alive, simulated, backend, jobs_done, jobs_failed,
        in_flight, utilisation (share of the runtime's life computing)."""
        return self._instance.get_core(ch)

    def get_device_type(self) -> str:
        return self._instance.get_device_type()

    def get_memory_info(self) -> str:
        return self._instance.get_memory_info()

    def get_info_string(self) -> str:
        return self._instance.get_info_string()

    def get_status_string(self) -> str:
        return self._instance.get_status_string()

    def __str__(self) -> str:
        return self.get_info_string() + self.get_status_string()
