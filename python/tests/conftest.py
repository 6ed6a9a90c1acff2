import os
import socket
import subprocess
import sys
import threading

import numpy as np
import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.normpath(os.path.join(HERE, "..", ".."))
MODEL_DIR = os.environ.get("ACTORRT_MODEL_DIR", os.path.join(REPO, "build", "models"))


def model(name):
    return os.path.join(MODEL_DIR, name + ".onnx")


def free_port():
    """A loopback TCP port nobody listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def tiny():
    return model("tiny_cnn")


@pytest.fixture
def sim(monkeypatch):
    """Engines made in this test run on simulated NPU cores (no compute):
    outputs start with the first bytes of input 0."""
    def use(devices="sim:3"):
        monkeypatch.setenv("ACTORRT_DEVICES", devices)
    use()
    return use


def keyed(ie, key):
    """A raw input whose first 8 bytes hold `key` (echoed by simulated cores)."""
    buf = np.zeros(ie.get_input_size(), dtype=np.uint8)
    buf[:8] = np.frombuffer(np.uint64(key).tobytes(), dtype=np.uint8)
    return [buf]


def ends_after(n):
    """A callback that counts its calls, and the event set at the n-th."""
    done, count = threading.Event(), [0]

    def cb(outputs, user_arg):
        count[0] += 1
        if count[0] == n:
            done.set()
    return cb, done


def key_of(outputs):
    return int(np.frombuffer(outputs[0].tobytes()[:8], dtype=np.uint64)[0])


def make_certificates(tmp_path):
    """A CA, a node and a client certificate it signed, and an outsider's
    certificate from another CA (openssl CLI)."""
    def run(*args):
        subprocess.run(["openssl", *args], check=True, capture_output=True, cwd=tmp_path)
    for ca in ("ca", "other-ca"):
        run("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", ca + ".key",
            "-out", ca + ".pem", "-days", "2", "-subj", "/CN=" + ca)
    for name, ca in (("node", "ca"), ("client", "ca"), ("outsider", "other-ca")):
        run("req", "-newkey", "rsa:2048", "-nodes", "-keyout", name + ".key",
            "-out", name + ".csr", "-subj", "/CN=" + name)
        run("x509", "-req", "-in", name + ".csr", "-CA", ca + ".pem", "-CAkey", ca + ".key",
            "-CAcreateserial", "-out", name + ".pem", "-days", "2")
    return {n: (str(tmp_path / (n + ".pem")), str(tmp_path / (n + ".key")))
            for n in ("node", "client", "outsider")}, str(tmp_path / "ca.pem")


sys.path.insert(0, HERE)
