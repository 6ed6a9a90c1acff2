"""DX-RT's ``InferenceEngine`` on ActorRT."""

from __future__ import annotations

import atexit
import inspect
import os
import weakref
from typing import Any, Callable, Dict, List, Optional, Sequence, Union

import numpy as np

from . import _native
from .configuration import Configuration
from .inference_option import InferenceOption
from .user_arg import callback_arg

Arrays = Union[np.ndarray, Sequence[np.ndarray]]
Callback = Callable[..., Any]

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
    #: nobody waits for them: the newest, at most ``retention`` of them and
    #: ``retention_bytes`` of their outputs (the newest one always); older
    #: ones are released, so memory stays flat whatever the outputs' size.
    retention = 4096
    retention_bytes = 64 << 20
    #: Without a callback: the newest ``retention_without_callback``
    #: unwaited results, up to a quarter of the host's memory (DX-RT gives a
    #: job's slot to another job 1024 jobs later).
    retention_without_callback = 4096

    def __init__(self, model_path: Union[str, os.PathLike],
                 inference_option: Optional[InferenceOption] = None,
                 _device_spec: str = "") -> None:
        if not isinstance(model_path, (str, os.PathLike)):
            raise TypeError(f"model_path must be a str, got {type(model_path).__name__}")
        if inference_option is None:
            inference_option = InferenceOption()
        elif not isinstance(inference_option, InferenceOption):
            raise TypeError("inference_option must be an InferenceOption")
        opt = inference_option
        super().__init__(os.fspath(model_path), opt,
                         [self.retention, self.retention_bytes,
                          self.retention_without_callback], _device_spec)
        self._option = opt
        self._model_path = os.fspath(model_path)
        self._callback = None
        self._bitmatch = None
        _live_engines.add(self)
        if Configuration().get_enable(Configuration.ITEM.SHOW_MODEL_INFO):
            print(self._model_info())

    # -- inference ---------------------------------------------------------

    def run(self, input_data: Union[Arrays, Sequence[Arrays]],
            output_buffers: Optional[list] = None,
            user_args: Any = None, *, timeout_ms: Optional[int] = None,
            priority: Optional[int] = None) -> list:
        """Runs one job synchronously and returns its outputs; the registered
        callback receives it too (with ``user_args``, or None), as in DX-RT.

        ``input_data`` is one array or a list of arrays: one uint8 buffer of
        ``get_input_size()`` bytes, or one array per model input. A batch
        (DX-RT v3) is a list of such lists, or a flat list of N inputs of a
        one-input model (N x inputs of a multi-input model): it returns one
        list of outputs per item, written into ``output_buffers`` when given
        (one per item) and into new arrays otherwise. The callback sees a
        batch's jobs only when ``user_args`` gives one per item.
        ``Run(input, user_arg)`` works positionally, as in DX-RT.
        ``timeout_ms`` and ``priority`` are ``run_async``'s, for one job.
        """
        if (user_args is None and output_buffers is not None
                and not _looks_like_buffers(output_buffers)):
            output_buffers, user_args = None, output_buffers
        batch = self._as_batch(input_data)
        if batch is not None:
            if timeout_ms is not None or priority is not None:
                raise ValueError("timeout_ms and priority are for one job; "
                                 "use run_async for each item of a batch")
            if output_buffers is None:
                output_buffers = [[np.empty(self.get_output_size(), np.uint8)]
                                  for _ in batch]
            per_item = self.get_output_tensor_count()
            if (len(output_buffers) == len(batch) * per_item > len(batch)
                    and all(isinstance(b, np.ndarray) for b in output_buffers)):
                # A flat list: each item's output buffers, one after another.
                output_buffers = [output_buffers[i:i + per_item]
                                  for i in range(0, len(output_buffers), per_item)]
            return self.run_batch(batch, output_buffers, user_args)
        if isinstance(input_data, np.ndarray):
            input_data = [input_data]
        notify = user_args is not None or self._callback is not None
        return self._run(input_data, output_buffers, notify, user_args,
                         timeout_ms, priority)

    def _as_batch(self, input_data):
        """The items of a batch, or None for one job."""
        if _is_batch(input_data):
            return input_data
        if not (isinstance(input_data, list) and len(input_data) > 1
                and all(isinstance(x, np.ndarray) for x in input_data)):
            return None
        per_job = self.get_input_tensor_count()
        sizes = self.get_input_tensor_sizes()
        if per_job > 1 and len(input_data) == per_job and all(
                x.nbytes == n for x, n in zip(input_data, sizes)):
            return None  # one job: one array per input
        whole = self.get_input_size()
        if all(x.nbytes == whole for x in input_data):
            return [[x] for x in input_data]  # one raw buffer per job
        if len(input_data) % per_job == 0:
            return [input_data[i:i + per_job]
                    for i in range(0, len(input_data), per_job)]
        return None  # the runtime says what does not fit

    def run_async(self, input_data: Arrays, user_arg: Any = None,
                  output_buffer: Optional[Arrays] = None, *,
                  timeout_ms: Optional[int] = None,
                  priority: Optional[int] = None) -> int:
        """Queues one job on all cores and returns its job id.

        Blocks (without the GIL) while the engine's in-flight limit is reached.
        With ``output_buffer`` (one array of ``get_output_size()`` bytes, or
        one per output), the outputs are written there; the arrays the
        callback and ``wait`` get are views of it.

        ``timeout_ms``: most time (from this call) until a core starts the
        job; past it the job ends with TimeoutError without running. 0: no
        limit. ``priority``: 0 low, 1 normal, 2 high; queued jobs of a
        higher level start first (a waiting job rises a level every 100 ms,
        so none waits forever). Both default to the InferenceOption's.
        """
        return self._run_async(input_data, user_arg, output_buffer,
                               timeout_ms, priority)

    def cancel(self, job_id: int) -> str:
        """Cancels job ``job_id``. Returns ``"not_started"``: it ended at
        once with JobCancelledError and never runs; or ``"running"``: it
        finishes, and its callback and ``wait`` see JobCancelledError instead
        of its outputs. A job on a worker node's core counts as not started
        (the node may still compute it). Raises ValueError for an id never
        issued or a job that has ended or was cancelled already."""
        if isinstance(job_id, bool) or not isinstance(job_id, (int, np.integer)):
            raise TypeError("job_id must be an int")
        if not 0 <= job_id < 2**64:
            raise ValueError(f"job id {job_id} was never issued by this engine")
        return self._cancel(int(job_id))

    def wait(self, job_id: int, timeout: Optional[float] = None) -> List[np.ndarray]:
        """Returns the outputs of job ``job_id``, or raises its error.

        Works with a callback registered too. ``timeout`` is in seconds;
        TimeoutError leaves the job waitable. A job that ended unwaited is
        kept among the newest (see ``retention``); an older one raises
        ValueError.
        """
        if isinstance(job_id, bool) or not isinstance(job_id, (int, np.integer)):
            raise TypeError("job_id must be an int")
        if not 0 <= job_id < 2**64:
            raise ValueError(f"job id {job_id} was never issued by this engine")
        return self._wait(int(job_id), timeout)

    def run_multi_input(self, input_tensors: Dict[str, np.ndarray],
                        output_buffers: Optional[list] = None,
                        user_arg: Any = None) -> List[np.ndarray]:
        """DX-RT v3: ``run`` with the inputs given by name."""
        return self.run(self._by_name(input_tensors), output_buffers, user_arg)

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
        thread; ``outputs`` is ``[]`` when the job failed. A callback that
        takes a third parameter receives the job's exception there (None on
        success). ``None`` unregisters. Exceptions it raises are reported
        once per job (stderr, or ``set_callback_error_handler``)."""
        with_error = callback is not None and _takes_three(callback)
        self._register_callback(callback, callback_arg, with_error, False)
        self._callback = callback

    def register_batch_callback(self, callback: Optional[Callable[[list], None]]) -> None:
        """ActorRT's own (DX-RT has none), in place of ``register_callback``:
        ``callback(results)`` runs once per group of jobs that end together
        on the result thread, ``results`` a list of ``(outputs, user_arg,
        error)`` with one entry per job: ``user_arg`` as given to
        ``run_async``; ``outputs`` ``[]`` and ``error`` its exception when it
        failed, else ``error`` None. One Python call per group instead of one
        per job. ``None`` unregisters. An exception it raises is reported
        once for the group."""
        self._register_callback(callback, None, True, True)
        self._callback = callback

    def run_batch(self, input_buffers: List[Arrays],
                  output_buffers: List[Arrays],
                  user_args: Optional[list] = None) -> List[List[np.ndarray]]:
        """Runs every input into its output buffers, spread over all cores,
        and returns each item's outputs as arrays of the model's output
        shapes viewing those buffers. With ``user_args`` (one per item), the
        registered callback also receives each job with its own."""
        if user_args is None:  # the native side checks the arguments
            self._run_batch(input_buffers, output_buffers)
            return [self._views(out) for out in output_buffers]
        # Each item its own job, so that the callback sees its argument.
        if not isinstance(user_args, (list, tuple)) or len(user_args) != len(input_buffers):
            raise ValueError("user_args must be a list with one entry per batch item")
        if len(input_buffers) != len(output_buffers):
            raise ValueError(f"run_batch got {len(input_buffers)} inputs but "
                             f"{len(output_buffers)} output buffers")
        ids = [self._run_async(x, arg, out)
               for x, arg, out in zip(input_buffers, user_args, output_buffers)]
        return [self.wait(i) for i in ids]

    def _views(self, buffers):
        """Arrays of the model's output shapes over caller buffers: one
        raw buffer of get_output_size() bytes, or one per output."""
        arrays = [buffers] if isinstance(buffers, np.ndarray) else list(buffers)
        infos = self.get_output_tensors_info()
        if len(arrays) == 1 and len(infos) > 1:
            raw = arrays[0].reshape(-1).view(np.uint8)
            views, offset = [], 0
            for t in infos:
                size = int(np.prod(t["shape"])) * t["elem_size"]
                views.append(raw[offset:offset + size].view(t["dtype"]).reshape(t["shape"]))
                offset += size
            return views
        return [a.reshape(-1).view(np.uint8).view(t["dtype"]).reshape(t["shape"])
                for a, t in zip(arrays, infos)]

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

    def get_input_tensor_to_task_mapping(self) -> Dict[str, str]:
        """Every input feeds the one task (see get_task_order)."""
        return {name: "npu_0" for name in self.get_input_tensor_names()}

    @property
    def engine(self) -> "InferenceEngine":
        """DX-RT's handle on the native engine: this object is that engine."""
        return self

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

    def dispose(self, timeout: Optional[float] = None) -> None:
        """Waits for jobs in flight, cancels what is left and releases the
        model, within ``timeout`` seconds (default 30) even while a callback
        blocks. Idempotent; afterwards other calls raise RuntimeError.
        With Configuration's SHOW_PROFILE on, prints the engine's figures."""
        self._callback = None
        if (Configuration().get_enable(Configuration.ITEM.SHOW_PROFILE)
                and not getattr(self, "_profile_shown", False)):
            self._profile_shown = True
            s = self.get_stats()
            print(f"[{self._model_path}] {s['jobs_done']} jobs, {s['jobs_failed']} "
                  f"failed; latency ms mean {s['latency_ms']['mean']:.3f} p50 "
                  f"{s['latency_ms']['p50']:.3f} p99 {s['latency_ms']['p99']:.3f}; "
                  f"core time ms mean {s['compute_ms']['mean']:.3f}")
        self._dispose(timeout)

    def _model_info(self) -> str:
        lines = [f"=== Model File: {self._model_path} ===", "Model Input Tensors:"]
        lines += [f"  - {t['name']}, {np.dtype(t['dtype']).name}, {list(t['shape'])}"
                  for t in self.get_input_tensors_info()]
        lines.append("Model Output Tensors:")
        lines += [f"  - {t['name']}, {np.dtype(t['dtype']).name}, {list(t['shape'])}"
                  for t in self.get_output_tensors_info()]
        return "\n".join(lines)

    # -- DX-RT's device validation and task views --------------------------

    def validate_device(self, input_data: Arrays, device_id: int = 0) -> List[np.ndarray]:
        """Runs ``input_data`` on device ``device_id`` and on a reference
        lane of the other CPU backend (ORT ↔ OpenCV DNN, when it can run
        the model), and keeps a mask of which output bytes match bit for
        bit (``get_bitmatch_mask``). Returns the device's outputs."""
        if isinstance(device_id, bool) or not isinstance(device_id, int):
            raise TypeError("device_id must be an int")
        if isinstance(input_data, np.ndarray):
            input_data = [input_data]
        outputs, masks, device, reference = self._validate(input_data, device_id)
        self._bitmatch = {"masks": masks, "device": device, "reference": reference}
        return outputs

    def get_bitmatch_mask(self, index: int = 0) -> np.ndarray:
        """DX-RT's layout: one bool per bit of the packed mask, i.e. one per
        byte of output ``index`` of the latest validate_device() (padded
        with False to a multiple of 8), True where the device matched the
        reference."""
        return np.unpackbits(self.bitmatch_mask(index), bitorder="little").astype(bool)

    def bitmatch_mask(self, index: int = 0) -> np.ndarray:
        """get_bitmatch_mask packed eight bytes to a byte (DX-RT's form)."""
        return np.packbits(self._mask(index), bitorder="little")

    def validate_device_multi_input(self, input_tensors: Dict[str, np.ndarray],
                                    device_id: int = 0) -> List[np.ndarray]:
        """DX-RT v3: ``validate_device`` with the inputs given by name."""
        return self.validate_device(self._by_name(input_tensors), device_id)

    def get_bitmatch_backends(self) -> Dict[str, List[str]]:
        """Which lanes the latest validate_device() compared."""
        self._mask(0)
        return {"device": self._bitmatch["device"],
                "reference": self._bitmatch["reference"]}

    def _mask(self, index):
        if self._bitmatch is None:
            raise RuntimeError("no bit-match mask yet: call validate_device() first")
        masks = self._bitmatch["masks"]
        if isinstance(index, bool) or not isinstance(index, int) or not 0 <= index < len(masks):
            raise ValueError(f"output index must be in 0..{len(masks) - 1}, got {index!r}")
        return masks[index]

    def get_all_task_outputs(self) -> List[List[np.ndarray]]:
        """The outputs of every task of the latest job that succeeded:
        ActorRT runs a model as one task, so one list (empty before any)."""
        return [self._latest_outputs()]

    def get_num_tail_tasks(self) -> int:
        """Tasks whose outputs are the model's: one (see get_task_order)."""
        return 1

    def get_compile_type(self) -> str:
        """How the model was compiled: ActorRT runs the ONNX graph as it is,
        with no NPU compilation step (DX-RT says "debug" or "release")."""
        return "onnx"

    def is_ppu(self) -> bool:
        """True for DX-RT models with in-NPU post-processing (PPU) outputs;
        an ONNX model's outputs are plain tensors."""
        return False

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
    ValidateDevice = validate_device
    get_outputs = get_all_task_outputs
    get_num_tails = get_num_tail_tasks
    is_PPU = is_ppu
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


def _looks_like_buffers(x):
    if isinstance(x, np.ndarray):
        return True
    return isinstance(x, (list, tuple)) and len(x) > 0 and all(
        isinstance(b, np.ndarray) or _looks_like_buffers(b) for b in x)


def _takes_three(fn):
    try:
        params = inspect.signature(fn).parameters.values()
    except (TypeError, ValueError):
        return False
    positional = [p for p in params
                  if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    return len(positional) >= 3 or any(p.kind == p.VAR_POSITIONAL for p in params)


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
    _native._finish_disposals(60.0)  # engines dropped without dispose()
