"""Synchronous inference on one NPU core (the seed's run_sync_model.py)."""

import numpy as np

# DX-RT imports
from dx_engine import InferenceEngine

from common import parse_args


def postProcessing(outputs):
    return int(np.argmax(outputs[0]))


if __name__ == "__main__":
    modelPath, loop_count = parse_args(__doc__)

    # create inference engine instance with model
    ie = InferenceEngine(modelPath)

    input = [np.zeros(ie.GetInputSize(), dtype=np.uint8)]

    # inference loop
    for i in range(loop_count):

        # inference synchronously
        # use only one npu core
        outputs = ie.Run(input)

        # post processing
        postProcessing(outputs)

    print(f"run_sync_model: {loop_count} inferences, "
          f"latency {ie.get_latency_mean():.0f} us")
    exit(0)
