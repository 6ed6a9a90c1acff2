"""DX-RT's process-wide configuration, over the same C++ class DX-RT's C++
API uses (api/dxrt/configuration.h says what each item means here).

Items that name DX-RT machinery ActorRT does not have (DEBUG, SERVICE,
DYNAMIC_CPU_THREAD, TASK_FLOW, SHOW_THROTTLING) raise RuntimeError when
turned on, instead of doing nothing.
"""
from typing import List, Tuple

from . import _native


class Configuration:
    """``Configuration()`` is a handle on the process's one configuration."""

    class ITEM:
        DEBUG = 1
        PROFILER = 2
        SERVICE = 3
        DYNAMIC_CPU_THREAD = 4
        TASK_FLOW = 5
        SHOW_THROTTLING = 6
        SHOW_PROFILE = 7
        SHOW_MODEL_INFO = 8

    class ATTRIBUTE:
        PROFILER_SHOW_DATA = 1001
        PROFILER_SAVE_DATA = 1002

    def __init__(self) -> None:
        self._instance = _native._Configuration.instance()

    def load_config_file(self, file_name: str) -> None:
        """Reads DX-RT's KEY=VALUE file (ENABLE_PROFILER=ON, ...)."""
        self._instance.load_config_file(str(file_name))

    def set_enable(self, item: int, enabled: bool) -> None:
        self._instance.set_enable(_int(item, "item"), bool(enabled))

    def get_enable(self, item: int) -> bool:
        return self._instance.get_enable(_int(item, "item"))

    def lock_enable(self, item: int) -> None:
        self._instance.lock_enable(_int(item, "item"))

    def set_attribute(self, item: int, attrib: int, value: str) -> None:
        if not isinstance(value, str):
            raise TypeError("value must be a str: 'ON' or 'OFF'")
        self._instance.set_attribute(_int(item, "item"), _int(attrib, "attrib"), value)

    def get_attribute(self, item: int, attrib: int) -> str:
        return self._instance.get_attribute(_int(item, "item"), _int(attrib, "attrib"))

    def get_version(self) -> str:
        """ActorRT's version."""
        return self._instance.get_version()

    def get_driver_version(self) -> str:
        """'': CPU lanes and simulated cores have no device driver."""
        return self._instance.get_driver_version()

    def get_pcie_driver_version(self) -> str:
        """'': no PCIe device."""
        return self._instance.get_pcie_driver_version()

    def get_firmware_versions(self) -> List[Tuple[int, str]]:
        """[]: no device runs firmware."""
        return self._instance.get_firmware_versions()

    def get_onnx_runtime_version(self) -> str:
        """The ONNX Runtime the CPU lanes load, '' when none loads."""
        return self._instance.get_onnx_runtime_version()


def _int(value, name):
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{name} must be an int (Configuration.ITEM / ATTRIBUTE)")
    return value
