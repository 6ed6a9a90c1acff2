"""DX-RT's ``InferenceOption``: devices, NPU bound option, ORT, buffer count,
and ActorRT's dynamic batching."""

from __future__ import annotations

from enum import IntEnum
from typing import List, Sequence

from . import _native


_LIMITS = _native.option_limits()  # the runtime's bounds, one source


def _int_option(name, lo, doc):
    """An int property checked against lo.._LIMITS[name] when set."""
    attr, hi = "_" + name, _LIMITS[name]

    def get(self):
        return getattr(self, attr)

    def put(self, value):
        if isinstance(value, bool) or not isinstance(value, int):
            raise TypeError(f"{name} must be an int")
        if not lo <= value <= hi:
            raise ValueError(f"{name} must be in {lo}..{hi}, got {value}")
        setattr(self, attr, value)

    return property(get, put, doc=doc)


class InferenceOption:
    """Options of one InferenceEngine, with DX-RT's names and values."""

    class BOUND_OPTION(IntEnum):
        NPU_ALL = 0
        NPU_0 = 1
        NPU_1 = 2
        NPU_2 = 3
        NPU_01 = 4
        NPU_12 = 5
        NPU_02 = 6

        # As DX-RT's (pybind11) enum prints, not as a bare int.
        def __str__(self):
            return f"BOUND_OPTION.{self.name}"

        def __format__(self, spec):
            return format(str(self), spec)

    def __init__(self):
        self._devices = []
        self._bound_option = InferenceOption.BOUND_OPTION.NPU_ALL
        # As in a DX-RT built with ONNX Runtime: on when it is present.
        self._use_ort = _native.is_ort_supported()
        (self._buffer_count, self._max_batch_size,
         self._batch_delay_us) = _native.option_defaults()
        self._timeout_ms = 0
        self._priority = 1

    @property
    def instance(self) -> "InferenceOption":
        """DX-RT's handle on the native option: this object is that option
        (with DX-RT's C++ spellings useORT, boundOption, devices)."""
        return self

    useORT = property(lambda self: self.use_ort,
                      lambda self, value: setattr(self, "use_ort", value))
    boundOption = property(lambda self: self.bound_option,
                           lambda self, value: setattr(self, "bound_option", value))

    @property
    def devices(self) -> List[int]:
        """Device ids to use; [] means every device."""
        return list(self._devices)

    @devices.setter
    def devices(self, value):
        if not isinstance(value, (list, tuple)) or not all(
                isinstance(d, int) and not isinstance(d, bool) for d in value):
            raise TypeError("devices must be a list of ints")
        if any(d < 0 for d in value):
            raise ValueError(f"device ids must be >= 0, got {list(value)}")
        self._devices = list(value)

    @property
    def bound_option(self) -> "InferenceOption.BOUND_OPTION":
        """Which NPU cores of each device the engine may use."""
        return self._bound_option

    @bound_option.setter
    def bound_option(self, value):
        if isinstance(value, bool) or not isinstance(value, int):
            raise TypeError("bound_option must be an InferenceOption.BOUND_OPTION")
        try:
            self._bound_option = InferenceOption.BOUND_OPTION(value)
        except ValueError:
            raise ValueError(
                f"bound_option must be NPU_ALL..NPU_02 (0..6), got {value}") from None

    @property
    def use_ort(self) -> bool:
        """Run with ONNX Runtime (this build has none: warns, then runs)."""
        return self._use_ort

    @use_ort.setter
    def use_ort(self, value):
        if not isinstance(value, bool):
            raise TypeError("use_ort must be a bool")
        self._use_ort = value

    buffer_count = _int_option(
        "buffer_count", 1, "Most jobs in flight per device (DX-RT's max load).")
    max_batch_size = _int_option(
        "max_batch_size", 1, "Most samples a core runs as one call (dynamic "
        "batching); 1 (the default, or ACTORRT_MAX_BATCH) is off.")
    batch_delay_us = _int_option(
        "batch_delay_us", 0, "How long a core waits for a batch to fill, in "
        "µs (0: never; a batch forms from jobs already queued). Default 0, or "
        "ACTORRT_BATCH_DELAY_US.")
    timeout_ms = _int_option(
        "timeout_ms", 0, "Default most time a job may wait for a core to "
        "start it (ms; 0: no limit); run_async(timeout_ms=) sets one job's.")
    priority = _int_option(
        "priority", 0, "Default priority of the engine's jobs: 0 low, 1 "
        "normal, 2 high.")

    def set_devices(self, devices: Sequence[int]) -> None:
        self.devices = devices

    def get_devices(self) -> List[int]:
        return self.devices

    def set_bound_option(self, bound_option: int) -> None:
        self.bound_option = bound_option

    def get_bound_option(self) -> "InferenceOption.BOUND_OPTION":
        return self.bound_option

    def set_use_ort(self, use_ort: bool) -> None:
        self.use_ort = use_ort

    def get_use_ort(self) -> bool:
        return self.use_ort

    def set_buffer_count(self, count: int) -> None:
        self.buffer_count = count

    def get_buffer_count(self) -> int:
        return self.buffer_count

    def __repr__(self):
        return (f"InferenceOption(devices={self._devices}, "
                f"bound_option={self._bound_option.name}, "
                f"use_ort={self._use_ort}, buffer_count={self._buffer_count}, "
                f"max_batch_size={self._max_batch_size}, "
                f"batch_delay_us={self._batch_delay_us}, "
                f"timeout_ms={self._timeout_ms}, priority={self._priority})")
