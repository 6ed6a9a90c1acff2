"""DX-RT's names of tensor element types, mapped to numpy types."""

import numpy as np


class NumpyDataTypeMapper:
    """DX-RT's data-type names as attributes (``NumpyDataTypeMapper.FLOAT``
    is ``np.float32``); ``from_string("float")`` looks one up by name."""

    NONE_TYPE = None
    UINT8 = np.uint8
    UINT16 = np.uint16
    UINT32 = np.uint32
    UINT64 = np.uint64
    INT8 = np.int8
    INT16 = np.int16
    INT32 = np.int32
    INT64 = np.int64
    FLOAT = np.float32
    # Types ActorRT's ONNX models have beyond DX-RT's list.
    FLOAT16 = np.float16
    DOUBLE = np.float64
    BOOL = np.bool_
    # DX-RT's post-processing structures: raw bytes (no ONNX model has them).
    BBOX = "BBOX"
    FACE = "FACE"
    POSE = "POSE"
    MAX_TYPE = None

    @classmethod
    def from_string(cls, name: str):
        key = str(name).upper()
        if key.isidentifier() and not key.startswith("_") and hasattr(cls, key) \
                and key != "FROM_STRING":
            return getattr(cls, key)
        raise ValueError(f"unknown data type name: {name!r}")
