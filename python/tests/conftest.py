import os
import sys

import numpy as np
import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.normpath(os.path.join(HERE, "..", ".."))
MODEL_DIR = os.environ.get("ACTORRT_MODEL_DIR", os.path.join(REPO, "build", "models"))


def model(name):
    return os.path.join(MODEL_DIR, name + ".onnx")


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


def key_of(outputs):
    return int(np.frombuffer(outputs[0].tobytes()[:8], dtype=np.uint64)[0])


sys.path.insert(0, HERE)
