"""``python3 -m dx_engine.run_model``: DX-RT's run_model, with its flags.

Benchmark mode (the default) keeps every core busy with run_async and a
callback; -s runs one job at a time; -f paces jobs at a target rate. With
-i, the input comes from a file of get_input_size() bytes and the last
outputs go to -o.
"""
import argparse
import sys
import threading
import time
from typing import List, Optional

import numpy as np

from .inference_engine import InferenceEngine
from .inference_option import InferenceOption


def _devices(text: str) -> List[int]:
    if text == "all":
        return []
    if text.startswith("count:"):
        count = int(text[len("count:"):])
        if count < 1:
            raise ValueError("count:N needs N >= 1")
        return list(range(count))
    return [int(d) for d in text.split(",")]


def _parse(argv: Optional[List[str]]) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python3 -m dx_engine.run_model",
                                description="Run a model and report its speed "
                                            "(DX-RT's run_model)")
    p.add_argument("-m", "--model", required=True, help="model file (.onnx, or "
                   ".dxnn with the .onnx beside it)")
    p.add_argument("-i", "--input", default="", help="input data file")
    p.add_argument("-o", "--output", default="output.bin",
                   help="output data file (written with -i)")
    p.add_argument("-b", "--benchmark", action="store_true",
                   help="maximum throughput (the default mode)")
    p.add_argument("-s", "--single", action="store_true",
                   help="one job at a time")
    p.add_argument("-v", "--verbose", action="store_true",
                   help="show NPU processing time and latency")
    p.add_argument("-n", "--npu", type=int, default=0, choices=range(7),
                   help="bound option: 0 NPU_ALL, 1 NPU_0 .. 6 NPU_0/2")
    p.add_argument("-l", "--loops", type=int, default=30, help="inferences")
    p.add_argument("-d", "--devices", default="all",
                   help="'all', '0,1,2' or 'count:N'")
    p.add_argument("-f", "--fps", type=float, default=0, help="target FPS")
    p.add_argument("--skip-io", action="store_true",
                   help="benchmark mode only: no input file, no outputs kept")
    p.add_argument("--use-ort", action="store_true",
                   help="run CPU lanes on ONNX Runtime")
    args = p.parse_args(argv)
    if args.loops < 1:
        p.error("--loops must be >= 1")
    try:
        args.device_ids = _devices(args.devices)
    except ValueError as e:
        p.error(f"--devices {args.devices!r}: {e}")
    if args.skip_io and (args.single or args.fps > 0):
        p.error("--skip-io is only for benchmark mode")
    return args


def _benchmark(ie, x, loops, fps, keep_outputs):
    """run_async at full load (or paced at ``fps``); the last outputs."""
    done = threading.Event()
    count = [0]
    last = [None]
    lock = threading.Lock()

    def on_done(outputs, _arg):
        with lock:
            count[0] += 1
            if keep_outputs:
                last[0] = outputs
            if count[0] == loops:
                done.set()

    ie.register_callback(on_done)
    start = time.perf_counter()
    for k in range(loops):
        if fps > 0:
            time.sleep(max(0.0, start + k / fps - time.perf_counter()))
        ie.run_async(x)
    done.wait()
    seconds = time.perf_counter() - start
    ie.register_callback(None)
    return seconds, last[0]


def main(argv: Optional[List[str]] = None) -> int:
    args = _parse(argv)
    option = InferenceOption()
    option.devices = args.device_ids
    option.bound_option = args.npu
    if args.use_ort:
        option.use_ort = True
    with InferenceEngine(args.model, option) as ie:
        if args.input and not args.skip_io:
            x = [np.fromfile(args.input, dtype=np.uint8)]
        else:
            x = [np.zeros(ie.get_input_size(), dtype=np.uint8)]
        if args.single:
            start = time.perf_counter()
            for _ in range(args.loops):
                outputs = ie.run(x)
            seconds = time.perf_counter() - start
        else:
            seconds, outputs = _benchmark(ie, x, args.loops, args.fps,
                                          not args.skip_io)
        if args.input and not args.skip_io and outputs is not None:
            with open(args.output, "wb") as f:
                for out in outputs:
                    f.write(np.ascontiguousarray(out).tobytes())
        mode = "single input" if args.single else f"{args.loops} inputs"
        print("=" * 45)
        if args.input and not args.skip_io:
            print(f"* Processing File : {args.input}")
            print(f"* Output Saved As : {args.output}")
        print(f"* Benchmark Result ({mode})")
        if args.verbose or args.single:
            print(f"  - NPU Processing Time Average : "
                  f"{ie.get_npu_inference_time_mean() / 1000:.3f} ms")
            print(f"  - Latency Average             : "
                  f"{ie.get_latency_mean() / 1000:.3f} ms")
        print(f"  - FPS : {args.loops / seconds:.2f}")
        print("=" * 45)
    return 0


if __name__ == "__main__":
    sys.exit(main())
