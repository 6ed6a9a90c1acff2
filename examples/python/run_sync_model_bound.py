"""Synchronous inference with an inference option: devices and NPU bound
option (the seed's Inference Option example)."""

import numpy as np

# DX-RT imports
from dx_engine import InferenceEngine, InferenceOption

from common import parse_args

if __name__ == "__main__":
    modelPath, loop_count = parse_args(__doc__, loops=10)

    # inference option
    option = InferenceOption()

    print("Inference Options:")

    # select devices
    option.set_devices([0])

    # NPU bound opion (NPU_ALL or NPU_0 or NPU_1 or NPU_2)
    option.set_bound_option(InferenceOption.BOUND_OPTION.NPU_ALL)

    # use ONNX Runtime (True or False)
    option.set_use_ort(False)
    print(option)

    # create inference engine instance with model
    with InferenceEngine(modelPath, option) as ie:

        input = [np.zeros(ie.get_input_size(), dtype=np.uint8)]

        # inference loop
        for i in range(loop_count):

            # inference synchronously
            # use only one npu core
            # ownership of the outputs is transferred to the user
            outputs = ie.run(input)

            # post processing
            # postProcessing(outputs)
            print("Inference outputs ", i)

    exit(0)
