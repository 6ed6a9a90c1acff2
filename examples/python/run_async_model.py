"""Asynchronous inference with a callback and user argument (the seed's
run_async_model.py)."""

import queue
import threading

import numpy as np

from dx_engine import InferenceEngine

from common import parse_args

q = queue.Queue()
gLoopCount = 0

lock = threading.Lock()


def onInferenceCallbackFunc(outputs, user_arg):

    # the outputs stay valid after this callback returns (on ActorRT);
    # processing this callback functions as quickly as possible is beneficial
    # for improving inference performance

    global gLoopCount

    # Mutex locks should be properly adjusted
    # to ensure that callback functions are thread-safe.
    with lock:
        # user data type casting
        index, loop_count = user_arg.value

        # post processing
        # postProcessing(outputs);

        # something to do

        print("Inference output (callback) index=", index)

        gLoopCount += 1
        if (gLoopCount == loop_count):
            print("Complete Callback")
            q.put(0)

    return 0


if __name__ == "__main__":
    modelPath, loop_count = parse_args(__doc__)

    # create inference engine instance with model
    ie = InferenceEngine(modelPath)

    # register call back function
    ie.register_callback(onInferenceCallbackFunc)

    input = [np.zeros(ie.GetInputSize(), dtype=np.uint8)]

    # inference loop
    for i in range(loop_count):

        # inference asynchronously, use all npu cores
        # if device-load >= max-load-value, this function will block
        ie.RunAsync(input, user_arg=[i, loop_count])

        print("Inference start (async)", i)

    exit(q.get())
