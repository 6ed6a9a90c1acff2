"""The main thread submits, a wait thread takes each job's outputs (the
seed's run_async_model_wait.py)."""

import queue
import threading

import numpy as np

# DX-RT imports
from dx_engine import InferenceEngine

from common import parse_args

q = queue.Queue()


def inferenceThreadFunc(ie, loopCount):

    count = 0

    while (True):

        # pop item from queue
        jobId = q.get()

        # waiting for the inference to complete by jobId
        # ownership of the outputs is transferred to the user
        outputs = ie.Wait(jobId)

        # post processing
        # postProcessing(outputs);

        count += 1
        if (count >= loopCount):
            break

    return 0


if __name__ == "__main__":
    modelPath, loop_count = parse_args(__doc__)

    # create inference engine instance with model
    with InferenceEngine(modelPath) as ie:

        # do not register call back function
        # ie.register_callback(onInferenceCallbackFunc)

        t1 = threading.Thread(target=inferenceThreadFunc, args=(ie, loop_count))

        t1.start()

        input = [np.zeros(ie.get_input_size(), dtype=np.uint8)]

        # inference loop
        for i in range(loop_count):

            # inference asynchronously, use all npu cores
            # if device-load >= max-load-value, this function will block
            jobId = ie.run_async(input, user_arg=0)

            q.put(jobId)

        t1.join()

    print(f"run_async_model_wait: {loop_count} jobs waited")
    exit(0)
