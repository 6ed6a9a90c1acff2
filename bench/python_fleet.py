"""A simulated fleet in one process: how much of its ideal throughput the
scheduler keeps.

    PYTHONPATH=build/python /usr/bin/python3 bench/python_fleet.py [-n JOBS]

16 SIMULATED NPU devices x 4 cores (64 cores), latencies 5/10/15/20 ms by
device; ideal = the sum over cores of 1/latency. run_async + callback.
"""

import argparse
import os
import threading
import time

LATENCIES_MS = [5, 10, 15, 20]
DEVICES = ",".join(f"sim:4:{LATENCIES_MS[d % 4]}ms" for d in range(16))
os.environ["ACTORRT_DEVICES"] = DEVICES

import numpy as np  # noqa: E402
from dx_engine import InferenceEngine, InferenceOption  # noqa: E402

MODEL = os.path.join(os.environ.get("ACTORRT_MODEL_DIR", "build/models"), "tiny_cnn.onnx")


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("-n", "--jobs", type=int, default=20000)
    a = p.parse_args()
    ideal = sum(4 * 1000.0 / LATENCIES_MS[d % 4] for d in range(16))
    opt = InferenceOption()
    opt.buffer_count = 12  # 3 per core: cores never wait for work
    ie = InferenceEngine(MODEL, opt)
    x = [np.zeros(ie.get_input_size(), np.uint8)]
    done = threading.Event()
    count = [0]

    def cb(outputs, arg):
        count[0] += 1
        if count[0] == a.jobs:
            done.set()

    ie.register_callback(cb)
    start = time.perf_counter()
    for _ in range(a.jobs):
        ie.run_async(x)
    done.wait(600)
    rate = a.jobs / (time.perf_counter() - start)
    ie.dispose()
    print(f"SIMULATED fleet: 64 cores on 16 devices ({DEVICES[:40]}...)")
    print(f"{rate:,.0f} jobs/s of an ideal {ideal:,.0f}: {rate / ideal:.3f}  (aim >= 0.95)")


if __name__ == "__main__":
    main()
