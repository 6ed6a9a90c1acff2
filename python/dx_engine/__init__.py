"""ActorRT's drop-in for DEEPX DX-RT's ``dx_engine`` package.

Code written for DX-RT's Python API runs unchanged: ``InferenceEngine`` and
``InferenceOption`` keep DX-RT's names, methods (snake_case and CamelCase)
and behaviour, minus DX-RT's sharp edges (see README.md).
"""

from . import dtype, trace, utils, version
from ._native import InvalidModelError, JobCancelledError, ModelFileNotFoundError
from .configuration import Configuration as Configuration
from .device_status import DeviceStatus as DeviceStatus
from .inference_engine import InferenceEngine as InferenceEngine
from .inference_option import InferenceOption as InferenceOption
from .version import __version__

__all__ = ["Configuration", "DeviceStatus", "InferenceEngine",
           "InferenceOption", "InvalidModelError", "JobCancelledError",
           "ModelFileNotFoundError", "__version__", "dtype", "trace", "utils",
           "version"]
