"""DX-RT's tools on ActorRT: dxrt-cli's flags, dxtop under tmux, run_model's
--skip-io and -v, and ``python3 -m dx_engine.run_model``/``parse_model``."""

import json
import os
import shutil
import subprocess
import sys
import textwrap
import time

import pytest

from conftest import REPO, model
from test_observability import PYTHONPATH, TOOLS, serving, status_showing, wait_until


def cli(*args, env=None, check_rc=0):
    r = subprocess.run([os.path.join(TOOLS, "dxrt-cli"), *args],
                       capture_output=True, text=True, timeout=60,
                       env=dict(os.environ, **(env or {})))
    if check_rc is not None:
        assert r.returncode == check_rc, r.stdout + r.stderr
    return r


@pytest.mark.parametrize("flag", [["-u", "fw.bin"], ["-w", "fw.bin"],
                                  ["-g", "fw.bin"], ["-C", "cfg.json"]])
def test_firmware_commands_say_there_is_no_firmware(flag):
    r = cli(*flag, check_rc=1)
    assert "run no firmware" in r.stderr


def test_version_info_memory_errors_and_device_filter(tmp_path):
    env = dict(ACTORRT_DEVICES="sim:2,cpu:1", ACTORRT_STATUS_DIR=str(tmp_path))
    out = cli("-v", env=env).stdout
    assert "ActorRT 0.1.0" in out and "firmware: none needed" in out
    out = cli("-i", env=env).stdout
    assert "* Device 0: sim:2" in out and "* Device 1:" in out
    assert "Memory: host RAM" in out and "ONNX:" in out
    out = cli("-i", "-d", "1", env=env).stdout
    assert "* Device 0" not in out and "* Device 1:" in out
    out = cli("--ddrerror", env=env).stdout
    assert "host memory controller" in out or "no EDAC memory controller" in out


def test_errorstat_dump_and_reset_on_a_running_process(tmp_path):
    env = dict(ACTORRT_DEVICES="sim:3:100us", ACTORRT_STATUS_DIR=str(tmp_path))
    p = serving(30, **env)
    try:
        status_showing("30 jobs done", env)
        out = cli("--errorstat", env=env).stdout
        assert f"* Process {p.pid} (python3): 0 jobs failed of 30" in out
        assert out.count("running") == 3
        dump = tmp_path / "dump.json"
        cli("-p", str(dump), env=env)
        data = json.loads(dump.read_text())
        assert data["devices"] == ["sim:3:100us"]
        assert data["processes"][0]["pid"] == p.pid
        # -r: each core of the running process rebuilds its lane (tiny_cnn
        # is loaded on all three), and the process goes on serving.
        out = cli("-r", env=env).stdout
        assert f"* Process {p.pid}: 3 lane(s) rebuilt" in out
        out = cli("-r", "1", "-d", "0", env=env).stdout
        assert "3 lane(s) rebuilt" in out
        r = cli("-r", "-d", "5", env=env, check_rc=1)
        assert "no local device 5" in r.stdout
    finally:
        p.stdin.close()
        assert p.wait(timeout=30) == 0
    assert "nothing to reset" in cli("-r", env=env, check_rc=1).stdout


# Keeps three cores busy until its stdin closes.
BUSY = textwrap.dedent("""
    import sys, threading, numpy as np, dx_engine
    ie = dx_engine.InferenceEngine(sys.argv[1])
    x = [np.zeros(ie.get_input_size(), np.uint8)]
    stop = threading.Event()
    def load():
        while not stop.is_set():
            ie.wait(ie.run_async(x))
    threads = [threading.Thread(target=load) for _ in range(3)]
    for t in threads:
        t.start()
    print("ready", flush=True)
    sys.stdin.read()
    stop.set()
    for t in threads:
        t.join()
    ie.dispose()
""")


@pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed")
def test_dxtop_shows_cores_live_and_quits_on_q(tmp_path):
    env = dict(os.environ, PYTHONPATH=PYTHONPATH, ACTORRT_DEVICES="sim:3:1ms",
               ACTORRT_STATUS_DIR=str(tmp_path))
    busy = subprocess.Popen([sys.executable, "-c", BUSY, model("tiny_cnn")],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            text=True, env=env)
    session = f"dxtop-test-{os.getpid()}"
    try:
        assert busy.stdout.readline().strip() == "ready"
        subprocess.run(["tmux", "new-session", "-d", "-s", session, "-x", "160",
                        "-y", "40", "env", f"ACTORRT_STATUS_DIR={tmp_path}",
                        os.path.join(TOOLS, "dxtop"), "-i", "0.5"], check=True)
        subprocess.run(["tmux", "set-option", "-t", session, "remain-on-exit",
                        "on"], check=True)

        def screen():
            return subprocess.run(["tmux", "capture-pane", "-p", "-t", session],
                                  capture_output=True, text=True).stdout

        def busy_screen():
            s = screen()
            rates = [float(line.split("jobs/s")[0].split()[-1])
                     for line in s.splitlines() if "jobs/s" in line]
            return s if len(rates) == 3 and all(r > 0 for r in rates) else None

        s = wait_until(busy_screen, 30)
        assert f"PID {busy.pid}" in s and "SIMULATED" in s
        assert s.count("running") == 3 and "simulated-npu" in s
        assert "host memory" in s and "RSS" in s
        subprocess.run(["tmux", "send-keys", "-t", session, "q"], check=True)
        wait_until(lambda: subprocess.run(
            ["tmux", "display-message", "-p", "-t", session, "#{pane_dead}"],
            capture_output=True, text=True).stdout.strip() == "1", 10)
    finally:
        subprocess.run(["tmux", "kill-session", "-t", session],
                       capture_output=True)
        busy.stdin.close()
        busy.wait(timeout=30)


def run_model(*args, env=None):
    return subprocess.run([os.path.join(TOOLS, "run_model"), *args],
                          capture_output=True, text=True, timeout=120,
                          env=dict(os.environ, **(env or {})))


def test_run_model_skip_io_and_verbose(tmp_path):
    env = dict(ACTORRT_DEVICES="sim:3")
    out_file = tmp_path / "out.bin"
    r = run_model("-m", model("tiny_cnn"), "-l", "50", "--skip-io", "-o",
                  str(out_file), env=env)
    assert r.returncode == 0, r.stderr
    assert "-i and -o are not used" in r.stderr and not out_file.exists()
    assert "  - FPS : " in r.stdout
    assert "NPU Processing Time" not in r.stdout  # DX-RT shows it with -v
    r = run_model("-m", model("tiny_cnn"), "-l", "20", "-v", env=env)
    assert "NPU Processing Time Average" in r.stdout
    assert "Latency Average" in r.stdout
    r = run_model("-m", model("tiny_cnn"), "-s", "--skip-io", env=env)
    assert r.returncode == 2 and "only for benchmark mode" in r.stderr


def python_module(name, *args):
    return subprocess.run([sys.executable, "-m", f"dx_engine.{name}", *args],
                          capture_output=True, text=True, timeout=120,
                          env=dict(os.environ, PYTHONPATH=PYTHONPATH,
                                   ACTORRT_DEVICES="sim:3"))


def test_python_run_model_and_parse_model_modules(tmp_path):
    r = python_module("parse_model", "-m", model("tiny_cnn"))
    assert r.returncode == 0 and "input size 12288 bytes" in r.stdout
    r = python_module("parse_model", "-m", str(tmp_path / "none.onnx"))
    assert r.returncode == 2 and "does not exist" in r.stderr
    r = python_module("run_model", "-m", model("tiny_cnn"), "-l", "40")
    assert r.returncode == 0, r.stderr
    assert "* Benchmark Result (40 inputs)" in r.stdout and "FPS : " in r.stdout
    r = python_module("run_model", "-m", model("tiny_cnn"), "-s", "-l", "5", "-v")
    assert "NPU Processing Time Average" in r.stdout
    x = tmp_path / "in.bin"
    x.write_bytes(bytes(12288))
    out = tmp_path / "out.bin"
    r = python_module("run_model", "-m", model("tiny_cnn"), "-i", str(x),
                      "-o", str(out), "-l", "5")
    assert r.returncode == 0 and out.stat().st_size == 40
    r = python_module("run_model", "-m", model("tiny_cnn"), "-d", "zero")
    assert r.returncode == 2 and "--devices" in r.stderr
