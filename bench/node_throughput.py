"""Worker nodes on loopback: what a link carries, and scale-out.

    PYTHONPATH=build/python /usr/bin/python3 bench/node_throughput.py [-n JOBS]

Starts actorrt-node processes (SIMULATED NPU cores) and measures, from a
client with ACTORRT_DEVICES=none, through run_async + callback:
1. small jobs/s over one link (zero-latency cores);
2. MB/s of 4.9 MB inputs (a 640x640 float image) over one link;
3. 1 node vs 2 nodes of 3 cores at 2 ms each (ideal: 2.0);
4. with --scale 1,4,8: that many such nodes with default options (max load
   6 per device), 4 s worth of jobs, against the ideal (1,500 jobs/s per
   node), and the CPU each job costs the client and the nodes; with
   --packed, the largest count's devices again in 1, 2 and 4 node
   processes (same devices, cores and max load; fewer processes for this
   host's 2 CPUs to run);
5. with --fleet: a 64-core fleet on 4 nodes, each 4 devices of 4 cores at
   5/10/15/20 ms, at default options and at buffer_count 12.
Each figure runs in its own client process, so the runtimes do not mix.
With --tls, 1 and 2 again over TLS (certificates made with the openssl
CLI), and the ratio to plain TCP from the same run.
"""

import argparse
import contextlib
import os
import pathlib
import resource
import subprocess
import sys
import tempfile
import textwrap

HERE = os.path.dirname(os.path.abspath(__file__))
BUILD = os.path.join(HERE, "..", "build")
NODE = os.path.join(BUILD, "tools", "actorrt-node")
MODEL = os.path.join(BUILD, "models", "tiny_cnn.onnx")


def start(devices, *extra):
    p = subprocess.Popen([NODE, "--devices", devices, *extra], stdout=subprocess.PIPE,
                         stderr=subprocess.DEVNULL, text=True)
    return p, p.stdout.readline().split()[-1]


CLIENT = """
import threading, time, numpy as np
from dx_engine import InferenceEngine, InferenceOption
opt = InferenceOption()
opt.buffer_count = {depth}
ie = InferenceEngine({model!r}, opt)
x = np.zeros(ie.get_input_size(), np.uint8)
n = {n}
done = threading.Event()
count = [0]
def cb(outputs, arg):
    count[0] += 1
    if count[0] == n:
        done.set()
ie.register_callback(cb)
for _ in range(min(n, 50)):
    ie.wait(ie.run_async([x]))
count[0] = 0
start = time.perf_counter()
for _ in range(n):
    ie.run_async([x])
done.wait(600)
print(n / (time.perf_counter() - start), ie.get_npu_inference_time_mean())
"""


def stop(node):
    """Ends a node process and reaps it at once: reaped later (as Popen
    does for a dropped process, at the next Popen), its CPU would count as
    the client's in whatever getrusage(RUSAGE_CHILDREN) measured then."""
    node.kill()
    node.wait()


def measure(addresses, n, model=MODEL, depth=64, env=None, npu_time=False):
    """Jobs/s; with `npu_time`, also the cores' mean time per job (us)."""
    env = dict(os.environ, ACTORRT_DEVICES="none", ACTORRT_NODES=",".join(addresses),
               **(env or {}))
    script = textwrap.dedent(CLIENT.format(model=model, n=n, depth=depth))
    out = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True,
                         text=True, check=True, timeout=900)
    rate, npu = (float(x) for x in out.stdout.split()[-2:])
    return (rate, npu) if npu_time else rate


def certificates(folder):
    """A CA and a node and a client certificate it signed (the tests'
    helper); the node's options and the client's environment."""
    sys.path.insert(0, os.path.join(HERE, "..", "python", "tests"))
    from conftest import make_certificates
    certs, ca = make_certificates(pathlib.Path(folder))
    (node_cert, node_key), (cert, key) = certs["node"], certs["client"]
    return (["--tls-cert", node_cert, "--tls-key", node_key, "--tls-ca", ca],
            dict(ACTORRT_TLS_CERT=cert, ACTORRT_TLS_KEY=key, ACTORRT_TLS_CA=ca))


def link(jobs, label, node_args=(), env=None):
    """Small jobs/s and large inputs' GB/s over one link."""
    fast, addr = start("sim:3", *node_args)
    try:
        small = measure([addr], jobs, env=env)
        print(f"small jobs, one link{label}:    {small:10,.0f} jobs/s  (aim >= 100,000)")
        big = 3 * 640 * 640 * 4
        rate = measure([addr], max(200, jobs // 50),
                       MODEL.replace("tiny_cnn", "image_640"), depth=16, env=env)
        gbs = rate * big / 1e9
        print(f"4.9 MB inputs, one link{label}: {gbs:10.2f} GB/s in  (aim >= 1.0)")
        return small, gbs
    finally:
        stop(fast)


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("-n", "--jobs", type=int, default=20000)
    p.add_argument("--tls", action="store_true", help="also over TLS")
    p.add_argument("--scale", default="", help="node counts, as 1,4,8")
    p.add_argument("--fleet", action="store_true", help="64 cores on 4 nodes")
    p.add_argument("--packed", action="store_true",
                   help="the largest --scale in fewer node processes")
    a = p.parse_args()
    print("SIMULATED NPU cores on actorrt-node processes, loopback")
    plain = link(a.jobs, "")
    if a.tls:
        with tempfile.TemporaryDirectory() as folder:
            node_args, env = certificates(folder)
            tls = link(a.jobs, " (TLS)", node_args, env)
        print(f"TLS / plain: small jobs {tls[0] / plain[0]:.2f}, "
              f"large inputs {tls[1] / plain[1]:.2f}")
    one, a1 = start("sim:3:2ms")
    two, a2 = start("sim:3:2ms")
    try:
        n = max(3000, a.jobs // 5)
        r1 = measure([a1], n, depth=12)
        r2 = measure([a1, a2], n, depth=12)
        print(f"2 ms cores: 1 node {r1:,.0f} jobs/s, 2 nodes {r2:,.0f} jobs/s, "
              f"ratio {r2 / r1:.2f}  (ideal 2.0, aim >= 1.9)")
    finally:
        stop(one)
        stop(two)
    counts = [int(k) for k in a.scale.split(",") if k]
    for count in counts:
        scale(count)
    if a.packed and counts:
        for processes in (1, 2, 4):
            if processes < max(counts) and max(counts) % processes == 0:
                scale(max(counts), processes)
    if a.fleet:
        fleet()


@contextlib.contextmanager
def nodes_of(count, devices, processes=None):
    """`count` node processes serving `devices`; their addresses. The
    processes go into the list `processes` when one is given."""
    nodes = [start(devices) for _ in range(count)]
    if processes is not None:
        processes.extend(node for node, _ in nodes)
    try:
        yield [addr for _, addr in nodes]
    finally:
        for node, _ in nodes:
            stop(node)


def cpu_seconds(pid):
    """User + system CPU of process `pid` so far, its ended threads too."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def children_cpu_seconds():
    used = resource.getrusage(resource.RUSAGE_CHILDREN)
    return used.ru_utime + used.ru_stime


def scale(count, processes=None):
    """`count` devices of 3 cores at 2 ms, each its own node (or spread
    over `processes` node processes), default options: efficiency, and the
    CPU a job costs the client and the nodes (the machine's 2 vCPUs are
    the bound when they add up to more than it has)."""
    processes = processes or count
    nodes = []
    devices = ",".join(["sim:3:2ms"] * (count // processes))
    with nodes_of(processes, devices, nodes) as addresses:
        ideal = count * 3 * 500.0
        jobs = int(ideal * 4)
        nodes_before = sum(cpu_seconds(n.pid) for n in nodes)
        client_before = children_cpu_seconds()
        rate, npu = measure(addresses, jobs, depth=6, npu_time=True)
        per_job = 1e6 / (jobs + 50)  # the client warms up with 50
        client_us = (children_cpu_seconds() - client_before) * per_job
        nodes_us = (sum(cpu_seconds(n.pid) for n in nodes) - nodes_before) * per_job
        # The cores' mean job shows the simulated devices keep their model
        # (2 ms): what is lost is then the runtime's, or this machine's.
        where = (f"{count} node(s) x 3 cores" if processes == count
                 else f"{count} devices x 3 cores in {processes} node process(es)")
        print(f"{where} at 2 ms, default options: {rate:,.0f} jobs/s, "
              f"ideal {ideal:,.0f}, efficiency {rate / ideal:.3f}  (aim >= 0.95); "
              f"cores' mean job {npu:,.0f} us of 2,000; CPU per job: client "
              f"{client_us:,.0f} us (with its start), nodes {nodes_us:,.0f} us, "
              f"{rate * (client_us + nodes_us) / 1e6:.2f} of {os.cpu_count()} CPUs")


def fleet():
    """64 cores on 4 nodes of 16 (latencies 5 to 20 ms): efficiency."""
    latencies = [5, 10, 15, 20]
    with nodes_of(4, ",".join(f"sim:4:{ms}ms" for ms in latencies)) as addresses:
        ideal = 4 * 4 * sum(1000.0 / ms for ms in latencies)
        for depth in (6, 12):
            rate = measure(addresses, int(ideal * 4), depth=depth)
            print(f"64 cores on 4 nodes, buffer_count {depth}: {rate:,.0f} jobs/s, "
                  f"ideal {ideal:,.0f}, efficiency {rate / ideal:.3f}  (aim >= 0.95)")


if __name__ == "__main__":
    main()
