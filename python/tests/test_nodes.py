"""Worker nodes on loopback: actorrt-node processes serve their cores to a
client (ACTORRT_NODES) through CAF's middleman."""

import os
import signal
import subprocess
import sys
import textwrap
import time

import pytest

from conftest import REPO, free_port, make_certificates, model

TOOLS = os.path.join(REPO, "build", "tools")


def start_node(devices):
    node = subprocess.Popen([os.path.join(TOOLS, "actorrt-node"), "--devices", devices],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    line = node.stdout.readline().strip()
    assert line.startswith("actorrt-node listening on 127.0.0.1:"), line
    return node, line.rsplit(" ", 1)[1]


@pytest.fixture
def nodes():
    started = []

    def make(devices="sim:3:2ms"):
        node, address = start_node(devices)
        started.append(node)
        return node, address

    yield make
    for node in started:
        if node.poll() is None:
            node.kill()
        node.wait(10)


def client_env(addresses):
    return dict(os.environ, ACTORRT_DEVICES="none", ACTORRT_NODES=",".join(addresses))


def client_body(script):
    """A client program: `script` with MODEL, keyed() and key_of() defined."""
    return textwrap.dedent(f"""
        import os, sys, threading, time
        import numpy as np
        from dx_engine import InferenceEngine, InferenceOption
        MODEL = {model('tiny_cnn')!r}
        def keyed(ie, key):
            buf = np.zeros(ie.get_input_size(), np.uint8)
            buf[:8] = np.frombuffer(np.uint64(key).tobytes(), np.uint8)
            return [buf]
        def key_of(outputs):
            return int(np.frombuffer(outputs[0].tobytes()[:8], np.uint64)[0])
    """) + textwrap.dedent(script)


def client(script, addresses, timeout=120):
    return subprocess.run([sys.executable, "-c", client_body(script)], capture_output=True,
                          text=True, timeout=timeout, env=client_env(addresses))


def test_a_client_uses_two_nodes_devices(nodes, tmp_path):
    _, a = nodes()
    _, b = nodes()
    r = client("""
        ie = InferenceEngine(MODEL)
        lanes = ie.get_lane_backends()
        print("lanes", len(lanes), sorted({l.split(":")[0] for l in lanes}))
        ids = [ie.run_async(keyed(ie, k)) for k in range(600)]
        print("right", sum(key_of(ie.wait(i)) == k for k, i in enumerate(ids)))
        for device in (0, 1):  # each node's device alone
            opt = InferenceOption()
            opt.devices = [device]
            with InferenceEngine(MODEL, opt) as one:
                print("device", device, key_of(one.run(keyed(one, 40 + device))))
        # A 640x640 image (4.9 MB) crosses too, and comes back echoed.
        big = InferenceEngine(MODEL.replace("tiny_cnn", "image_640"))
        x = np.random.default_rng(0).random((1, 3, 640, 640), dtype=np.float32)
        out = big.run([x])[0]
        print("echo", big.get_input_size(), np.array_equal(
            out.reshape(-1).view(np.uint8), x.reshape(-1).view(np.uint8)[:12]))
    """, [a, b])
    assert r.returncode == 0, r.stderr
    assert "lanes 6 ['0', '1']" in r.stdout
    assert "right 600" in r.stdout
    assert "device 0 40" in r.stdout and "device 1 41" in r.stdout
    assert "echo 4915200 True" in r.stdout
    # No running process's status in its folder: dxrt-cli shows its own.
    cli = subprocess.run([os.path.join(TOOLS, "dxrt-cli"), "-s"], capture_output=True,
                         text=True, timeout=60,
                         env=dict(os.environ, ACTORRT_DEVICES="sim:1", ACTORRT_NODES=a,
                                  ACTORRT_STATUS_DIR=str(tmp_path)))
    assert cli.returncode == 0, cli.stderr
    assert "* Device 0: sim:1" in cli.stdout and "this host" in cli.stdout
    assert f"* Device 1: sim, 3 NPU cores" in cli.stdout and f"node {a}" in cli.stdout


@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGTERM])
def test_a_node_killed_mid_run_every_job_ends_once(nodes, sig):
    victim, a = nodes("sim:3:2ms")
    _, b = nodes("sim:3:2ms")
    r = client(f"""
        ended = {{}}
        errors = []
        lock = threading.Lock()
        all_done = threading.Event()
        n = 3000
        def cb(outputs, key, error):
            with lock:
                ended[key] = ended.get(key, 0) + 1
                if error is None:
                    assert key_of(outputs) == key
                else:
                    errors.append(str(error))
                if len(ended) == n:
                    all_done.set()
        ie = InferenceEngine(MODEL)
        ie.register_callback(cb)
        for k in range(n):
            if k == 300:
                os.kill({victim.pid}, {int(sig)})
            ie.run_async(keyed(ie, k), user_arg=k)
        all_done.wait(60)
        time.sleep(0.5)  # a late duplicate would show here
        print("ended", len(ended), "twice", sum(v > 1 for v in ended.values()))
        print("failed", len(errors), "naming the node", sum({a!r} in e for e in errors))
        print("serving", key_of(ie.run(keyed(ie, 7))))
    """, [a, b])
    assert r.returncode == 0, r.stderr
    # The lost node's jobs ran again on the survivor: all succeed, once.
    assert "ended 3000 twice 0" in r.stdout, r.stdout
    assert "failed 0 " in r.stdout, r.stdout
    assert "serving 7" in r.stdout


def test_a_silent_node_is_dropped_and_its_jobs_run_elsewhere(nodes):
    frozen, a = nodes("sim:3:2ms")
    _, b = nodes("sim:3:2ms")
    r = client(f"""
        import signal
        ends = []
        lock = threading.Lock()
        done = threading.Event()
        def cb(outputs, key, error):
            with lock:
                ends.append((key, error is None and key_of(outputs) == key))
                if len(ends) == 600:
                    done.set()
        ie = InferenceEngine(MODEL)
        ie.register_callback(cb)
        start = time.time()
        for k in range(600):
            if k == 100:
                os.kill({frozen.pid}, signal.SIGSTOP)  # connected, but silent
            ie.run_async(keyed(ie, k), user_arg=k)
        done.wait(60)
        print("ended", len(ends), "distinct", len({{k for k, _ in ends}}),
              "ok", sum(ok for _, ok in ends), "secs", round(time.time() - start))
    """, [a, b])
    frozen.send_signal(signal.SIGCONT)
    assert r.returncode == 0, r.stderr
    assert "ended 600 distinct 600 ok 600" in r.stdout, r.stdout
    assert int(r.stdout.split("secs ")[1]) <= 15, r.stdout


def test_a_core_that_dies_on_a_node_is_routed_around(nodes):
    # Core 1 of the node's device is lost after 30 jobs; the node places
    # jobs on the core of the device that frees first, and the client must
    # still learn of the loss and run that core's jobs on the others.
    _, a = nodes("sim:3:1ms:die_after=30:cores=1")
    r = client("""
        ended = {}
        lock = threading.Lock()
        done = threading.Event()
        def cb(outputs, key, error):
            with lock:
                ended[key] = ended.get(key, 0) + (
                    error is None and key_of(outputs) == key)
                if len(ended) == 600:
                    done.set()
        ie = InferenceEngine(MODEL)
        ie.register_callback(cb)
        for k in range(600):
            ie.run_async(keyed(ie, k), user_arg=k)
        done.wait(60)
        time.sleep(0.3)  # a late duplicate would show here
        print("ended", len(ended), "ok once", sum(v == 1 for v in ended.values()))
        ran = {c["core"]: c["jobs_done"] for c in ie.get_stats()["cores"]}
        print("core 1 ran", ran.get(1, 0), "all", sum(ran.values()))
        print("lanes", sorted(ie.get_lane_backends()))
    """, [a])
    assert r.returncode == 0, r.stderr
    assert "ended 600 ok once 600" in r.stdout, r.stdout
    # The client knows: core 1 no longer serves it.
    assert "lanes ['0:0 simulated-npu', '0:2 simulated-npu']" in r.stdout, r.stdout
    ran = int(r.stdout.split("core 1 ran ")[1].split()[0])
    assert ran <= 30 and "all 600" in r.stdout, r.stdout


def test_jobs_fail_naming_the_node_only_when_no_core_is_left(nodes):
    victim, a = nodes("sim:1:50ms")
    r = client(f"""
        ie = InferenceEngine(MODEL)
        errors = []
        done = threading.Event()
        def cb(outputs, key, error):
            errors.append(error)
            if len(errors) == 6:
                done.set()
        ie.register_callback(cb)
        for k in range(6):
            ie.run_async(keyed(ie, k), user_arg=k)
        os.kill({victim.pid}, 9)
        done.wait(30)
        print("ended", len(errors))
        print("typed", sum(isinstance(e, RuntimeError) and {a!r} in str(e)
                           for e in errors if e is not None))
        print("failed", sum(e is not None for e in errors))
        print("errors", [repr(e) for e in errors])  # shown if it fails
    """, [a])
    assert r.returncode == 0, r.stderr
    assert "ended 6" in r.stdout
    failed = int(r.stdout.split("failed ")[1].split()[0])
    assert failed >= 1 and f"typed {failed}" in r.stdout, r.stdout


def test_a_model_travels_once_per_node(nodes):
    node, a = nodes("sim:3")
    env = dict(os.environ, ACTORRT_DEVICES="none", ACTORRT_NODES=a)
    holder = subprocess.Popen([sys.executable, "-c", textwrap.dedent(f"""
        import sys
        from dx_engine import InferenceEngine
        ie = InferenceEngine({model('tiny_cnn')!r})
        print("loaded", flush=True)
        sys.stdin.readline()
    """)], env=env, text=True, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
        stderr=subprocess.PIPE)
    try:
        assert holder.stdout.readline().strip() == "loaded"
        # Another engine of this client and one of another client: the node
        # holds these bytes already.
        r = client("""
            first = InferenceEngine(MODEL)
            second = InferenceEngine(MODEL)
            print("runs", key_of(first.run(keyed(first, 1))), key_of(second.run(keyed(second, 2))))
        """, [a])
    finally:
        holder.communicate("done\n", timeout=30)
    assert r.returncode == 0, r.stderr
    assert "runs 1 2" in r.stdout
    node.send_signal(signal.SIGTERM)
    node.wait(10)
    log = node.stderr.read()
    assert log.count("received model") == 1, log


STEPPED_CLIENT = """
    import sys, time, numpy as np
    from dx_engine import InferenceEngine
    ie = InferenceEngine(MODEL)
    x = [np.zeros(ie.get_input_size(), np.uint8)]
    def remote_lanes():
        return sum(l.startswith("1:") for l in ie.get_lane_backends())
    def step(name):  # the test acts meanwhile
        print(name, remote_lanes(), flush=True)
        sys.stdin.readline()
    def until_remote(serve_locally=False):
        deadline = time.time() + 20
        while remote_lanes() < 2 and time.time() < deadline:
            if serve_locally:
                ie.run(x)
            time.sleep(0.1)
    def run_all(n):
        ids = [ie.run_async(x) for _ in range(n)]
        return sum(len(ie.wait(i)) for i in ids)
    def remote_jobs():
        return sum(c["jobs_done"] for c in ie.get_stats()["cores"] if c["device"] == 1)
"""


def stepped_client(env, script):
    """A client on 1 local core and the nodes `env` names: STEPPED_CLIENT's
    helpers, then `script`, which waits for the test at each step()."""
    body = (textwrap.dedent(STEPPED_CLIENT).replace("MODEL", repr(model("tiny_cnn")))
            + textwrap.dedent(script))
    return subprocess.Popen([sys.executable, "-c", body], text=True,
                            env=dict(os.environ, ACTORRT_DEVICES="sim:1", **env),
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def go_on(client):
    client.stdin.write("go\n")
    client.stdin.flush()


def start_node_at(port, *args):
    """A node with 2 simulated cores on `port` (0: any free one)."""
    node = subprocess.Popen([os.path.join(TOOLS, "actorrt-node"), "--devices", "sim:2:1ms",
                             "--port", str(port), *args],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    line = node.stdout.readline().strip()
    assert line.startswith("actorrt-node listening on"), line
    assert port == 0 or line.endswith(f":{port}"), line
    return node


def stop(*processes):
    for p in processes:
        if p is not None and p.poll() is None:
            p.kill()
            p.wait(10)


def test_a_restarted_node_rejoins_a_running_client(nodes):
    node, a = nodes("sim:2")
    c = stepped_client({"ACTORRT_NODES": a}, """
        step("before")
        until_remote(serve_locally=True)
        print("after", remote_lanes(), len(ie.run(x)), flush=True)
    """)
    again = None
    try:
        assert c.stdout.readline().strip() == "before 2"
        node.kill()
        node.wait(10)
        time.sleep(0.5)
        again = start_node_at(a.rsplit(":", 1)[1])
        go_on(c)
        out, err = c.communicate(timeout=60)
    finally:
        stop(c, again)
    assert c.returncode == 0, err
    assert "after 2 1" in out, out + err


def test_a_node_named_by_dns_that_starts_after_the_client_joins_it():
    port = free_port()
    c = stepped_client({"ACTORRT_NODES": f"dns:localhost:{port}",
                        "ACTORRT_NODES_REFRESH_MS": "200"}, """
        step("before")  # no node up yet: local only
        until_remote()
        run_all(400)
        print("after", remote_lanes(), remote_jobs() > 0, flush=True)
    """)
    node = None
    try:
        assert c.stdout.readline().strip() == "before 0"
        node = start_node_at(port)
        go_on(c)
        out, err = c.communicate(timeout=60)
    finally:
        stop(c, node)
    assert c.returncode == 0, err
    assert "after 2 True" in out, out + err


def test_a_node_announces_itself_to_a_running_client():
    port = free_port()
    c = stepped_client({"ACTORRT_NODES": f"listen:127.0.0.1:{port}"}, """
        step("before")  # a node starts and announces itself meanwhile
        until_remote()
        run_all(400)
        step(f"after {remote_jobs() > 0}")  # the node is killed meanwhile
        print("without it", run_all(100), flush=True)
    """)
    node = None
    try:
        assert c.stdout.readline().strip() == "before 0"
        node = start_node_at(0, "--announce", f"127.0.0.1:{port}")
        go_on(c)
        assert c.stdout.readline().strip() == "after True 2"
        stop(node)
        go_on(c)
        out, err = c.communicate(timeout=60)
    finally:
        stop(c, node)
    assert c.returncode == 0, err
    assert "without it 100" in out, out + err


@pytest.mark.parametrize("nodes, extra, expected", [
    ("dns:localhost:1", {"ACTORRT_NODES_REFRESH_MS": "5"}, "ACTORRT_NODES_REFRESH_MS"),
    ("listen:0.0.0.0:7761", {}, "neither a token nor TLS"),
    ("listen:127.0.0.1:99999", {}, "not ADDR:PORT"),
])
def test_bad_node_discovery_settings_are_clear_errors(nodes, extra, expected):
    env = dict(os.environ, ACTORRT_DEVICES="sim:1", ACTORRT_NODES=nodes, **extra)
    env.pop("ACTORRT_NODE_TOKEN", None)
    env.pop("ACTORRT_NODE_TOKEN_FILE", None)
    r = subprocess.run([sys.executable, "-c", "from dx_engine import InferenceEngine\n"
                        f"InferenceEngine({model('tiny_cnn')!r})"],
                       capture_output=True, text=True, timeout=60, env=env)
    assert r.returncode != 0
    assert expected in r.stderr, r.stderr


EXAMPLES = os.path.join(REPO, "examples", "python")


def test_the_seed_examples_run_on_remote_cores_only(nodes):
    _, a = nodes("sim:3:1ms")
    env = dict(os.environ, ACTORRT_DEVICES="none", ACTORRT_NODES=a)
    for name in ["run_sync_model", "run_sync_model_thread", "run_sync_model_bound",
                 "run_async_model", "run_async_model_thread", "run_async_model_wait",
                 "run_batch_model"]:
        r = subprocess.run([sys.executable, os.path.join(EXAMPLES, name + ".py"), "-l", "12"],
                           cwd=EXAMPLES, capture_output=True, text=True, timeout=120, env=env)
        assert r.returncode == 0, name + ": " + r.stdout + r.stderr


def test_two_clients_share_a_node(nodes):
    _, a = nodes("sim:3:1ms")
    body = client_body("""
        ie = InferenceEngine(MODEL)
        ids = {ie.run_async(keyed(ie, k)): k for k in range(2000)}
        print("right", sum(key_of(ie.wait(i)) == k for i, k in ids.items()))
    """)
    clients = [subprocess.Popen([sys.executable, "-c", body], env=client_env([a]), text=True,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE)
               for _ in range(2)]
    for c in clients:
        out, err = c.communicate(timeout=120)
        assert c.returncode == 0, err
        assert "right 2000" in out, out + err


def test_tls_with_certificates_verified_on_both_sides(tmp_path):
    certs, ca = make_certificates(tmp_path)
    cert, key = certs["node"]
    node = subprocess.Popen([os.path.join(TOOLS, "actorrt-node"), "--devices", "sim:2",
                             "--tls-cert", cert, "--tls-key", key, "--tls-ca", ca],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        address = node.stdout.readline().split()[-1]
        script = """
            try:
                ie = InferenceEngine(MODEL)
                print("served", key_of(ie.run(keyed(ie, 9))), len(ie.get_lane_backends()))
            except RuntimeError as e:
                print("refused:", e)
        """

        def as_client(who):
            env = {}
            if who:
                c, k = certs[who]
                env = dict(ACTORRT_TLS_CERT=c, ACTORRT_TLS_KEY=k, ACTORRT_TLS_CA=ca)
            os.environ.update(env)
            try:
                return client(script, [address], timeout=60)
            finally:
                for name in env:
                    del os.environ[name]

        good = as_client("client")
        assert good.returncode == 0, good.stderr
        assert "served 9 2" in good.stdout, good.stdout + good.stderr
        for who in (None, "outsider"):  # plain TCP, or a certificate the CA did not sign
            bad = as_client(who)
            assert bad.returncode == 0, bad.stderr
            assert "refused: cannot join node" in bad.stdout, (who, bad.stdout, bad.stderr)
    finally:
        node.kill()
        node.wait(10)


def test_a_node_busy_while_a_client_joins_is_joined_all_the_same(nodes):
    # CAF 0.17 ends a connection still in its handshake at its first
    # heartbeat tick (within 500 ms): a client that joined a node busy for
    # longer failed with connection_timeout.
    busy, address = nodes("sim:2")
    busy.send_signal(signal.SIGSTOP)
    try:
        joining = subprocess.Popen(
            [sys.executable, "-c", client_body("""
                ie = InferenceEngine(MODEL)
                print("served", key_of(ie.run(keyed(ie, 7))))
            """)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
            env=client_env([address]))
        time.sleep(1.5)  # the client starts and waits for the node
    finally:
        busy.send_signal(signal.SIGCONT)
    out, err = joining.communicate(timeout=60)
    assert joining.returncode == 0 and "served 7" in out, err


def test_unreachable_node_is_a_clear_error():
    r = client("""
        try:
            InferenceEngine(MODEL)
        except RuntimeError as e:
            print("error:", e)
    """, ["127.0.0.1:1"])
    assert r.returncode == 0, r.stderr
    assert "cannot join node 127.0.0.1:1" in r.stdout


def test_a_node_of_another_protocol_version_is_a_clear_error(nodes):
    node = subprocess.Popen([os.path.join(TOOLS, "actorrt-node"), "--devices", "sim:1",
                             "--protocol-id", "actorrt-protocol-0"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        address = node.stdout.readline().split()[-1]
        r = client("""
            try:
                InferenceEngine(MODEL)
            except RuntimeError as e:
                print("error:", e)
        """, [address])
    finally:
        node.kill()
        node.wait(10)
    assert r.returncode == 0, r.stderr
    assert "another ActorRT protocol version" in r.stdout, r.stdout


def test_sigterm_stops_a_node(nodes):
    node, _ = nodes()
    node.send_signal(signal.SIGTERM)
    assert node.wait(10) == 0
    assert "SIGTERM, draining" in node.stderr.read()


def test_a_node_batches_its_cores_queues_and_honours_job_terms(nodes):
    _, a = nodes("sim:1:2ms:batch=0.1")
    r = client("""
        o = InferenceOption()
        o.max_batch_size = 8
        o.buffer_count = 40
        ie = InferenceEngine(MODEL, o)
        ids = [ie.run_async(keyed(ie, k)) for k in range(200)]
        print("right", sum(key_of(ie.wait(i)) == k for k, i in enumerate(ids)))
        print("batched", ie.get_stats()["mean_batch"] > 2)
        # Deadlines cross the link as time left: these cannot all start in time.
        late = [ie.run_async(keyed(ie, k), timeout_ms=1) for k in range(100)]
        timeouts = 0
        for i in late:
            try:
                ie.wait(i)
            except TimeoutError:
                timeouts += 1
        print("timeouts", timeouts > 0)
    """, [a])
    assert r.returncode == 0, r.stderr
    assert "right 200" in r.stdout
    assert "batched True" in r.stdout
    assert "timeouts True" in r.stdout


def test_a_node_drains_on_sigterm_and_its_clients_go_on(nodes):
    leaving, a = nodes("sim:1:20ms")
    _, b = nodes("sim:1:20ms")
    env = client_env([a, b])
    p = subprocess.Popen([sys.executable, "-c", client_body("""
        ie = InferenceEngine(MODEL)
        n = 400
        ended, lock, done = {}, threading.Lock(), threading.Event()
        def cb(outputs, key, error):
            with lock:
                ok = error is None and key_of(outputs) == key
                ended[key] = ended.get(key, 0) + (1 if ok else 1000)
                if len(ended) == n:
                    done.set()
        ie.register_callback(cb)
        for k in range(n):
            ie.run_async(keyed(ie, k), user_arg=k)
            if k == 50:
                print("running", flush=True)
        done.wait(120)
        print("once", sorted(ended) == list(range(n)) and set(ended.values()) == {1})
        print("hosts", {c["host"]: c["jobs_done"] for c in ie.get_stats()["cores"]})
    """)], env=env, text=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert p.stdout.readline().strip() == "running"
    leaving.send_signal(signal.SIGTERM)
    assert leaving.wait(30) == 0
    out, err = p.communicate(timeout=120)
    assert p.returncode == 0, err
    assert "once True" in out, out + err
    log = leaving.stderr.read()
    assert "SIGTERM, draining" in log and "every job it took has ended" in log, log
