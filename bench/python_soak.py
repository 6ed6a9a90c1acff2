"""Soak: exactly-once over many jobs, flat memory, engines made and dropped.

    PYTHONPATH=build/python /usr/bin/python3 bench/python_soak.py [-n JOBS] [-c CYCLES]
        [--fail P] [--deadlines P] [--cancel P] [--latency 20us]

On SIMULATED cores (zero latency unless --latency; no compute: the
runtime's own paths only), with dynamic batching (max 16 unless
ACTORRT_MAX_BATCH says otherwise):
1. JOBS run_async jobs with a callback: every job id ends exactly once, with
   its own outputs (keyed: each output echoes its own input) or its own
   error: with --fail P each call fails with probability P on its core,
   with --deadlines P that share of jobs gets a random timeout_ms of 0-2
   ms, with --cancel P that share is cancelled right after submission.
   RSS at each tenth.
2. CYCLES engines made, used and disposed, then CYCLES made, used and
   dropped without dispose() (the garbage collector's path): RSS and
   threads before and after.
"""

import argparse
import gc
import os
import random
import threading
import time

import numpy as np

from dx_engine import InferenceEngine, InferenceOption, JobCancelledError

MODEL = os.path.join(os.environ.get("ACTORRT_MODEL_DIR", "build/models"), "tiny_cnn.onnx")


def rss_mib():
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def threads():
    return len(os.listdir("/proc/self/task"))


def exactly_once(n, deadlines, cancels):
    ended = bytearray(n)  # per job: how often it ended
    wrong = [0]
    done = threading.Event()
    count = [0]
    lock = threading.Lock()

    outcomes = {"fault": 0, "timeout": 0, "cancelled": 0, "other error": 0}

    def cb(outputs, key, error):
        k = int(np.frombuffer(outputs[0].tobytes()[:8], dtype=np.uint64)[0]) if outputs else -1
        with lock:
            if isinstance(error, TimeoutError):
                outcomes["timeout"] += 1
            elif isinstance(error, JobCancelledError):
                outcomes["cancelled"] += 1
            elif error is not None:
                outcomes["fault" if "simulated NPU fault" in str(error)
                         else "other error"] += 1
            elif k != key:
                wrong[0] += 1
            ended[key] = min(ended[key] + 1, 255)
            count[0] += 1
            if count[0] == n:
                done.set()

    opt = InferenceOption()
    opt.max_batch_size = int(os.environ.get("ACTORRT_MAX_BATCH", "16"))
    ie = InferenceEngine(MODEL, opt)
    ie.register_callback(cb)
    x = np.zeros(ie.get_input_size(), np.uint8)
    marks = []
    draws = random.Random(7)
    asked, too_late = 0, 0
    start = time.time()
    for k in range(n):
        buf = x.copy()
        buf[:8] = np.frombuffer(np.uint64(k).tobytes(), np.uint8)
        timeout = draws.randint(1, 2) if draws.random() < deadlines else None
        job = ie.run_async([buf], user_arg=k, timeout_ms=timeout)
        if draws.random() < cancels:
            asked += 1
            try:
                ie.cancel(job)
            except ValueError:  # it ended first
                too_late += 1
        if (k + 1) % (n // 10) == 0:
            marks.append(rss_mib())
    done.wait(600)
    secs = time.time() - start
    ie.dispose()
    lost = sum(1 for e in ended if e == 0)
    dup = sum(1 for e in ended if e > 1)
    print(f"jobs {n}: lost {lost}, duplicated {dup}, wrong outputs {wrong[0]}, "
          f"{n / secs:,.0f} jobs/s")
    print("ended with: " + ", ".join(f"{k} {v}" for k, v in outcomes.items())
          + f" (cancel asked {asked}, {too_late} of them after the job ended)")
    print("RSS MiB at each tenth: " + " ".join(f"{m:.0f}" for m in marks))
    return (lost == 0 and dup == 0 and wrong[0] == 0
            and outcomes["other error"] == 0)


def cycles(n, dispose):
    x = None
    gc.collect()
    before = (rss_mib(), threads())
    for i in range(n):
        ie = InferenceEngine(MODEL)
        if x is None:
            x = [np.zeros(ie.get_input_size(), np.uint8)]
        ie.register_callback(lambda outputs, arg: None)
        ie.run_async(x)
        try:
            ie.run(x)
        except RuntimeError as e:  # an injected fault (--fail)
            if "simulated NPU fault" not in str(e):
                raise
        if dispose:
            ie.dispose()
        del ie
        if i == 9:
            gc.collect()
            warm = (rss_mib(), threads())
    gc.collect()
    time.sleep(0.5)
    after = (rss_mib(), threads())
    how = "disposed" if dispose else "dropped without dispose()"
    print(f"{n} engines {how}: RSS {before[0]:.0f} -> {warm[0]:.0f} (after 10) -> "
          f"{after[0]:.0f} MiB, threads {before[1]} -> {after[1]}")


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("-n", "--jobs", type=int, default=1_000_000)
    p.add_argument("-c", "--cycles", type=int, default=1000)
    p.add_argument("--fail", type=float, default=0.0,
                   help="each call fails on its core with this probability")
    p.add_argument("--deadlines", type=float, default=0.0,
                   help="share of jobs with a random 1-2 ms timeout_ms")
    p.add_argument("--cancel", type=float, default=0.0,
                   help="share of jobs cancelled right after submission")
    p.add_argument("--latency", default="", help="simulated core latency")
    a = p.parse_args()
    # Read when the first engine starts the runtime.
    devices = f"sim:3:{a.latency}" + (f":fail={a.fail}" if a.fail else "")
    os.environ.setdefault("ACTORRT_DEVICES", devices)
    print(f"SIMULATED NPU cores (no compute): {os.environ['ACTORRT_DEVICES']}")
    ok = exactly_once(a.jobs, a.deadlines, a.cancel)
    cycles(a.cycles, dispose=True)
    cycles(a.cycles, dispose=False)
    raise SystemExit(0 if ok else 1)


if __name__ == "__main__":
    main()
