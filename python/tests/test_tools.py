"""The command-line tools on the bundled model: flags, exit codes, JSON."""

import json
from collections import Counter
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
    assert all(0 <= c["utilisation"] <= 1 and c["backend"] == "simulated-npu"
               for c in d["cores"])
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
    # Numbers out of range are named in words, not as a range up to DBL_MAX.
    r = run_model("-m", BUNDLED, "-l", "0")
    assert r.returncode != 0 and "--loops: must be greater than 0, got 0" in r.stderr
    r = run_model("-m", BUNDLED, "-w", "-1")
    assert r.returncode != 0 and "must be 0 or more, got -1" in r.stderr
    r = run_model("-m", BUNDLED, "--fps", "fast")
    assert r.returncode != 0 and "'fast' is not a number" in r.stderr
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


DXBENCHMARK = os.path.join(REPO, "build", "tools", "dxbenchmark")
CHROMIUM = "/usr/bin/chromium"


def dxbenchmark(*args, devices="sim:3:200us"):
    env = dict(os.environ, ACTORRT_DEVICES=devices)
    return subprocess.run([DXBENCHMARK, *args], capture_output=True,
                          text=True, timeout=300, env=env)


@pytest.fixture
def model_folder(tmp_path):
    folder = tmp_path / "models"
    (folder / "more").mkdir(parents=True)
    for name in ["tiny_cnn", "multi_io"]:
        (folder / f"{name}.onnx").write_bytes(open(model(name), "rb").read())
    (folder / "more" / "yolo_head.onnx").write_bytes(
        open(model("yolo_head"), "rb").read())
    return folder


def test_dxbenchmark_json_csv_and_sorting(model_folder, tmp_path):
    out = tmp_path / "out"
    r = dxbenchmark("--dir", str(model_folder), "-l", "150", "--sort", "fps",
                    "--result-path", str(out))
    assert r.returncode == 0, r.stderr
    d = json.loads((out / "dxbenchmark.json").read_text())
    models = d["models"]
    assert [m["model"] for m in models] != [] and len(models) == 2  # not recursive
    fps = [m["fps"] for m in models]
    assert fps == sorted(fps, reverse=True)
    for m in models:
        assert m["ok"] and m["simulated"] and m["jobs"] == 150
        assert abs(m["fps"] * m["seconds"] - 150) < 1
        lat = m["latency_ms"]
        assert lat["p50"] <= lat["p90"] <= lat["p95"] <= lat["p99"] <= lat["max"]
        assert 0.1 < m["npu_time_ms"] < 2  # 200 us simulated cores
        assert len(m["cores"]) == 3 and sum(c["jobs"] for c in m["cores"]) == 150
        assert all(0 < c["utilisation"] <= 1 for c in m["cores"])
    import csv
    rows = list(csv.DictReader(open(out / "dxbenchmark.csv")))
    assert [row["model"] for row in rows] == [m["model"] for m in models]
    assert float(rows[0]["fps"]) == pytest.approx(models[0]["fps"], rel=1e-3)
    r = dxbenchmark("--dir", str(model_folder), "--recursive", "-l", "20",
                    "--sort", "name", "--result-path", str(out))
    assert r.returncode == 0, r.stderr
    names = [m["model"] for m in json.loads((out / "dxbenchmark.json").read_text())["models"]]
    assert names == ["multi_io", "tiny_cnn", "yolo_head"]


def test_dxbenchmark_reports_broken_models_and_refuses_bad_flags(model_folder, tmp_path):
    (model_folder / "broken.onnx").write_text("not a model")
    out = tmp_path / "out"
    r = dxbenchmark("--dir", str(model_folder), "-l", "10", "--result-path", str(out))
    assert r.returncode == 1
    assert "FAILED" in r.stdout and "not an ONNX model" in r.stdout
    import csv
    rows = {row["model"]: row for row in csv.DictReader(open(out / "dxbenchmark.csv"))}
    assert rows["broken"]["ok"] == "false" and "not an ONNX model" in rows["broken"]["error"]
    assert rows["tiny_cnn"]["ok"] == "true"
    r = dxbenchmark("--dir", str(tmp_path / "nowhere"))
    assert r.returncode == 2 and "is not a folder" in r.stderr
    empty = tmp_path / "empty"
    empty.mkdir()
    r = dxbenchmark("--dir", str(empty))
    assert r.returncode == 2 and "no .onnx model" in r.stderr
    r = dxbenchmark("--dir", str(model_folder), "--sort", "colour")
    assert r.returncode != 0 and "colour" in r.stderr


class _Report(__import__("html.parser").parser.HTMLParser):
    """Counts the report's chart elements and anything it would fetch."""

    def __init__(self):
        super().__init__()
        self.classes = Counter()
        self.fetches = []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        for c in (a.get("class") or "").split():
            self.classes[(tag, c)] += 1
        if tag in ("script", "link", "img", "iframe") or "src" in a:
            self.fetches.append((tag, a))


def test_dxbenchmark_html_report_renders_its_charts(model_folder, tmp_path):
    out = tmp_path / "out"
    r = dxbenchmark("--dir", str(model_folder), "-l", "100", "--result-path", str(out))
    assert r.returncode == 0, r.stderr
    page = (out / "dxbenchmark.html").read_text()
    report = _Report()
    report.feed(page)
    assert report.fetches == []  # self-contained: nothing fetched
    assert "http" not in page.replace("http://www.w3.org", "")
    assert report.classes[("rect", "fps-bar")] == 2
    assert report.classes[("svg", "latency-chart")] == 2
    assert report.classes[("rect", "util-bar")] == 2 * 3
    assert "SIMULATED" in page
    if not os.path.exists(CHROMIUM):
        pytest.skip("Debian's chromium is not installed (scripts/install_deps.sh)")
    png = tmp_path / "report.png"
    subprocess.run([CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu",
                    "--disable-quic", "--no-first-run",
                    "--disable-background-networking",
                    "--disable-component-update", "--disable-sync",
                    f"--user-data-dir={tmp_path / 'chromium'}",
                    "--window-size=1100,1400", f"--screenshot={png}",
                    (out / "dxbenchmark.html").as_uri()],
                   capture_output=True, timeout=120, check=True)
    from PIL import Image
    image = Image.open(png).convert("RGB")
    assert image.size == (1100, 1400)
    colours = Counter(image.getdata())
    # The charts' fills, as Chromium painted them: FPS bars, latency
    # histograms and the utilisation bars of the second and third core.
    for fill in [(0x3b, 0x6f, 0xb6), (0xe0, 0x7b, 0x39), (0x3a, 0x9e, 0x6f)]:
        assert colours[fill] > 500, fill
