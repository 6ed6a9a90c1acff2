"""Several threads submit asynchronously, one callback processes all outputs
(the seed's run_async_model_thread.py)."""

import queue
import threading

import numpy as np

from dx_engine import InferenceEngine

from common import parse_args

THRAD_COUNT = 3
total_count = 0
q = queue.Queue()

lock = threading.Lock()


def inferenceThreadFunc(ie, threadIndex, loopCount):

    # input
    input = [np.zeros(ie.get_input_size(), dtype=np.uint8)]

    # inference loop
    for i in range(loopCount):

        # inference asynchronously, use all npu cores
        # if device-load >= max-load-value, this function will block
        ie.RunAsync(input, user_arg=[i, loopCount, threadIndex])

    return 0


def onInferenceCallbackFunc(outputs, user_arg):
    global total_count

    # Mutex locks should be properly adjusted
    # to ensure that callback functions are thread-safe.
    with lock:
        # user data type casting
        index = user_arg.value[0]
        loop_count = user_arg.value[1]
        thread_index = user_arg.value[2]

        total_count += 1

        if (total_count == loop_count * THRAD_COUNT):
            q.put(0)

    return 0


if __name__ == "__main__":
    modelPath, loop_count = parse_args(__doc__)

    # create inference engine instance with model
    ie = InferenceEngine(modelPath)

    # register call back function
    ie.register_callback(onInferenceCallbackFunc)

    t1 = threading.Thread(target=inferenceThreadFunc, args=(ie, 0, loop_count))
    t2 = threading.Thread(target=inferenceThreadFunc, args=(ie, 1, loop_count))
    t3 = threading.Thread(target=inferenceThreadFunc, args=(ie, 2, loop_count))

    # Start and join
    t1.start()
    t2.start()
    t3.start()

    # join
    t1.join()
    t2.join()
    t3.join()

    print(f"run_async_model_thread: {THRAD_COUNT * loop_count} callbacks")
    exit(q.get())
