#!/usr/bin/python3
"""Dynamic batching against ONNX Runtime called directly, in one run.

For each model: one 2-thread ORT session (bench_ort_batch) at batch 1, 8 and
32, then dx_engine run_async + callback (a callback that takes a lock) with
default options, with buffer_count 64 and batching off, and with
buffer_count 64 and batching on (also with register_batch_callback);
samples/s and the ratios the batching
issue asks for. Then, open loop at half the batched rate, p99 latency with
batching on and off, alternated three times (and off at half its own rate,
a lighter load).

Usage: PYTHONPATH=build/python /usr/bin/python3 bench/batching.py [-n JOBS] [-m MODEL ...]
"""
import argparse
import os
import re
import subprocess
import threading
import time

import numpy as np

from dx_engine import InferenceEngine, InferenceOption

REPO = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
MODELS = os.environ.get("ACTORRT_MODEL_DIR", os.path.join(REPO, "build", "models"))


def ort_direct(path):
    binary = os.path.join(REPO, "build", "bench", "bench_ort_batch")
    out = subprocess.run([binary, "-m", path, "-b", "1", "8", "32", "-s", "1.5"],
                         capture_output=True, text=True).stdout
    return {int(b): float(r) for b, r in
            re.findall(r"batch (\d+): (\d+) samples/s", out)}


def engine(path, buffer_count=None, max_batch=None):
    o = InferenceOption()
    if buffer_count:
        o.buffer_count = buffer_count
    if max_batch:
        o.max_batch_size = max_batch
    return InferenceEngine(path, o)


def closed_loop(ie, n, batched=False):
    """run_async + callback as fast as it goes: samples/s. With `batched`,
    through register_batch_callback (one call per group of jobs)."""
    x = [np.zeros(ie.get_input_size(), np.uint8)]
    lock, done, count = threading.Lock(), threading.Event(), [0]
    target = [0]

    def ended(k):
        with lock:
            count[0] += k
            if count[0] == target[0]:
                done.set()

    register = ie.register_batch_callback if batched else ie.register_callback
    register((lambda results: ended(len(results))) if batched
             else (lambda outputs, arg: ended(1)))
    rate = 0.0
    for jobs in (n // 5, n):  # warm-up, then measured
        count[0], target[0] = 0, jobs
        done.clear()
        start = time.perf_counter()
        for i in range(jobs):
            ie.run_async(x, user_arg=i)
        done.wait()
        rate = jobs / (time.perf_counter() - start)
    register(None)
    return rate


def open_loop_p99(ie, rate, seconds=2.0):
    """Jobs at `rate` per second (each at its own time): p99 latency, ms."""
    x = [np.zeros(ie.get_input_size(), np.uint8)]
    n = int(rate * seconds)
    sent, took = np.zeros(n), np.zeros(n)
    done = threading.Semaphore(0)

    def cb(outputs, i):
        took[i] = time.perf_counter() - sent[i]
        done.release()

    ie.register_callback(cb)
    start = time.perf_counter()
    i = 0
    while i < n:
        # Sleep until the next job is due (not a busy wait, which would take
        # a CPU from the runtime), then send every job due by now.
        wait = start + i / rate - time.perf_counter()
        if wait > 0:
            time.sleep(wait)
        now = time.perf_counter()
        while i < n and start + i / rate <= now:
            sent[i] = time.perf_counter()
            ie.run_async(x, user_arg=i)
            i += 1
    for _ in range(n):
        done.acquire()
    ie.register_callback(None)
    return float(np.percentile(took, 99) * 1e3)


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("-n", "--jobs", type=int, default=60000)
    p.add_argument("-m", "--model", nargs="*", default=["strided_96", "strided_32", "tiny_cnn"])
    a = p.parse_args()
    for name in a.model:
        path = os.path.join(MODELS, name + ".onnx")
        ort = ort_direct(path)
        best = max(ort.values())
        with engine(path) as ie:
            default = closed_loop(ie, a.jobs)
        with engine(path, 64, 1) as ie:
            off = closed_loop(ie, a.jobs)
            p99_off = open_loop_p99(ie, off / 2)
        with engine(path, 64, 32) as ie, engine(path, 64, 1) as unbatched:
            on = closed_loop(ie, a.jobs)
            mean_batch = ie.get_stats()["mean_batch"]
            grouped = closed_loop(ie, a.jobs, batched=True)
            compute = ie.get_stats()["compute_ms"]["mean"] * mean_batch
            # One window's p99 moves with the machine: alternated windows,
            # and the median of each side.
            p99s = [(open_loop_p99(ie, on / 2), open_loop_p99(unbatched, on / 2))
                    for _ in range(3)]
            p99_on = float(np.median([b for b, _ in p99s]))
            p99_off_same = float(np.median([u for _, u in p99s]))
        print(f"{name}: ORT 2-thread session batch 1 {ort[1]:,.0f}, batch 8 {ort[8]:,.0f}, "
              f"batch 32 {ort[32]:,.0f} samples/s")
        print(f"  dx_engine default options       {default:9,.0f}  ({default / ort[1]:.2f}x ORT batch 1)")
        print(f"  dx_engine bc64, batching off    {off:9,.0f}  ({off / ort[1]:.2f}x ORT batch 1)")
        print(f"  dx_engine bc64, max batch 32    {on:9,.0f}  ({on / ort[1]:.2f}x ORT batch 1 "
              f"(target >= 2.0), {on / best:.2f}x its best batch (target >= 0.8)); "
              f"mean batch {mean_batch:.1f}")
        print(f"  the same, batch callback        {grouped:9,.0f}  ({grouped / ort[1]:.2f}x ORT "
              f"batch 1, {grouped / best:.2f}x its best batch)")
        print(f"  p99 at half that load (median of 3 alternated windows): batched "
              f"{p99_on:.3f} ms, unbatched at the same load {p99_off_same:.3f} ms "
              f"(at half its own {p99_off:.3f} ms); one batch's compute {compute:.3f} ms "
              f"(target: batched <= unbatched + delay 0 + one batch: "
              f"{'met' if p99_on <= p99_off_same + compute else 'not met'})")
        print("    windows (batched, unbatched): "
              + ", ".join(f"({b:.3f}, {u:.3f})" for b, u in p99s))


if __name__ == "__main__":
    main()
