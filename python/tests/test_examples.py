"""The seed's seven examples run unchanged and exit 0."""

import os
import subprocess
import sys

import pytest

EXAMPLES = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..",
                        "examples", "python")
NAMES = ["run_sync_model", "run_sync_model_thread", "run_sync_model_bound",
         "run_async_model", "run_async_model_thread", "run_async_model_wait",
         "run_batch_model"]


@pytest.mark.parametrize("name", NAMES)
def test_example_runs(name):
    r = subprocess.run([sys.executable, os.path.join(EXAMPLES, name + ".py"), "-l", "12"],
                       cwd=EXAMPLES, capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stdout + r.stderr
    assert r.stdout.strip()


def test_bundled_model_is_the_generated_one(tmp_path):
    repo = os.path.join(EXAMPLES, "..", "..")
    subprocess.run([sys.executable, os.path.join(repo, "models", "generate_models.py"),
                    str(tmp_path), "--small-only"], check=True)
    with open(os.path.join(repo, "models", "tiny_cnn.onnx"), "rb") as a, \
            open(tmp_path / "tiny_cnn.onnx", "rb") as b:
        assert a.read() == b.read()
