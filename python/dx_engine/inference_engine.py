"""DX-RT's ``InferenceEngine`` on ActorRT."""

from __future__ import annotations

import atexit
import os
import weakref
from typing import Any, Callable, Dict, List, Optional, Sequence, Union

import numpy as np

from . import _native
from .inference_option import InferenceOption
from .user_arg import UserArg

Arrays = Union[np.ndarray, Sequence[np.ndarray]]
Callback = Callable[[List[np.ndarray], UserArg], Any]

_live_engines = weakref.WeakSet()


def _stats_method(source, key, doc):
    def method(self):
        return getattr(self, source)()[key]
    method.__doc__ = doc
    return method


class InferenceEngine(_native.Engine):
    """Runs one model on ActorRT's NPU cores (CPU lanes without an NPU).

    Every job ends exactly once: its outputs (or its error) reach the
    registered callback and ``wait`` alike. Arrays passed as inputs and
    ``user_arg`` stay alive until the job ends; outputs stay valid after the
    callback returns.
    """

    #: Finished results kept for ``wait`` while a callback is registered and
    #: nobody waits for them; older ones are released (memory stays flat).
    retention = 4096

    def __init__(self, model_path: Union[str, os.PathLike],
                 inference_option: Optional[InferenceOption] = None) -> None:
        if not isinstance(model_path, (str, os.PathLike)):
            raise TypeError(f"model_path must be a str, got {type(model_path).__name__}")
        if inference_option is None:
            inference_option = InferenceOption()
        elif not isinstance(inference_option, InferenceOption):
            raise TypeError("inference_option must be an InferenceOption")
        opt = inference_option
        super().__init__(os.fspath(model_path), opt.devices, int(opt.bound_option),
                         opt.use_ort, opt.buffer_count, self.retention)
        self._option = opt
        self._callback = None
        _live_engines.add(self)

    # -- inference ---------------------------------------------------------

    def run(self, input_data: Union[Arrays, Sequence[Arrays]],
            output_buffers: Optional[list] = None,
            user_args: Optional[list] = None) -> list:
        """Runs one job synchronously (one core) and returns its outputs.

        ``input_data`` is a list of arrays: one uint8 buffer of
        ``get_input_size()`` bytes, or one array per model input. A list of
        such lists is a batch (DX-RT 2.9.5), which needs ``output_buffers``.
        """
        if _is_batch(input_data):
            if output_buffers is None:
                raise ValueError("output_buffers must be provided for batch "
                                 "synchronous inference")
            return self.run_batch(input_data, output_buffers)
        return self._run(input_data, output_buffers)

    def run_async(self, input_data: Arrays, user_arg: Any = None,
                  output_buffer: Optional[Arrays] = None) -> int:
        """Queues one job on all cores and returns its job id.

        Blocks (without the GIL) while the engine's in-flight limit is reached.
        With ``output_buffer`` (one array of ``get_output_size()`` bytes, or
        one per output), the outputs are written there; the arrays the
        callback and ``wait`` get are views of it.
        """
        return self._run_async(input_data, user_arg, output_buffer)

    def wait(self, job_id: int, timeout: Optional[float] = None) -> List[np.ndarray]:
        """Returns the outputs of job ``job_id``, or raises its error.

        Works with a callback registered too. ``timeout`` is in seconds;
        TimeoutError leaves the job waitable.
        """
        if isinstance(job_id, bool) or not isinstance(job_id, (int, np.integer)):
            raise TypeError("job_id must be an int")
        if job_id < 0:
            raise ValueError(f"job id {job_id} was never issued by this engine")
        return self._wait(int(job_id), timeout)

    def run_multi_input(self, input_tensors: Dict[str, np.ndarray],
                        output_buffers: Optional[list] = None,
                        user_arg: Any = None) -> List[np.ndarray]:
        """DX-RT v3: ``run`` with the inputs given by name."""
        return self._run(self._by_name(input_tensors), output_buffers)

    def run_async_multi_input(self, input_tensors: Dict[str, np.ndarray],
                              user_arg: Any = None,
                              output_buffer: Optional[Arrays] = None) -> int:
        """DX-RT v3: ``run_async`` with the inputs given by name."""
        return self._run_async(self._by_name(input_tensors), user_arg, output_buffer)

    def _by_name(self, input_tensors):
        if not isinstance(input_tensors, dict):
            raise TypeError("input_tensors must be a dict of name -> numpy array")
        names = self.get_input_tensor_names()
        unknown = sorted(set(input_tensors) - set(names))
        missing = [n for n in names if n not in input_tensors]
        if unknown or missing:
            raise ValueError(f"input names do not match the model: missing {missing}, "
                             f"unknown {unknown} (model inputs: {names})")
        return [input_tensors[n] for n in names]

    def register_callback(self, callback: Optional[Callback]) -> None:
        """``callback(outputs, user_arg)`` runs once per job on ActorRT's result
        thread. ``None`` unregisters. Exceptions it raises are reported once
        per job (stderr, or ``set_callback_error_handler``)."""
        self._register_callback(callback, UserArg)
        self._callback = callback

    def run_batch(self, input_buffers: List[Arrays],
                  output_buffers: List[List[np.ndarray]]) -> List[List[np.ndarray]]:
        """Runs every input into its output buffers, spread over all cores,
        and returns ``output_buffers``."""
        if not isinstance(input_buffers, list) or not isinstance(output_buffers, list):
            raise TypeError("run_batch takes a list of input lists and a list of "
                            "output-buffer lists")
        if len(input_buffers) != len(output_buffers):
            raise ValueError(f"run_batch got {len(input_buffers)} inputs but "
                             f"{len(output_buffers)} output buffers")
        return self._run_batch(input_buffers, output_buffers)

    def run_benchmark(self, num_loops: int, input_data: Optional[Arrays] = None) -> float:
        """Runs ``num_loops`` jobs on all cores and returns frames per second.

        The user's callback stays registered and does not see these jobs.
        """
        if isinstance(num_loops, bool) or not isinstance(num_loops, int) or num_loops <= 0:
            raise ValueError("num_loops must be a positive int")
        if input_data is None:
            input_data = [np.zeros(self.get_input_size(), dtype=np.uint8)]
        return self._run_benchmark(num_loops, input_data)

    # -- model information -------------------------------------------------

    def get_input_tensor_count(self) -> int:
        return len(self.get_input_tensors_info())

    def get_output_tensor_count(self) -> int:
        return len(self.get_output_tensors_info())

    def get_input_tensor_names(self) -> List[str]:
        return [t["name"] for t in self.get_input_tensors_info()]

    def get_output_tensor_names(self) -> List[str]:
        return [t["name"] for t in self.get_output_tensors_info()]

    def get_input_tensor_sizes(self) -> List[int]:
        """Bytes of each input, in order (their sum is get_input_size())."""
        return [int(np.prod(t["shape"])) * t["elem_size"]
                for t in self.get_input_tensors_info()]

    def get_output_tensor_sizes(self) -> List[int]:
        return [int(np.prod(t["shape"])) * t["elem_size"]
                for t in self.get_output_tensors_info()]

    def is_multi_input_model(self) -> bool:
        return self.get_input_tensor_count() > 1

    def get_input_data_type(self):
        return [t["dtype"] for t in self.get_input_tensors_info()]

    def get_output_data_type(self):
        return [t["dtype"] for t in self.get_output_tensors_info()]

    def get_task_order(self) -> np.ndarray:
        """ActorRT runs a model as one NPU task."""
        return np.array(["npu_0"])

    # -- statistics (microseconds) -----------------------------------------

    get_latency = _stats_method("_latency", "last", "Latency of the latest job, µs.")
    get_latency_mean = _stats_method("_latency", "mean", "Mean latency, µs.")
    get_latency_std = _stats_method("_latency", "std", "Latency deviation, µs.")
    get_latency_count = _stats_method("_latency", "count", "Jobs measured.")
    get_npu_inference_time = _stats_method(
        "_npu_time", "last", "Core time of the latest job, µs.")
    get_npu_inference_time_mean = _stats_method(
        "_npu_time", "mean", "Mean core time, µs.")
    get_npu_inference_time_std = _stats_method(
        "_npu_time", "std", "Core time deviation, µs.")
    get_npu_inference_time_count = _stats_method(
        "_npu_time", "count", "Jobs measured.")

    # -- life cycle --------------------------------------------------------

    def dispose(self) -> int:
        """Waits for jobs in flight (bounded), then releases the model.
        Idempotent; afterwards other calls raise RuntimeError."""
        self._callback = None
        return self._dispose()

    def __enter__(self) -> "InferenceEngine":
        return self

    def __exit__(self, *exc: Any) -> bool:
        self.dispose()
        return False

    # -- DX-RT's other spellings -------------------------------------------

    Run = run
    RunAsync = run_async
    Wait = wait
    RegisterCallBack = register_callback
    RegisterCallback = register_callback
    RunBatch = run_batch
    RunBenchMark = run_benchmark
    RunBenchmark = run_benchmark
    Dispose = dispose

    def GetInputSize(self) -> int:
        return self.get_input_size()

    def GetOutputSize(self) -> int:
        return self.get_output_size()

    input_size = GetInputSize
    output_size = GetOutputSize
    latency = get_latency
    inference_time = get_npu_inference_time
    task_order = get_task_order
    input_dtype = get_input_data_type
    output_dtype = get_output_data_type


def _is_batch(input_data):
    return (isinstance(input_data, list) and len(input_data) > 0
            and isinstance(input_data[0], (list, tuple)))


@atexit.register
def _dispose_all():
    # Jobs still in flight at exit end before the interpreter does, so no
    # runtime thread calls into a finalising interpreter.
    for engine in list(_live_engines):
        try:
            engine.dispose()
        except Exception:  # noqa: BLE001 - exit must not fail
            pass
