#!/usr/bin/python3
"""Generates the ONNX models ActorRT's tests, examples and benchmarks use.

Deterministic (fixed seeds), built with onnx.helper only (Debian's
python3-onnx). Usage: generate_models.py OUT_DIR [--small-only]
"""
import os
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

OPSET = 13


class Graph:
    """Collects nodes and He-initialised weights for one model."""

    def __init__(self, seed):
        self.rng = np.random.default_rng(seed)
        self.nodes, self.inits, self.count = [], [], 0

    def name(self, prefix):
        self.count += 1
        return f"{prefix}_{self.count}"

    def const(self, array, prefix="c"):
        n = self.name(prefix)
        self.inits.append(numpy_helper.from_array(np.asarray(array), n))
        return n

    def node(self, op, inputs, **attrs):
        out = self.name(op.lower())
        self.nodes.append(helper.make_node(op, inputs, [out], **attrs))
        return out

    def conv(self, x, cin, cout, k, stride=1, relu=True, groups=1, clip=None):
        """Conv, then Relu (relu), or Clip to the (min, max) inputs `clip`."""
        fan_in = cin // groups * k * k
        w = self.rng.normal(0, np.sqrt(2.0 / fan_in),
                            (cout, cin // groups, k, k))
        b = self.rng.normal(0, 0.01, (cout,))
        y = self.node("Conv", [x, self.const(w.astype(np.float32), "w"),
                               self.const(b.astype(np.float32), "b")],
                      kernel_shape=[k, k], strides=[stride, stride],
                      pads=[k // 2] * 4,
                      **({"group": groups} if groups != 1 else {}))
        if clip:
            return self.node("Clip", [y, *clip])
        return self.node("Relu", [y]) if relu else y

    def gemm(self, x, cin, cout):
        w = self.rng.normal(0, np.sqrt(1.0 / cin), (cout, cin))
        b = self.rng.normal(0, 0.01, (cout,))
        return self.node("Gemm", [x, self.const(w.astype(np.float32), "w"),
                                  self.const(b.astype(np.float32), "b")],
                         transB=1)

    def classifier(self, x, cin, classes=1000):
        """Global average pool, flatten, a dense layer to "output"."""
        x = self.node("GlobalAveragePool", [x])
        x = self.node("Flatten", [x])
        x = self.gemm(x, cin, classes)
        return rename_output(self, x, "output")

    def model(self, name, inputs, outputs, opset=OPSET):
        graph = helper.make_graph(self.nodes, name, inputs, outputs,
                                  initializer=self.inits)
        m = helper.make_model(graph, producer_name="actorrt-generate",
                              opset_imports=[helper.make_opsetid("", opset)])
        m.ir_version = 8
        onnx.checker.check_model(m)
        return m


def tensor(name, shape, elem=TensorProto.FLOAT):
    return helper.make_tensor_value_info(name, elem, shape)


def rename_output(g, out, name):
    g.nodes[-1].output[0] = name
    return name


def tiny_cnn():
    """The default model: a small image classifier, 1x3x32x32 -> 1x10."""
    g = Graph(1)
    x = g.conv("input", 3, 8, 3)
    x = g.node("MaxPool", [x], kernel_shape=[2, 2], strides=[2, 2])
    x = g.conv(x, 8, 16, 3)
    x = g.node("GlobalAveragePool", [x])
    x = g.node("Flatten", [x])
    x = g.gemm(x, 16, 10)
    x = g.node("Softmax", [x], axis=1)
    rename_output(g, x, "output")
    return g.model("tiny_cnn", [tensor("input", [1, 3, 32, 32])],
                   [tensor("output", [1, 10])])


def multi_io():
    """Two inputs, two outputs: an image branch and a feature branch."""
    g = Graph(2)
    a = g.conv("image", 3, 4, 3)
    rename_output(g, a, "conv_out")
    b = g.gemm("features", 8, 5)
    b = g.node("Sigmoid", [b])
    rename_output(g, b, "fc_out")
    return g.model("multi_io",
                   [tensor("image", [1, 3, 16, 16]), tensor("features", [1, 8])],
                   [tensor("conv_out", [1, 4, 16, 16]), tensor("fc_out", [1, 5])])


def multi_io_u8():
    """multi_io with uint8 inputs, as DX-RT's compiled models take them:
    any bytes are a valid input (DX-RT's multi-input example feeds random
    bytes)."""
    g = Graph(2)
    image = g.node("Cast", ["image"], to=TensorProto.FLOAT)
    features = g.node("Cast", ["features"], to=TensorProto.FLOAT)
    a = g.conv(image, 3, 4, 3)
    rename_output(g, a, "conv_out")
    b = g.gemm(features, 8, 5)
    b = g.node("Sigmoid", [b])
    rename_output(g, b, "fc_out")
    return g.model("multi_io_u8",
                   [tensor("image", [1, 3, 16, 16], TensorProto.UINT8),
                    tensor("features", [1, 8], TensorProto.UINT8)],
                   [tensor("conv_out", [1, 4, 16, 16]), tensor("fc_out", [1, 5])])


def detector():
    """A detector-like net: two scales, Reshape/Transpose/Concat/Sigmoid head."""
    g = Graph(3)
    x = g.conv("images", 3, 16, 3, stride=2)        # 32x32
    p3 = g.conv(x, 16, 32, 3, stride=2)             # 16x16
    p4 = g.conv(p3, 32, 32, 3, stride=2)            # 8x8
    heads = []
    for p, cells in ((p3, 256), (p4, 64)):
        h = g.conv(p, 32, 6, 1, relu=False)
        h = g.node("Reshape", [h, g.const(np.array([1, 6, cells], np.int64))])
        heads.append(g.node("Transpose", [h], perm=[0, 2, 1]))
    y = g.node("Concat", heads, axis=1)
    y = g.node("Sigmoid", [y])
    rename_output(g, y, "detections")
    return g.model("detector", [tensor("images", [1, 3, 64, 64])],
                   [tensor("detections", [1, 320, 6])])


def resnet18():
    """resnet18-shaped (BN folded into conv biases), 1x3x224x224 -> 1x1000."""
    g = Graph(18)
    x = g.conv("input", 3, 64, 7, stride=2)
    x = g.node("MaxPool", [x], kernel_shape=[3, 3], strides=[2, 2],
               pads=[1, 1, 1, 1])
    cin = 64
    for cout, stride in ((64, 1), (128, 2), (256, 2), (512, 2)):
        for block in range(2):
            s = stride if block == 0 else 1
            y = g.conv(x, cin, cout, 3, stride=s)
            y = g.conv(y, cout, cout, 3, relu=False)
            skip = x if (s == 1 and cin == cout) else g.conv(
                x, cin, cout, 1, stride=s, relu=False)
            x = g.node("Relu", [g.node("Add", [y, skip])])
            cin = cout
    g.classifier(x, 512)
    return g.model("resnet18", [tensor("input", [1, 3, 224, 224])],
                   [tensor("output", [1, 1000])])


def mobilenet():
    """mobilenet_v2-shaped: inverted residual blocks with depthwise convs and
    ReLU6 as opset-13 Clip, 1x3x224x224 -> 1x1000 (OpenCV 4.6 refuses the
    Clip; ONNX Runtime runs it)."""
    g = Graph(2)
    relu6 = (g.const(np.float32(0)), g.const(np.float32(6)))

    def conv(x, cin, cout, k, stride=1, groups=1, act=True):
        return g.conv(x, cin, cout, k, stride, relu=False, groups=groups,
                      clip=relu6 if act else None)

    x = conv("input", 3, 32, 3, stride=2)
    cin = 32
    # (expansion, channels, repeats, first stride), as mobilenet_v2
    for t, c, n, s in ((1, 16, 1, 1), (6, 24, 2, 2), (6, 32, 3, 2),
                       (6, 64, 4, 2), (6, 96, 3, 1), (6, 160, 3, 2),
                       (6, 320, 1, 1)):
        for i in range(n):
            stride = s if i == 0 else 1
            hidden = cin * t
            y = conv(x, cin, hidden, 1) if t != 1 else x
            y = conv(y, hidden, hidden, 3, stride=stride, groups=hidden)
            y = conv(y, hidden, c, 1, act=False)
            x = g.node("Add", [x, y]) if stride == 1 and cin == c else y
            cin = c
    g.classifier(conv(x, cin, 1280, 1), 1280)
    return g.model("mobilenet", [tensor("input", [1, 3, 224, 224])],
                   [tensor("output", [1, 1000])])


def clip_opset13():
    """Valid ONNX that OpenCV 4.6 cannot load (Clip with min/max inputs)."""
    g = Graph(4)
    y = g.node("Clip", ["input", g.const(np.float32(0)), g.const(np.float32(6))])
    rename_output(g, y, "output")
    return g.model("clip_opset13", [tensor("input", [1, 4])],
                   [tensor("output", [1, 4])])


def dynamic_batch():
    """A dynamic batch axis ('N'), which runs with batch 1."""
    g = Graph(5)
    y = g.node("Relu", ["input"])
    rename_output(g, y, "output")
    return g.model("dynamic_batch", [tensor("input", ["N", 6])],
                   [tensor("output", ["N", 6])])


def strided(side):
    """Compute too short to keep a core busy at batch 1: two strided convs,
    global pooling and a dense layer, with a symbolic batch axis."""
    g = Graph(6)
    x = g.conv("input", 3, 16, 3, stride=2)
    x = g.conv(x, 16, 32, 3, stride=2)
    g.classifier(x, 32, 10)
    return g.model(f"strided_{side}", [tensor("input", ["N", 3, side, side])],
                   [tensor("output", ["N", 10])])


def fixed_reshape():
    """Batch 1 fixed by a Reshape to [1, -1]: its batch axis cannot be
    re-declared (batch N would come out as one row of N samples)."""
    g = Graph(7)
    y = g.node("Reshape", ["input", g.const(np.array([1, -1], np.int64), "shape")])
    rename_output(g, y, "output")
    return g.model("fixed_reshape", [tensor("input", [1, 3, 4, 4])],
                   [tensor("output", [1, 48])])


YOLO_ANCHORS = np.array([[10, 13], [16, 30], [33, 23]], np.float32)
YOLO_CLASSES, YOLO_GRID, YOLO_STRIDE = 4, 8, 8.0


def yolo_head():
    """A YOLOv5-style head with the box decode in the graph: a 1x1 conv,
    then xy = (2*sigmoid - 0.5 + grid) * stride and wh = (2*sigmoid)^2 *
    anchors with broadcast constants (OpenCV 4.6 cannot run it).
    1x3x8x8 -> 1x192x9 (3 anchors x 64 cells, xywh + objectness + 4 classes).
    """
    g = Graph(6)
    na, no, n = len(YOLO_ANCHORS), 5 + YOLO_CLASSES, YOLO_GRID
    h = g.conv("images", 3, na * no, 1, relu=False)
    h = g.node("Reshape", [h, g.const(np.array([1, na, no, n, n], np.int64))])
    h = g.node("Transpose", [h], perm=[0, 1, 3, 4, 2])   # 1,na,n,n,no
    y = g.node("Sigmoid", [h])

    def part(start, end):
        return g.node("Slice", [y, g.const(np.array([start], np.int64)),
                                g.const(np.array([end], np.int64)),
                                g.const(np.array([4], np.int64))])
    yy, xx = np.meshgrid(np.arange(n), np.arange(n), indexing="ij")
    grid = np.stack([xx, yy], -1).reshape(1, 1, n, n, 2).astype(np.float32)
    two = g.const(np.float32(2))
    xy = g.node("Mul", [part(0, 2), two])
    xy = g.node("Add", [xy, g.const((grid - 0.5).astype(np.float32))])
    xy = g.node("Mul", [xy, g.const(np.float32(YOLO_STRIDE))])
    wh = g.node("Mul", [part(2, 4), two])
    wh = g.node("Mul", [wh, wh])
    wh = g.node("Mul", [wh, g.const(YOLO_ANCHORS.reshape(1, na, 1, 1, 2))])
    out = g.node("Concat", [xy, wh, part(4, no)], axis=4)
    out = g.node("Reshape", [out, g.const(np.array([1, na * n * n, no], np.int64))])
    rename_output(g, out, "detections")
    return g.model("yolo_head", [tensor("images", [1, 3, n, n])],
                   [tensor("detections", [1, na * n * n, no])])


def layer_norm():
    """A transformer-style LayerNormalization block (opset 17), which OpenCV
    4.6 cannot load: 1x8x16 -> 1x8x16."""
    g = Graph(7)
    scale = g.rng.normal(1, 0.1, (16,)).astype(np.float32)
    bias = g.rng.normal(0, 0.1, (16,)).astype(np.float32)
    y = g.node("LayerNormalization", ["input", g.const(scale, "scale"),
                                      g.const(bias, "bias")],
               axis=-1, epsilon=1e-5)
    rename_output(g, y, "output")
    return g.model("layer_norm", [tensor("input", [1, 8, 16])],
                   [tensor("output", [1, 8, 16])], opset=17)


def nms():
    """NonMaxSuppression, whose output shape only a run decides:
    boxes 1x8x4 (y1, x1, y2, x2), scores 1x1x8 -> selected [K, 3] int64
    (at most 3 boxes, IoU 0.5, score 0.1)."""
    g = Graph(8)
    y = g.node("NonMaxSuppression",
               ["boxes", "scores", g.const(np.array([3], np.int64)),
                g.const(np.array([0.5], np.float32)),
                g.const(np.array([0.1], np.float32))])
    rename_output(g, y, "selected")
    return g.model("nms", [tensor("boxes", [1, 8, 4]),
                           tensor("scores", [1, 1, 8])],
                   [tensor("selected", ["K", 3], TensorProto.INT64)])


def image_640():
    """A 640x640 RGB image in (4.9 MB of float32), its channel means out:
    for jobs whose inputs are several MB (remote cores, links)."""
    g = Graph(1)
    x = g.node("GlobalAveragePool", ["input"])
    rename_output(g, x, "output")
    return g.model("image_640", [tensor("input", [1, 3, 640, 640])],
                   [tensor("output", [1, 3, 1, 1])])


def mask_640():
    """A 640x640 RGB image in, one of the same size out (4.9 MB each way,
    a segmentation mask's size): for memory bounds on large outputs."""
    g = Graph(1)
    x = g.node("Relu", ["input"])
    rename_output(g, x, "output")
    return g.model("mask_640", [tensor("input", [1, 3, 640, 640])],
                   [tensor("output", [1, 3, 640, 640])])


SMALL = {"tiny_cnn": tiny_cnn, "image_640": image_640, "mask_640": mask_640,
         "multi_io": multi_io,
         "multi_io_u8": multi_io_u8, "detector": detector,
         "clip_opset13": clip_opset13, "dynamic_batch": dynamic_batch,
         "yolo_head": yolo_head, "layer_norm": layer_norm, "nms": nms,
         "strided_96": lambda: strided(96), "strided_32": lambda: strided(32),
         "fixed_reshape": fixed_reshape}
LARGE = {"resnet18": resnet18, "mobilenet": mobilenet}


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else "."
    os.makedirs(out, exist_ok=True)
    builders = dict(SMALL)
    if "--small-only" not in sys.argv:
        builders.update(LARGE)
    for name, build in builders.items():
        onnx.save(build(), os.path.join(out, name + ".onnx"))


if __name__ == "__main__":
    main()
