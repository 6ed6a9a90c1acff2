"""The command-line tools on the bundled model: flags, exit codes, JSON."""

import json
import os
import signal
import subprocess
import time

import pytest

from conftest import REPO, model

RUN_MODEL = os.path.join(REPO, "build", "tools", "run_model")
BUNDLED = os.path.join(REPO, "models", "tiny_cnn.onnx")


def run_model(*args, devices="sim:3", timeout=120):
    env = dict(os.environ, ACTORRT_DEVICES=devices)
    return subprocess.run([RUN_MODEL, *args], capture_output=True, text=True,
                          timeout=timeout, env=env)


def test_run_model_json_is_consistent(tmp_path):
    out = tmp_path / "r.json"
    r = run_model("-m", BUNDLED, "-l", "600", "--json", str(out),
                  "--concurrency-sweep", "1,2")
    assert r.returncode == 0, r.stderr
    assert "* Benchmark Result (600 inputs)" in r.stdout
    assert "  - FPS : " in r.stdout and "SIMULATED" in r.stdout
    d = json.loads(out.read_text())
    assert d["jobs"] == 600 and d["errors"] == 0 and d["simulated"] is True
    assert abs(d["fps"] * d["seconds"] - 600) < 1
    lat = d["latency_ms"]
    assert lat["p50"] <= lat["p90"] <= lat["p95"] <= lat["p99"] <= lat["p99.9"] <= lat["max"]
    assert sum(c["jobs"] for c in d["cores"]) == 600 and len(d["cores"]) == 3
    assert all(c["simulated"] for c in d["cores"])
    assert [row["concurrency"] for row in d["concurrency_sweep"]] == [1, 2]


def test_run_model_time_input_output_and_open_loop(tmp_path):
    size = 3 * 32 * 32 * 4
    good = tmp_path / "in.bin"
    good.write_bytes(bytes(range(256)) * (size // 256))
    out = tmp_path / "out.bin"
    r = run_model("-m", BUNDLED, "-t", "0.5", "-i", str(good), "-o", str(out),
                  "--json", str(tmp_path / "t.json"))
    assert r.returncode == 0, r.stderr
    d = json.loads((tmp_path / "t.json").read_text())
    assert d["jobs"] > 0 and 0.4 < d["seconds"] < 2.0
    assert out.read_bytes()[:40] == good.read_bytes()[:40]  # sim echoes input 0
    r = run_model("-m", BUNDLED, "-l", "100", "-f", "200", "--json", str(tmp_path / "f.json"))
    assert r.returncode == 0, r.stderr
    f = json.loads((tmp_path / "f.json").read_text())
    assert 150 < f["fps"] < 230 and f["target_fps"] == 200


def test_run_model_refuses_bad_input_flags_and_models(tmp_path):
    short = tmp_path / "short.bin"
    short.write_bytes(b"123")
    r = run_model("-m", BUNDLED, "-i", str(short))
    assert r.returncode == 2 and "3 bytes" in r.stderr and "12288" in r.stderr
    assert run_model("-m", BUNDLED, "--no-such-flag").returncode != 0
    assert run_model("-m", BUNDLED, "-n", "9").returncode != 0
    r = run_model("-m", str(tmp_path / "missing.onnx"))
    assert r.returncode == 2 and "not found" in r.stderr
    corrupt = tmp_path / "corrupt.onnx"
    corrupt.write_bytes(b"\x08\x07garbage")
    r = run_model("-m", str(corrupt))
    assert r.returncode == 2 and "invalid_model" in r.stderr


def test_run_model_ctrl_c_prints_what_it_measured():
    env = dict(os.environ, ACTORRT_DEVICES="sim:1:5ms")
    p = subprocess.Popen([RUN_MODEL, "-m", BUNDLED, "-t", "60"], env=env, text=True,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    time.sleep(1.0)
    p.send_signal(signal.SIGINT)
    out, err = p.communicate(timeout=20)
    assert p.returncode == 0, err
    assert "* Benchmark Result" in out and "interrupted" in out


PARSE_MODEL = os.path.join(REPO, "build", "tools", "parse_model")


def test_parse_model_text_json_and_backends(tmp_path):
    r = subprocess.run([PARSE_MODEL, "-m", BUNDLED], capture_output=True, text=True,
                       timeout=60)
    assert r.returncode == 0, r.stderr
    assert "input size 12288 bytes" in r.stdout and "parameters " in r.stdout
    assert "backends" in r.stdout and "opencv-dnn" in r.stdout
    out = tmp_path / "m.json"
    r = subprocess.run([PARSE_MODEL, "-m", BUNDLED, "-j", "-o", str(out)],
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    d = json.loads(out.read_text())
    assert d == json.loads(r.stdout)
    assert d["input_size"] == 12288 and d["inputs"][0]["shape"] == [1, 3, 32, 32]
    assert d["operators"]["Conv"] == 2 and d["macs"] > 0
    assert d["parameter_bytes"] > 0
    assert {b["backend"] for b in d["backends"]} == {"onnxruntime", "opencv-dnn"}
    # OpenCV 4.6 cannot run opset-13 Clip with min/max inputs, and says why.
    clip = subprocess.run([PARSE_MODEL, "-m", model("clip_opset13"), "-j"],
                          capture_output=True, text=True, timeout=60)
    opencv = [b for b in json.loads(clip.stdout)["backends"] if b["backend"] == "opencv-dnn"]
    assert opencv[0]["runs"] is False and "Clip" in opencv[0]["why"]
    bad = subprocess.run([PARSE_MODEL, "-m", str(tmp_path / "none.onnx")],
                         capture_output=True, text=True, timeout=60)
    assert bad.returncode == 2 and "not found" in bad.stderr


def test_dxrt_cli_info_names_every_library():
    r = subprocess.run([os.path.join(REPO, "build", "tools", "dxrt-cli"), "-i"],
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    for key in ("on CAF 0.17", "ONNX Runtime: ", "ONNX: 1.", "OpenCV: 4.", "build: ",
                "ACTORRT_NODES: "):
        assert key in r.stdout, (key, r.stdout)
