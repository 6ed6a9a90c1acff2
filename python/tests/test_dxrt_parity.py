"""DX-RT's Python package, as its own tools and tests use it (2.9.5, v3)."""

import os
import subprocess
import threading
import warnings

import numpy as np
import pytest

from conftest import REPO, keyed, model
import dx_engine
from dx_engine import InferenceEngine, InferenceOption
from dx_engine.dtype import NumpyDataTypeMapper
from dx_engine.utils import describe_model, ensure_contiguous, parse_model


def test_modules_dx_rt_tools_import():
    from dx_engine import version
    assert dx_engine.__version__ == version.__version__
    assert NumpyDataTypeMapper.FLOAT is np.float32
    assert NumpyDataTypeMapper.from_string("uint8") is np.uint8
    with pytest.raises(ValueError):
        NumpyDataTypeMapper.from_string("complex")
    tool = subprocess.run([os.path.join(REPO, "build", "tools", "parse_model"), "-m",
                           model("tiny_cnn")], capture_output=True, text=True, check=True)
    assert describe_model(model("tiny_cnn")) == tool.stdout
    assert "Conv" in tool.stdout
    strided = np.zeros((8, 8), np.float32)[:, ::2]
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        fixed = ensure_contiguous([strided, np.zeros(3)])
    assert fixed[0].flags["C_CONTIGUOUS"] and np.array_equal(fixed[0], strided)
    assert len(caught) == 1 and "not contiguous" in str(caught[0].message)
    with pytest.raises(TypeError):
        ensure_contiguous("x")


def test_inference_option_prints_as_dx_rt():
    opt = InferenceOption()
    assert str(opt.bound_option) == "BOUND_OPTION.NPU_ALL"
    assert f"{InferenceOption.BOUND_OPTION.NPU_12}" == "BOUND_OPTION.NPU_12"
    assert opt.get_use_ort() == dx_engine._native.is_ort_supported()


def test_model_errors_are_caught_both_ways(tmp_path):
    bad = tmp_path / "bad.onnx"
    bad.write_bytes(b"not a model")
    for path, python_type in ((str(tmp_path / "missing.onnx"), FileNotFoundError),
                              (str(bad), ValueError), (str(tmp_path), FileNotFoundError)):
        with pytest.raises(RuntimeError):  # as DX-RT code catches it
            InferenceEngine(path)
        with pytest.raises(python_type):
            InferenceEngine(path)
    with pytest.raises(FileNotFoundError, match="is a directory"):
        InferenceEngine(str(tmp_path))


def test_python_api_test_flow(sim, tiny):
    """The calls DX-RT's python_api_test.py makes, with honest meanings."""
    ie = InferenceEngine(tiny)
    size = ie.get_input_size()
    x = [np.arange(size, dtype=np.uint8)]
    with pytest.raises(RuntimeError, match="validate_device"):
        ie.get_bitmatch_mask(0)
    outputs = ie.validate_device(x, 0)
    assert outputs != [] and outputs[0].shape == (1, 10)
    mask = ie.get_bitmatch_mask(0)
    # DX-RT's layout: a bool per bit of the packed mask, one per output byte
    # (40 bytes: no padding).
    assert mask.dtype == np.bool_ and mask.shape == (ie.get_output_size(),)
    # A simulated NPU computes nothing: its output bytes are not the
    # reference lane's (a real CPU lane), and the mask says so.
    assert mask.sum() < mask.size
    assert np.array_equal(np.unpackbits(ie.bitmatch_mask(0), bitorder="little"), mask)
    backends = ie.get_bitmatch_backends()
    assert "simulated" in " ".join(backends["device"])
    assert backends["reference"] and "simulated" not in " ".join(backends["reference"])
    with pytest.raises(ValueError):
        ie.ValidateDevice(x, 7)  # no such device
    ie.wait(ie.run_async(keyed(ie, 42)))
    tasks = ie.get_all_task_outputs()
    assert len(tasks) == ie.get_num_tail_tasks() == ie.get_num_tails() == 1
    assert ie.get_outputs()[0][0].shape == (1, 10)
    assert ie.get_compile_type() == "onnx"
    assert ie.is_ppu() is False and ie.is_PPU() is False
    assert ie.dispose() is None


def test_validate_device_on_cpu_lanes_bit_matches_itself_or_says_where(tiny, monkeypatch):
    monkeypatch.setenv("ACTORRT_DEVICES", "cpu:1")
    with InferenceEngine(tiny) as ie:
        x = [np.random.default_rng(1).random((1, 3, 32, 32), dtype=np.float32)]
        out = ie.validate_device(x)
        ref = ie.run(x)
        assert np.array_equal(out[0], ref[0])
        mask = ie.get_bitmatch_mask()
        backends = ie.get_bitmatch_backends()
        if backends["device"] == backends["reference"]:
            assert mask.all()  # one backend (no ORT here): identical bytes
        else:
            # ORT against OpenCV DNN: float results agree closely, not bit
            # for bit; the mask is per output byte.
            assert mask.shape == (40,)


def test_callback_with_three_parameters_gets_the_error(sim, tiny, monkeypatch):
    monkeypatch.setenv("ACTORRT_DEVICES", "sim:1:300ms")
    got = []
    done = threading.Event()

    def cb(outputs, user_arg, error):
        got.append((len(outputs), user_arg, error))
        if len(got) == 3:
            done.set()

    ie = InferenceEngine(tiny)
    ie.register_callback(cb)
    ie.wait(ie.run_async(keyed(ie, 1), user_arg="ok"))
    ie.run_async(keyed(ie, 2), user_arg="a")
    ie.run_async(keyed(ie, 3), user_arg="b")
    ie.dispose(timeout=0.05)  # cancels what is still running
    assert done.wait(10)
    ok = [g for g in got if g[1] == "ok"][0]
    assert ok[0] == 1 and ok[2] is None
    failed = [g for g in got if g[2] is not None]
    assert failed and all(n == 0 and isinstance(e, RuntimeError) and "disposed" in str(e)
                          for n, _, e in failed)
