#!/usr/bin/python3
"""dx_engine throughput on simulated zero-latency NPU cores (no compute).

Measures jobs/s through run_async + callback (a callback that takes a lock,
as DX-RT's examples' do) at the default buffer_count and at 100, and
through run_async + wait, and the share of each job's time spent in Python
and the binding, against the C++ overhead benchmark measured in the same
run; then the callback rates again in a child with jemalloc preloaded
(every job is made on the caller's thread and freed on the engine's, which
glibc's malloc pays for).
Usage: PYTHONPATH=build/python /usr/bin/python3 bench/python_throughput.py [-n JOBS]
"""
import argparse
import collections
import os
import re
import subprocess
import sys
import threading
import time

os.environ["ACTORRT_DEVICES"] = "sim:3"  # before the first engine is made

import numpy as np  # noqa: E402

from dx_engine import InferenceEngine, InferenceOption  # noqa: E402

JEMALLOC = "/usr/lib/x86_64-linux-gnu/libjemalloc.so.2"  # Debian's libjemalloc2
REPO = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))


def with_callback(ie, x, n, batched=False):
    """run_async + a callback that takes a lock, as the seed's does: one call
    per job, or with `batched` one (and one lock) per group of jobs that end
    together (register_batch_callback)."""
    done = threading.Event()
    count = [0]
    lock = threading.Lock()

    def cb(outputs, user_arg):
        with lock:
            count[0] += 1
            if count[0] == n:
                done.set()

    def batch_cb(results):
        with lock:
            count[0] += len(results)
            if count[0] == n:
                done.set()

    register = ie.register_batch_callback if batched else ie.register_callback
    register(batch_cb if batched else cb)
    start = time.perf_counter()
    for i in range(n):
        ie.run_async(x, user_arg=i)
    done.wait()
    elapsed = time.perf_counter() - start
    register(None)
    return n / elapsed


def with_wait(ie, x, n):
    window = collections.deque()
    depth = ie.get_max_in_flight()
    start = time.perf_counter()
    for i in range(n):
        window.append(ie.run_async(x, user_arg=i))
        if len(window) >= depth:
            ie.wait(window.popleft())
    while window:
        ie.wait(window.popleft())
    return n / (time.perf_counter() - start)


def sync_latency(ie, x, n):
    """p50 and p90 of a synchronous run, in us."""
    for _ in range(500):
        ie.run(x)
    took = []
    for _ in range(n):
        start = time.perf_counter()
        ie.run(x)
        took.append(time.perf_counter() - start)
    return np.percentile(took, 50) * 1e6, np.percentile(took, 90) * 1e6


def sync_line(model, n):
    with InferenceEngine(model) as ie:
        x = [np.zeros(ie.get_input_size(), dtype=np.uint8)]
        p50, p90 = sync_latency(ie, x, n)
    where = f"ACTORRT_RUNTIME_CPUS={os.environ.get('ACTORRT_RUNTIME_CPUS') or 'auto'}"
    return (f"run (synchronous)      p50 {p50:6.1f} us  p90 {p90:6.1f} us  "
            f"({where}; target p50 <= 15 us)")


def cpp_rate(n):
    binary = os.path.join(REPO, "build", "bench", "bench_overhead")
    if not os.path.exists(binary):
        return None
    out = subprocess.run([binary, "-n", str(n)], capture_output=True, text=True).stdout
    m = re.search(r"1 submitting thread\(s\):\s+(\d+) jobs/s", out)
    return float(m.group(1)) if m else None


def callback_rate(model, n, depth=None, then=None):
    """run_async + callback jobs/s after a warm-up, on an engine of default
    options or of buffer_count `depth`; with `then`, also what then(ie, x)
    measures next on the same engine."""
    option = InferenceOption()
    if depth:
        option.buffer_count = depth
    with InferenceEngine(model, option) as ie:
        assert ie.is_simulated()
        x = [np.zeros(ie.get_input_size(), dtype=np.uint8)]
        with_callback(ie, x, n // 10)  # warm-up
        rate = with_callback(ie, x, n)
        return rate, then(ie, x) if then else None


def jemalloc_line(n, default_rate, deep_rate):
    if not os.path.exists(JEMALLOC):
        return f"with jemalloc: not measured ({JEMALLOC} is not installed: Debian's libjemalloc2)"
    env = dict(os.environ, LD_PRELOAD=JEMALLOC)
    child = subprocess.run([sys.executable, __file__, "-n", str(n), "--callback-only"],
                           env=env, capture_output=True, text=True)
    try:
        default_je, deep_je = (float(x) for x in child.stdout.split())
    except ValueError:
        return child.stderr.strip()
    return (f"with jemalloc (LD_PRELOAD): run_async + callback {default_je:9.0f} jobs/s "
            f"({default_je / default_rate:.2f}x), at buffer_count 100 {deep_je:9.0f} jobs/s "
            f"({deep_je / deep_rate:.2f}x glibc's malloc above)")


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("-n", "--jobs", type=int, default=100000)
    parser.add_argument("--sync-only", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--callback-only", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    n = args.jobs
    model = os.path.join(REPO, "models", "tiny_cnn.onnx")
    if args.sync_only:
        print(sync_line(model, n // 5))
        return
    if args.callback_only:
        print(*(f"{callback_rate(model, n, depth)[0]:.0f}" for depth in (None, 100)))
        return
    cb_rate, wait_rate = callback_rate(model, n, then=lambda ie, x: with_wait(ie, x, n))
    deep_rate, deep_batch_rate = callback_rate(
        model, n, 100, lambda ie, x: with_callback(ie, x, n, batched=True))
    cpp = cpp_rate(n)
    print(f"python throughput: SIMULATED NPU (sim:3, zero latency), {n} jobs, "
          f"{os.cpu_count()} cores")
    print(f"run_async + callback   {cb_rate:9.0f} jobs/s  {1e6 / cb_rate:6.2f} us/job"
          f"  (default options; target 60k: ratio {cb_rate / 60e3:.3f})")
    print(f"  at buffer_count 100  {deep_rate:9.0f} jobs/s  {1e6 / deep_rate:6.2f} us/job"
          f"  (target 150k: ratio {deep_rate / 150e3:.3f})")
    print(f"  batch callback there {deep_batch_rate:9.0f} jobs/s  "
          f"{1e6 / deep_batch_rate:6.2f} us/job  (ratio to one call per job "
          f"{deep_batch_rate / deep_rate:.2f})")
    print(f"run_async + wait       {wait_rate:9.0f} jobs/s  {1e6 / wait_rate:6.2f} us/job")
    if cpp:
        share = 1 - cb_rate / cpp
        print(f"C++ RunAsync+callback  {cpp:9.0f} jobs/s  {1e6 / cpp:6.2f} us/job (same run)")
        print(f"share of a callback job's time in Python and the binding: {share:.0%}")
    print(jemalloc_line(n, cb_rate, deep_rate))
    print(sync_line(model, n // 5))
    # The same with the other placement of the runtime's threads, in a
    # child (the runtime is per process).
    kept = os.environ.get("ACTORRT_RUNTIME_CPUS", "auto") != "off"
    env = dict(os.environ, ACTORRT_RUNTIME_CPUS="off" if kept else "auto")
    child = subprocess.run([sys.executable, __file__, "-n", str(n), "--sync-only"],
                           env=env, capture_output=True, text=True)
    print(child.stdout.strip() or child.stderr.strip())


if __name__ == "__main__":
    main()
