"""Dynamic batching from Python: options, environment, statistics, tools."""

import json
import os
import subprocess
import sys
import threading

import numpy as np
import pytest

from conftest import REPO, key_of, keyed, model
from dx_engine import InferenceEngine, InferenceOption
from dx_engine import utils


def option_in_child(env):
    code = ("from dx_engine import InferenceOption as O; o = O(); "
            "print(o.max_batch_size, o.batch_delay_us)")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                       env=dict(os.environ, **env), timeout=60)
    assert r.returncode == 0, r.stderr
    return r.stdout.split()


def test_defaults_and_environment():
    assert option_in_child({}) == ["1", "0"]
    assert option_in_child({"ACTORRT_MAX_BATCH": "4",
                            "ACTORRT_BATCH_DELAY_US": "250"}) == ["4", "250"]
    # Out of range or not a number: ignored, as DXRT_TASK_MAX_LOAD is.
    assert option_in_child({"ACTORRT_MAX_BATCH": "0",
                            "ACTORRT_BATCH_DELAY_US": "soon"}) == ["1", "0"]


def test_bad_values_are_typed_errors():
    o = InferenceOption()
    for bad in (0, -1, 257):
        with pytest.raises(ValueError):
            o.max_batch_size = bad
    for bad in (1.5, "8", True):
        with pytest.raises(TypeError):
            o.max_batch_size = bad
    with pytest.raises(ValueError):
        o.batch_delay_us = -1
    o.max_batch_size, o.batch_delay_us = 256, 1000
    assert "max_batch_size=256" in repr(o)


def test_queued_jobs_run_together_each_with_its_own_outputs(sim):
    sim("sim:1:2ms:batch=0.1")
    o = InferenceOption()
    o.max_batch_size = 8
    o.buffer_count = 40
    n = 200
    with InferenceEngine(model("strided_32"), o) as ie:
        wrong, ended = [], threading.Semaphore(0)

        def cb(outputs, key):
            if key_of(outputs) != key:
                wrong.append(key)
            ended.release()

        ie.register_callback(cb)
        for k in range(1, n + 1):
            ie.run_async(keyed(ie, k), user_arg=k)
        for _ in range(n):
            assert ended.acquire(timeout=30)
        stats = ie.get_stats()
    assert wrong == []
    assert 2.0 < stats["mean_batch"] <= 8.0
    assert stats["cores"][0]["mean_batch"] == pytest.approx(stats["mean_batch"])


def test_batching_off_runs_one_job_per_call(sim):
    sim("sim:1:1ms")
    o = InferenceOption()
    o.max_batch_size = 1
    o.buffer_count = 40
    with InferenceEngine(model("strided_32"), o) as ie:
        ids = [ie.run_async(keyed(ie, k)) for k in range(30)]
        for i in ids:
            ie.wait(i)
        assert ie.get_stats()["mean_batch"] == 1.0


def test_parse_model_says_whether_a_model_batches(capsys):
    for name, says in [("strided_32", "batches yes (dimension 0 is symbolic)"),
                       ("tiny_cnn", "re-declared"),
                       ("fixed_reshape", "batches no: ")]:
        utils.parse_model(model(name))
        assert says in capsys.readouterr().out


def test_run_model_reports_the_mean_batch(tmp_path):
    out = tmp_path / "r.json"
    env = dict(os.environ, ACTORRT_DEVICES="sim:1:1ms:batch=0.1")  # batching pays
    r = subprocess.run([os.path.join(REPO, "build", "tools", "run_model"),
                        "-m", model("strided_32"), "-l", "300", "--buffer-count", "30",
                        "--max-batch", "10", "--json", str(out)],
                       capture_output=True, text=True, env=env, timeout=120)
    assert r.returncode == 0, r.stderr
    assert "mean batch" in r.stdout
    d = json.loads(out.read_text())
    assert d["max_batch"] == 10 and 1.5 < d["mean_batch"] <= 10
    bad = subprocess.run([os.path.join(REPO, "build", "tools", "run_model"),
                          "-m", model("strided_32"), "--max-batch", "0"],
                         capture_output=True, text=True, env=env, timeout=60)
    assert bad.returncode != 0 and "max-batch" in bad.stderr


@pytest.mark.skipif(not __import__("dx_engine")._native.is_ort_supported(),
                    reason="needs ONNX Runtime")
def test_batched_outputs_match_unbatched_on_onnx_runtime():
    x = np.random.default_rng(3).random((24, 3, 32, 32), dtype=np.float32)
    results = {}
    for batch in (1, 8):
        o = InferenceOption()
        o.max_batch_size = batch
        o.buffer_count = 24
        with InferenceEngine(model("strided_32"), o) as ie:
            ids = [ie.run_async([x[i:i + 1]]) for i in range(24)]
            results[batch] = [ie.wait(i)[0] for i in ids]
    for a, b in zip(results[1], results[8]):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-5)
