"""Models OpenCV DNN 4.6 cannot run, through dx_engine on ONNX Runtime lanes,
checked against numpy references."""
import numpy as np
import onnx
import pytest
from onnx import numpy_helper

import dx_engine
from conftest import model
from dx_engine import InferenceEngine

pytestmark = pytest.mark.skipif(not dx_engine._native.is_ort_supported(),
                                reason="ONNX Runtime not installed")


def weights(name):
    m = onnx.load(model(name))
    return {i.name: numpy_helper.to_array(i) for i in m.graph.initializer}


def sigmoid(x):
    return 1 / (1 + np.exp(-x))


def yolo_reference(images):
    w = weights("yolo_head")
    conv_w = next(v for k, v in w.items() if k.startswith("w_"))
    conv_b = next(v for k, v in w.items() if k.startswith("b_"))
    anchors = np.array([[10, 13], [16, 30], [33, 23]], np.float32)
    na, no, n, stride = 3, 9, 8, 8.0
    h = np.einsum("oc,chw->ohw", conv_w[:, :, 0, 0], images[0]) + conv_b[:, None, None]
    y = sigmoid(h.reshape(na, no, n, n).transpose(0, 2, 3, 1))  # na,n,n,no
    gy, gx = np.meshgrid(np.arange(n), np.arange(n), indexing="ij")
    grid = np.stack([gx, gy], -1)[None].astype(np.float32)
    xy = (y[..., 0:2] * 2 - 0.5 + grid) * stride
    wh = (y[..., 2:4] * 2) ** 2 * anchors[:, None, None, :]
    return np.concatenate([xy, wh, y[..., 4:]], -1).reshape(1, na * n * n, no)


def layer_norm_reference(x):
    w = weights("layer_norm")
    mean = x.mean(-1, keepdims=True)
    var = x.var(-1, keepdims=True)
    return (x - mean) / np.sqrt(var + 1e-5) * w["scale_1"] + w["bias_2"]


@pytest.mark.parametrize("name, shape, reference", [
    ("yolo_head", (1, 3, 8, 8), yolo_reference),
    ("layer_norm", (1, 8, 16), layer_norm_reference),
    ("clip_opset13", (1, 4), lambda x: np.clip(x, 0, 6)),
])
def test_models_opencv_cannot_run_are_right_on_ort(name, shape, reference, monkeypatch):
    x = np.random.default_rng(7).normal(0, 3, shape).astype(np.float32)
    with InferenceEngine(model(name)) as ie:
        assert all(lane.endswith("onnxruntime") for lane in ie.get_lane_backends())
        outputs = ie.run([x])
        job = ie.run_async([x])
        again = ie.wait(job)
    np.testing.assert_allclose(outputs[0], reference(x), rtol=1e-4, atol=1e-4)
    np.testing.assert_array_equal(outputs[0], again[0])
    # OpenCV DNN alone refuses them: a clear error, not a crash.
    monkeypatch.setenv("ACTORRT_DEVICES", "opencv:1")
    with pytest.raises(ValueError, match="OpenCV DNN cannot run"):
        InferenceEngine(model(name))


def test_dynamic_batch_runs_the_batch_given():
    x = np.random.default_rng(3).normal(size=(5, 6)).astype(np.float32)
    with InferenceEngine(model("dynamic_batch")) as ie:
        out = ie.run([x])[0]
        assert out.shape == (5, 6)
        np.testing.assert_array_equal(out, np.maximum(x, 0))
        with pytest.raises(ValueError, match="bytes"):
            ie.run([np.zeros(7, np.float32)])


def nms_reference(boxes, scores, keep=3, iou=0.5, min_score=0.1):
    def area(b):
        return max(0.0, b[2] - b[0]) * max(0.0, b[3] - b[1])
    order = [i for i in np.argsort(-scores, kind="stable") if scores[i] > min_score]
    chosen = []
    for i in order:
        ok = True
        for j in chosen:
            a, b = boxes[i], boxes[j]
            inter = area([max(a[0], b[0]), max(a[1], b[1]), min(a[2], b[2]), min(a[3], b[3])])
            if inter / (area(a) + area(b) - inter) > iou:
                ok = False
                break
        if ok:
            chosen.append(i)
        if len(chosen) == keep:
            break
    return np.array([[0, 0, i] for i in chosen], np.int64).reshape(-1, 3)


def test_nms_output_shape_is_decided_by_the_run(monkeypatch):
    rng = np.random.default_rng(5)
    with InferenceEngine(model("nms")) as ie:
        for _ in range(5):
            corner = rng.uniform(0, 10, (8, 2)).astype(np.float32)
            boxes = np.concatenate([corner, corner + rng.uniform(1, 4, (8, 2))], 1)
            scores = rng.uniform(0, 1, 8).astype(np.float32)
            scores[rng.integers(0, 8)] = 0.05  # below the score threshold
            out = ie.run([boxes.reshape(1, 8, 4).astype(np.float32),
                          scores.reshape(1, 1, 8)])[0]
            assert out.dtype == np.int64
            np.testing.assert_array_equal(out, nms_reference(boxes, scores))
    monkeypatch.setenv("ACTORRT_DEVICES", "opencv:1")
    with pytest.raises(ValueError, match="OpenCV DNN cannot run"):
        InferenceEngine(model("nms"))
