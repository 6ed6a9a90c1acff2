"""Argument parsing shared by the examples: -m/--model and -l/--loops."""

import argparse
import os

# The bundled default model (models/tiny_cnn.onnx in the repository).
DEFAULT_MODEL = os.path.join(os.path.dirname(os.path.abspath(__file__)),
                             "..", "..", "models", "tiny_cnn.onnx")


def parse_args(description, loops=50):
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("-m", "--model", default=DEFAULT_MODEL,
                        help="model file (.onnx); default: the bundled tiny_cnn")
    parser.add_argument("-l", "--loops", type=int, default=loops,
                        help="number of inferences")
    args = parser.parse_args()
    return os.path.normpath(args.model), args.loops
