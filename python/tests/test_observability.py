"""What a running ActorRT tells about itself: get_stats(), the Prometheus
endpoint, the profiler trace and the status files dxrt-cli -s reads."""

import json
import os
import re
import socket
import subprocess
import sys
import textwrap
import threading
import time
import urllib.error
import urllib.request
from collections import Counter

import numpy as np
import pytest
from prometheus_client.parser import text_string_to_metric_families

import dx_engine
from conftest import REPO, free_port, model

TOOLS = os.path.join(REPO, "build", "tools")
PYTHONPATH = os.path.join(REPO, "build", "python")


def wait_until(predicate, seconds=20.0):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError("timed out waiting")


def status_showing(text, env):
    """dxrt-cli -s's output, once it shows `text` (status files are
    rewritten every second)."""
    def read():
        out = subprocess.run([os.path.join(TOOLS, "dxrt-cli"), "-s"],
                             capture_output=True, text=True, timeout=30,
                             env=dict(os.environ, **env)).stdout
        return out if text in out else None
    return wait_until(read)


# A child process that runs JOBS jobs, says "ready" and waits for its stdin
# to close: the tests read its endpoint and status file meanwhile.
SERVING = textwrap.dedent("""
    import sys, numpy as np, dx_engine
    ie = dx_engine.InferenceEngine(sys.argv[1])
    x = np.zeros(ie.get_input_size(), np.uint8)
    ids = [ie.run_async([x]) for _ in range(int(sys.argv[2]))]
    for i in ids:
        ie.wait(i)
    print("ready", flush=True)
    sys.stdin.read()
    ie.dispose()
""")


def serving(jobs, **env):
    full = dict(os.environ, PYTHONPATH=PYTHONPATH, **env)
    p = subprocess.Popen([sys.executable, "-c", SERVING, model("tiny_cnn"),
                          str(jobs)], stdin=subprocess.PIPE,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         text=True, env=full)
    assert p.stdout.readline().strip() == "ready", p.stderr.read()
    return p


def families(text):
    return {f.name: f for f in text_string_to_metric_families(text)}


def sample(fams, family, name, **labels):
    for s in fams[family].samples:
        if s.name == name and all(s.labels.get(k) == v for k, v in labels.items()):
            return s.value
    raise KeyError((family, name, labels))


def test_get_stats_counts_every_job_per_core(sim, tiny):
    sim("sim:3:300us:fail=0.2:seed=7")
    ie = dx_engine.InferenceEngine(tiny)
    x = np.zeros(ie.get_input_size(), np.uint8)
    ids = [ie.run_async([x]) for _ in range(300)]
    failed = 0
    for i in ids:
        try:
            ie.wait(i)
        except RuntimeError:
            failed += 1
    s = ie.get_stats()
    assert 0 < failed < 300
    assert s["jobs_done"] == 300 - failed and s["jobs_failed"] == failed
    assert s["in_flight"] == 0 and 1 <= s["peak_in_flight"] <= 18
    assert len(s["cores"]) == 3
    assert sum(c["jobs_done"] for c in s["cores"]) == s["jobs_done"]
    assert sum(c["jobs_failed"] for c in s["cores"]) == failed
    for d in [s["latency_ms"], s["compute_ms"], s["queue_ms"]]:
        assert d["p50"] <= d["p90"] <= d["p99"] <= d["max"]
    assert s["latency_ms"]["count"] == 300
    assert s["compute_ms"]["count"] == s["jobs_done"]
    # The simulated cores take 300 us a job: the histogram says so.
    assert 0.2 < s["compute_ms"]["p50"] < 1.0
    assert s["latency_ms"]["mean"] >= s["compute_ms"]["mean"]
    for c in s["cores"]:
        assert c["backend"] == "simulated-npu" and c["simulated"]
        assert 0 < c["utilisation"] <= 1.0
    ie.dispose()


def test_prometheus_endpoint_serves_what_ran():
    port = free_port()
    p = serving(250, ACTORRT_DEVICES="sim:3:100us",
                ACTORRT_METRICS=f"127.0.0.1:{port}")
    try:
        text = urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics",
                                      timeout=10).read().decode()
        fams = families(text)
        assert sample(fams, "actorrt_jobs", "actorrt_jobs_total",
                      outcome="done") == 250
        per_core = [sample(fams, "actorrt_core_jobs", "actorrt_core_jobs_total",
                           device="0", core=str(c), outcome="done")
                    for c in range(3)]
        assert sum(per_core) == 250
        runs = sample(fams, "actorrt_runs", "actorrt_runs_total")
        assert 0 < runs <= 250  # batched calls count once
        latency = fams["actorrt_job_latency_seconds"]
        buckets = [s for s in latency.samples if s.name.endswith("_bucket")]
        counts = [s.value for s in buckets]
        assert counts == sorted(counts) and counts[-1] == 250
        assert buckets[-1].labels["le"] == "+Inf"
        assert sample(fams, "actorrt_job_latency_seconds",
                      "actorrt_job_latency_seconds_count") == 250
        assert fams["actorrt_core_up"].type == "gauge"
        assert fams["actorrt_core_compute_seconds"].type == "histogram"
        with pytest.raises(urllib.error.HTTPError) as err:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/other", timeout=10)
        assert err.value.code == 404
    finally:
        p.stdin.close()
        assert p.wait(timeout=30) == 0
    assert f"metrics at http://127.0.0.1:{port}/metrics" in p.stderr.read()


def test_prometheus_endpoint_refused_port_is_a_warning_not_a_crash():
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        p = serving(5, ACTORRT_DEVICES="sim:1",
                    ACTORRT_METRICS=f"127.0.0.1:{port}")
        p.stdin.close()
        assert p.wait(timeout=30) == 0
        assert "ACTORRT_METRICS" in p.stderr.read()


def test_worker_node_serves_its_own_metrics(tmp_path):
    node = subprocess.Popen([os.path.join(TOOLS, "actorrt-node"), "--devices",
                             "sim:2", "--metrics", "127.0.0.1:0"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)
    try:
        port = re.search(r":(\d+)", node.stdout.readline()).group(1)
        metrics_at = re.search(r"metrics at (http://\S+)",
                               node.stderr.readline()).group(1)
        env = dict(ACTORRT_DEVICES="none", ACTORRT_NODES=f"127.0.0.1:{port}",
                   ACTORRT_STATUS_DIR=str(tmp_path))
        client = serving(120, **env)

        # The client's status names the node's device and what its cores
        # did for this client.
        out = status_showing("120 jobs done", env)
        assert "node " in out and "this host" not in out
        assert sum(int(n) for n in re.findall(r"(\d+) done", out)) == 120
        client.stdin.close()
        assert client.wait(timeout=30) == 0
        fams = families(urllib.request.urlopen(metrics_at, timeout=10)
                        .read().decode())
        done = [sample(fams, "actorrt_core_jobs", "actorrt_core_jobs_total",
                       device="0", core=str(c), outcome="done") for c in range(2)]
        assert sum(done) == 120
        # The node's engines ran nothing: its clients count their own jobs.
        assert sample(fams, "actorrt_jobs", "actorrt_jobs_total",
                      outcome="done") == 0
    finally:
        node.terminate()
        node.wait(timeout=30)


def test_trace_has_one_event_per_stage_per_job(sim, tiny, tmp_path):
    ie = dx_engine.InferenceEngine(tiny)
    ie.register_callback(lambda outputs, arg: 0)
    x = np.zeros(ie.get_input_size(), np.uint8)
    path = tmp_path / "trace.json"

    def submit():
        for i in [ie.run_async([x]) for _ in range(40)]:
            ie.wait(i)

    with dx_engine.trace.recording(path):
        threads = [threading.Thread(target=submit) for _ in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    ie.run([x])  # after stop(): not recorded
    doc = json.loads(path.read_text())
    events = doc["traceEvents"]
    assert doc["otherData"]["jobs"] == 80
    per_job = Counter((e["name"], e["args"]["job"]) for e in events
                      if e["ph"] == "X")
    jobs = {job for _, job in per_job}
    assert len(jobs) == 80
    for stage in ["submitted", "dispatched", "compute", "delivered", "callback"]:
        assert all(per_job[(stage, j)] == 1 for j in jobs), stage
    flows = Counter(e["ph"] for e in events if e.get("cat") == "job"
                    and e["ph"] in "stf")
    assert flows == {"s": 80, "t": 80, "f": 80}
    names = {e["args"]["name"] for e in events if e["ph"] == "M"}
    assert {"submitting thread", "NPU core 0:0", "results"} <= {
        re.sub(r" \d+$|: .*$", "", n) for n in names}
    by_job = {}
    for e in events:
        if e["ph"] == "X":
            by_job.setdefault(e["args"]["job"], {})[e["name"]] = e
    for stages in by_job.values():
        order = [stages[s]["ts"] for s in
                 ["submitted", "dispatched", "compute", "delivered", "callback"]]
        assert order == sorted(order)
    assert dx_engine.trace.stop() == 0  # not recording any more
    ie.dispose()


def test_trace_from_the_environment_and_run_model(tmp_path):
    env_trace = tmp_path / "env.json"
    env = dict(os.environ, ACTORRT_DEVICES="sim:2", ACTORRT_TRACE=str(env_trace))
    r = subprocess.run([os.path.join(TOOLS, "run_model"), "-m",
                        model("tiny_cnn"), "-l", "30", "-w", "0"],
                       capture_output=True, text=True, timeout=60, env=env)
    assert r.returncode == 0, r.stderr
    assert json.loads(env_trace.read_text())["otherData"]["jobs"] == 30
    flag_trace = tmp_path / "flag.json"
    env.pop("ACTORRT_TRACE")
    r = subprocess.run([os.path.join(TOOLS, "run_model"), "-m",
                        model("tiny_cnn"), "-l", "25", "--trace",
                        str(flag_trace)],
                       capture_output=True, text=True, timeout=60, env=env)
    assert r.returncode == 0, r.stderr
    assert json.loads(flag_trace.read_text())["otherData"]["jobs"] == 25
    r = subprocess.run([os.path.join(TOOLS, "run_model"), "-m",
                        model("tiny_cnn"), "--trace", "/nonexistent/t.json"],
                       capture_output=True, text=True, timeout=60, env=env)
    assert r.returncode == 2 and "cannot write trace file" in r.stderr


def test_dxrt_cli_status_reads_a_running_process(tmp_path):
    env = dict(ACTORRT_DEVICES="sim:3:100us", ACTORRT_STATUS_DIR=str(tmp_path))
    p = serving(90, **env)
    try:
        wait_until(lambda: list(tmp_path.glob(f"{p.pid}-*.json")))
        out = status_showing("90 jobs done", env)
        assert f"* Process {p.pid} (python3)" in out
        assert "3 NPU cores (SIMULATED NPU" in out
        done = [int(n) for n in re.findall(r"(\d+) done", out)]
        assert len(done) == 3 and sum(done) == 90
        assert out.count("simulated-npu") == 3
        # Jobs per executor call, per core (dynamic batching).
        batches = [float(b) for b in re.findall(r"batch (\d+\.\d)", out)]
        assert len(batches) == 3 and all(b >= 1.0 for b in batches)
        mon = subprocess.run([os.path.join(TOOLS, "dxrt-cli"), "-m", "0.1",
                              "-n", "3"], capture_output=True, text=True,
                             timeout=30, env=dict(os.environ, **env)).stdout
        assert mon.count("dxrt-cli -m") == 3
        assert mon.count(f"* Process {p.pid}") == 3
    finally:
        p.stdin.close()
        assert p.wait(timeout=30) == 0
    assert not list(tmp_path.glob("*.json"))  # removed with its runtime
    out = subprocess.run([os.path.join(TOOLS, "dxrt-cli"), "-s"],
                         capture_output=True, text=True, timeout=30,
                         env=dict(os.environ, **env)).stdout
    assert "no running ActorRT process" in out and "NPU 2: running" in out


def test_status_files_of_dead_processes_are_cleaned_up(tmp_path):
    stale = tmp_path / "999999999-1.json"
    stale.write_text(json.dumps({"pid": 999999999, "cores": []}))
    out = subprocess.run([os.path.join(TOOLS, "dxrt-cli"), "-s"],
                         capture_output=True, text=True, timeout=30,
                         env=dict(os.environ, ACTORRT_DEVICES="sim:1",
                                  ACTORRT_STATUS_DIR=str(tmp_path))).stdout
    assert "999999999" not in out and not stale.exists()


@pytest.mark.skipif(os.geteuid() != 0, reason="needs to give a folder away")
def test_a_status_folder_of_another_user_is_not_used(tmp_path):
    theirs = tmp_path / "theirs"
    theirs.mkdir()
    os.chown(theirs, 65534, 65534)  # nobody's
    p = serving(5, ACTORRT_DEVICES="sim:1", ACTORRT_STATUS_DIR=str(theirs))
    p.stdin.close()
    assert p.wait(timeout=30) == 0
    assert "not this user's own folder" in p.stderr.read()
    assert not list(theirs.iterdir())
