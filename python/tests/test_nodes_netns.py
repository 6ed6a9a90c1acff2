"""A client and two worker nodes as separate hosts: each in its own network
namespace with its own address on a bridge; one node's link is cut mid-run.
Needs root and `ip netns` (skipped with the reason where not permitted)."""

import os
import shutil
import subprocess
import sys
import textwrap
import time

import pytest

from conftest import REPO, model

NODE = os.path.join(REPO, "build", "tools", "actorrt-node")
PREFIX = f"ar{os.getpid() % 10000}"
HOSTS = {"c": "10.77.0.1", "n1": "10.77.0.2", "n2": "10.77.0.3"}


def ip(*args, check=True):
    return subprocess.run(["ip", *args], capture_output=True, text=True, check=check)


def namespaces_work():
    if os.geteuid() != 0:
        return "needs root"
    if shutil.which("ip") is None:
        return "the ip command (iproute2) is not installed"
    probe = ip("netns", "add", PREFIX + "-probe", check=False)
    if probe.returncode != 0:
        return "ip netns is not permitted here: " + probe.stderr.strip()
    ip("netns", "del", PREFIX + "-probe", check=False)
    return None


@pytest.fixture
def hosts():
    why = namespaces_work()
    if why:
        pytest.skip("network namespaces: " + why)
    sw = PREFIX + "-sw"
    made = [sw]
    try:
        ip("netns", "add", sw)
        ip("-n", sw, "link", "add", "br0", "type", "bridge")
        ip("-n", sw, "link", "set", "br0", "up")
        for name, address in HOSTS.items():
            ns = f"{PREFIX}-{name}"
            ip("netns", "add", ns)
            made.append(ns)
            ip("-n", ns, "link", "add", "eth0", "type", "veth", "peer", "name", name,
               "netns", sw)
            ip("-n", ns, "addr", "add", address + "/24", "dev", "eth0")
            ip("-n", ns, "link", "set", "eth0", "up")
            ip("-n", ns, "link", "set", "lo", "up")
            ip("-n", sw, "link", "set", name, "master", "br0")
            ip("-n", sw, "link", "set", name, "up")
        yield PREFIX
    finally:
        for ns in made:
            ip("netns", "del", ns, check=False)


def test_two_node_hosts_one_link_cut(hosts, tmp_path):
    # Hosts on a network: the nodes let in only clients with their token.
    token = tmp_path / "token"
    token.write_text("netns-test-token-0123456789\n")
    token.chmod(0o600)
    nodes = []
    try:
        for name in ("n1", "n2"):
            p = subprocess.Popen(["ip", "netns", "exec", f"{hosts}-{name}", NODE,
                                  "--devices", "sim:3:2ms", "--bind", HOSTS[name],
                                  "--port", "7000", "--token-file", str(token)],
                                 stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            nodes.append(p)
            assert p.stdout.readline().strip() == \
                f"actorrt-node listening on {HOSTS[name]}:7000"
        script = textwrap.dedent(f"""
            import subprocess, threading, time, numpy as np
            from dx_engine import InferenceEngine
            ie = InferenceEngine({model('tiny_cnn')!r})
            print("hosts", sorted({{l.split(':')[0] for l in ie.get_lane_backends()}}),
                  flush=True)
            ends = {{}}
            lock = threading.Lock()
            done = threading.Event()
            n = 2000
            def cb(outputs, key, error):
                with lock:
                    ok = error is None and int(np.frombuffer(
                        outputs[0].tobytes()[:8], np.uint64)[0]) == key
                    ends[key] = ends.get(key, 0) + (1 if ok else 1000)
                    if len(ends) == n:
                        done.set()
            ie.register_callback(cb)
            for k in range(n):
                if k == 200:  # cut node 1's cable
                    subprocess.run(["ip", "-n", "{hosts}-sw", "link", "set", "n1", "down"],
                                   check=True)
                buf = np.zeros(ie.get_input_size(), np.uint8)
                buf[:8] = np.frombuffer(np.uint64(k).tobytes(), np.uint8)
                ie.run_async([buf], user_arg=k)
            done.wait(60)
            print("ended", len(ends), "all once and right", all(v == 1 for v in ends.values()))
        """)
        env = dict(os.environ, ACTORRT_DEVICES="none",
                   ACTORRT_NODES=f"{HOSTS['n1']}:7000,{HOSTS['n2']}:7000",
                   ACTORRT_NODE_TOKEN_FILE=str(token))
        start = time.time()
        r = subprocess.run(["ip", "netns", "exec", f"{hosts}-c", sys.executable, "-c", script],
                           capture_output=True, text=True, timeout=120, env=env)
        assert r.returncode == 0, r.stderr
        assert "hosts ['0', '1']" in r.stdout, r.stdout
        assert "ended 2000 all once and right True" in r.stdout, r.stdout + r.stderr
        assert time.time() - start < 60
    finally:
        for p in nodes:
            p.kill()
            p.wait(10)
