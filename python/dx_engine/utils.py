"""DX-RT's helper functions."""

import os
import warnings
from typing import Sequence, Union

import numpy as np

from . import _native


def parse_model(model_path: Union[str, os.PathLike]) -> int:
    """Prints what ActorRT knows of the model, as the ``parse_model`` tool
    does, and returns 0 (DX-RT's convention); a model that cannot be loaded
    raises (ModelFileNotFoundError, InvalidModelError)."""
    print(describe_model(model_path), end="")
    return 0


def describe_model(model_path: Union[str, os.PathLike]) -> str:
    """What parse_model prints, as text."""
    return _native.parse_model(os.fspath(model_path))


def ensure_contiguous(data: Union[np.ndarray, Sequence]) -> Union[np.ndarray, list, tuple]:
    """``data`` with every array C-contiguous: a non-contiguous one is copied,
    with a warning (the runtime would copy it anyway, once per job)."""
    if isinstance(data, np.ndarray):
        if data.flags["C_CONTIGUOUS"]:
            return data
        warnings.warn(f"ndarray(shape={data.shape}, dtype={data.dtype}) is not "
                      "contiguous; copying it", UserWarning, stacklevel=2)
        return np.ascontiguousarray(data)
    if isinstance(data, (list, tuple)):
        return type(data)(ensure_contiguous(x) for x in data)
    raise TypeError(f"ensure_contiguous takes numpy arrays or lists of them, "
                    f"got {type(data).__name__}")
