#!/usr/bin/python3
"""Several processes on one host: through this host's service (one
actorrt-node --local, whose cores they share) against each with lanes of its
own (ACTORRT_SERVICE=off: P processes x 3 lanes on this host's CPUs).

Each process runs run_async + callback for SECONDS after a common start and
reports its jobs and their latencies; printed: aggregate jobs/s, p50 and p99
latency over all jobs, and the ratios, measured in one run.

Usage: PYTHONPATH=build/python /usr/bin/python3 bench/python_service.py
       [-p PROCESSES] [-s SECONDS] [-m MODEL]
"""
import argparse
import os
import signal
import socket
import subprocess
import sys
import textwrap

import numpy as np

REPO = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
MODELS = os.environ.get("ACTORRT_MODEL_DIR", os.path.join(REPO, "build", "models"))

WORKER = textwrap.dedent("""
    import sys, threading, time
    import numpy as np
    from dx_engine import InferenceEngine
    ie = InferenceEngine(sys.argv[1])
    x = [np.zeros(ie.get_input_size(), np.uint8)]
    for _ in range(20):
        ie.run(x)
    lat, lock = [], threading.Lock()
    def cb(outputs, sent):
        with lock:
            lat.append(time.perf_counter() - sent)
    ie.register_callback(cb)
    print("ready", flush=True)
    sys.stdin.readline()  # the common start
    end = time.perf_counter() + float(sys.argv[2])
    while time.perf_counter() < end:
        ie.run_async(x, user_arg=time.perf_counter())
    ie.dispose()
    print(" ".join(f"{v:.6f}" for v in lat), flush=True)
""")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def run(processes, seconds, path, env):
    workers = [subprocess.Popen([sys.executable, "-c", WORKER, path, str(seconds)],
                                env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                text=True) for _ in range(processes)]
    for w in workers:
        assert w.stdout.readline().strip() == "ready"
    for w in workers:
        w.stdin.write("go\n")
        w.stdin.flush()
    lat = np.concatenate([np.array(w.communicate()[0].split(), float) for w in workers])
    return len(lat) / seconds, np.percentile(lat, 50) * 1e3, np.percentile(lat, 99) * 1e3


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("-p", "--processes", type=int, default=4)
    p.add_argument("-s", "--seconds", type=float, default=4.0)
    p.add_argument("-m", "--model", default="strided_96")
    a = p.parse_args()
    path = os.path.join(MODELS, a.model + ".onnx")
    port = free_port()
    env = {k: v for k, v in os.environ.items()
           if k not in ("ACTORRT_DEVICES", "ACTORRT_NODES")}
    env["ACTORRT_SERVICE_PORT"] = str(port)
    node = subprocess.Popen([os.path.join(REPO, "build", "tools", "actorrt-node"), "--local"],
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                            text=True)
    assert node.stdout.readline().startswith("actorrt-node listening")
    try:
        shared = run(a.processes, a.seconds, path, dict(env, ACTORRT_SERVICE="on"))
    finally:
        node.send_signal(signal.SIGTERM)
        node.wait(30)
    own = run(a.processes, a.seconds, path, dict(env, ACTORRT_SERVICE="off"))
    print(f"{a.processes} processes, {a.model}, {os.cpu_count()} CPUs, default options")
    for name, (rate, p50, p99) in [("one local service (3 lanes)", shared),
                                   (f"own lanes ({3 * a.processes} lanes)", own)]:
        print(f"  {name:30s} {rate:9,.0f} jobs/s  p50 {p50:7.2f} ms  p99 {p99:7.2f} ms")
    print(f"  service / own: throughput {shared[0] / own[0]:.2f}, p99 {shared[2] / own[2]:.2f}")


if __name__ == "__main__":
    main()
