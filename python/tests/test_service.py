"""This host's service (actorrt-node --local): processes find it by
themselves (ACTORRT_SERVICE) and share its cores; one of them dying costs
the others nothing."""

import os
import signal
import subprocess
import sys
import textwrap
import time

import pytest

from conftest import REPO, free_port, model

NODE = os.path.join(REPO, "build", "tools", "actorrt-node")


@pytest.fixture
def service():
    """A local service on sim:3 cores at a port of its own; its env."""
    port = free_port()
    env = dict(os.environ, ACTORRT_SERVICE_PORT=str(port))
    node = subprocess.Popen([NODE, "--local", "--devices", "sim:3:1ms"], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    line = node.stdout.readline().strip()
    assert line == f"actorrt-node listening on 127.0.0.1:{port}", line
    for name in ("ACTORRT_DEVICES", "ACTORRT_NODES", "ACTORRT_SERVICE"):
        env.pop(name, None)
    yield node, env
    if node.poll() is None:
        node.send_signal(signal.SIGTERM)
        # Jobs of a client that died count no more: the drain ends at once.
        assert node.wait(15) == 0
        assert "every job it took has ended" in node.stderr.read()


CLIENT = textwrap.dedent("""
    import sys, threading
    import numpy as np
    from dx_engine import InferenceEngine, InferenceOption
    ie = InferenceEngine({model!r})
    print("simulated", ie.is_simulated(), flush=True)
    hosts = sorted({{c["host"] for c in ie.get_stats()["cores"]}})
    print("hosts", hosts, flush=True)
    n = int(sys.argv[1])
    ended, lock, done = {{}}, threading.Lock(), threading.Event()
    def cb(outputs, key):
        k = int(np.frombuffer(outputs[0].tobytes()[:8], np.uint64)[0])
        with lock:
            ended[key] = ended.get(key, 0) + (1 if k == key else 1000)
            if len(ended) == n:
                done.set()
    ie.register_callback(cb)
    for k in range(n):
        buf = np.zeros(ie.get_input_size(), np.uint8)
        buf[:8] = np.frombuffer(np.uint64(k).tobytes(), np.uint8)
        ie.run_async([buf], user_arg=k)
    done.wait(120)
    print("once", sorted(ended) == list(range(n)) and set(ended.values()) == {{1}},
          flush=True)
""").format(model=model("tiny_cnn"))


def client(env, jobs, **popen):
    return subprocess.Popen([sys.executable, "-c", CLIENT, str(jobs)], env=env,
                            text=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            **popen)


def test_processes_share_the_service_and_survive_one_dying(service):
    node, env = service
    survivor = client(env, 3000)
    doomed = client(env, 100000)
    assert doomed.stdout.readline().strip() == "simulated True"  # the node's cores
    time.sleep(0.5)  # mid-run
    doomed.kill()
    doomed.wait(30)
    out, err = survivor.communicate(timeout=120)
    assert survivor.returncode == 0, err
    assert "simulated True" in out and "hosts ['127.0.0.1:" in out
    assert "once True" in out
    assert node.poll() is None  # the service stays up
    late, err = client(env, 500).communicate(timeout=120)
    assert "once True" in late, err


def test_service_modes(service, tmp_path):
    _, env = service

    def simulated(**extra):
        r = subprocess.run([sys.executable, "-c", textwrap.dedent(f"""
            from dx_engine import InferenceEngine
            print(InferenceEngine({model('tiny_cnn')!r}).is_simulated())
        """)], env=dict(env, **extra), capture_output=True, text=True, timeout=120)
        return r.stdout.strip() or r.stderr.strip().splitlines()[-1]

    assert simulated() == "True"  # auto: it answers
    assert simulated(ACTORRT_SERVICE="on") == "True"
    assert simulated(ACTORRT_SERVICE="off") == "False"  # own CPU lanes
    assert simulated(ACTORRT_DEVICES="cpu:1") == "False"  # told otherwise
    nobody = str(free_port())
    assert simulated(ACTORRT_SERVICE_PORT=nobody) == "False"  # auto: none answers
    on = simulated(ACTORRT_SERVICE="on", ACTORRT_SERVICE_PORT=nobody)
    assert on.startswith("RuntimeError") and f"127.0.0.1:{nobody}" in on
    bad = simulated(ACTORRT_SERVICE="sometimes")
    assert bad.startswith("ValueError") and "auto, on or off" in bad


def test_local_refuses_another_address():
    r = subprocess.run([NODE, "--local", "--bind", "0.0.0.0"], capture_output=True,
                       text=True, timeout=30)
    assert r.returncode != 0 and "--local listens on 127.0.0.1" in r.stderr
