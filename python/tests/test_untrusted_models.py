"""Model files and paths are untrusted input: each bad one is a typed error
from the engine and from parse_model, never a crash or a hang."""

import os
import subprocess
import sys
import textwrap

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper

from conftest import REPO, model

PARSE_MODEL = os.path.join(REPO, "build", "tools", "parse_model")


def save(tmp_path, name, nodes, inputs, outputs, initializers=(), opset=13):
    graph = helper.make_graph(nodes, name, inputs, outputs, list(initializers))
    m = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)])
    path = str(tmp_path / (name + ".onnx"))
    with open(path, "wb") as f:
        f.write(m.SerializeToString())  # unchecked on purpose
    return path


def raw_tensor(name, dims, data):
    t = TensorProto()
    t.name, t.data_type, t.raw_data = name, TensorProto.FLOAT, data
    t.dims.extend(dims)
    return t


def vi(name, shape):
    return helper.make_tensor_value_info(name, TensorProto.FLOAT, shape)


def conv_model(tmp_path, **attrs):
    w = helper.make_tensor("w", TensorProto.FLOAT, [4, 3, 3, 3], np.zeros(108, np.float32))
    node = helper.make_node("Conv", ["x", "w"], ["y"], **attrs)
    return save(tmp_path, "conv", [node], [vi("x", [1, 3, 8, 8])], [vi("y", None)], [w])


def bad_models(tmp_path):
    yield "conv strides 0", conv_model(tmp_path, strides=[0, 0]), "strides"
    pool = helper.make_node("MaxPool", ["x"], ["y"], kernel_shape=[2, 2], strides=[0, 1])
    yield "maxpool strides 0", save(tmp_path, "pool", [pool], [vi("x", [1, 3, 8, 8])],
                                    [vi("y", None)]), "strides"
    d2s = helper.make_node("DepthToSpace", ["x"], ["y"], blocksize=2**62)
    yield "depth-to-space 2^62", save(tmp_path, "d2s", [d2s], [vi("x", [1, 4, 2, 2])],
                                      [vi("y", None)]), "blocksize"
    rank43 = helper.make_node("Relu", ["x"], ["y"])
    yield "rank 43", save(tmp_path, "rank43", [rank43], [vi("x", [1] * 43)],
                          [vi("y", [1] * 43)]), "rank 43"
    short = raw_tensor("w", [4 * 1024 * 1024], b"\0" * 8)
    add = helper.make_node("Add", ["x", "w"], ["y"])
    yield "short initializer", save(tmp_path, "short", [add], [vi("x", [4 * 1024 * 1024])],
                                    [vi("y", [4 * 1024 * 1024])], [short]), "8 bytes"
    small = raw_tensor("w", [16], b"\0" * 12)
    yield "short small initializer", save(tmp_path, "small", [add], [vi("x", [16])],
                                          [vi("y", [16])], [small]), "12 bytes"
    huge = helper.make_node("Relu", ["x"], ["y"])
    yield "overflowing dims", save(tmp_path, "huge", [huge], [vi("x", [2**31, 2**31, 2**31])],
                                   [vi("y", None)]), "elements"


def test_bad_models_are_typed_errors(tmp_path):
    cases = list(bad_models(tmp_path))
    script = textwrap.dedent(f"""
        import os, sys
        os.environ["ACTORRT_DEVICES"] = "cpu:1"
        import dx_engine
        from dx_engine import InferenceEngine
        for label, path, expect in {[(c[0], c[1], c[2]) for c in cases]!r}:
            try:
                InferenceEngine(path)
                print("LOADED", label)
            except ValueError as e:
                assert isinstance(e, RuntimeError), label  # DX-RT code catches that
                print("ok" if expect in str(e) else "WRONG " + label + ": " + str(e))
        print("done")
    """)
    r = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                       timeout=120, env=os.environ)
    assert r.returncode == 0, r.stderr
    assert r.stdout.split() == ["ok"] * len(cases) + ["done"], r.stdout
    for label, path, expect in cases:
        p = subprocess.run([PARSE_MODEL, "-m", path], capture_output=True, text=True,
                           timeout=60)
        assert p.returncode == 2, (label, p.returncode, p.stderr)
        assert "invalid_model" in p.stderr or "InvalidModel" in p.stderr or expect in p.stderr


def test_paths_are_checked(tmp_path):
    fifo = str(tmp_path / "pipe.onnx")
    os.mkfifo(fifo)
    script = textwrap.dedent(f"""
        import os
        os.environ["ACTORRT_DEVICES"] = "sim:1"
        from dx_engine import InferenceEngine
        for path in [{str(tmp_path)!r}, {fifo!r}, "/dev/zero",
                     {model('tiny_cnn') + chr(0) + 'x'!r}, {str(tmp_path / 'none.onnx')!r}]:
            try:
                InferenceEngine(path)
                print("LOADED")
            except FileNotFoundError as e:
                print("FileNotFoundError:", e)
            except ValueError as e:
                print("ValueError:", e)
    """)
    r = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                       timeout=30, env=os.environ)
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    assert len(lines) == 5, r.stdout
    assert "FileNotFoundError" in lines[0] and "is a directory" in lines[0]
    assert "FileNotFoundError" in lines[1] and "not a regular file" in lines[1]
    assert "FileNotFoundError" in lines[2] and "not a regular file" in lines[2]
    assert "ValueError" in lines[3] and "NUL" in lines[3]
    assert "FileNotFoundError" in lines[4] and "not found" in lines[4]
