"""Synchronous inference from several threads, one engine (the seed's
run_sync_model_thread.py): each thread keeps one core busy."""

import threading

import numpy as np

# DX-RT imports
from dx_engine import InferenceEngine

from common import parse_args

THREAD_COUNT = 3


def inferenceThreadFunc(ie, threadIndex, loopCount, results):
    input = [np.zeros(ie.get_input_size(), dtype=np.uint8)]
    for i in range(loopCount):
        # inference synchronously, use only one npu core per thread
        outputs = ie.run(input)
        results[threadIndex] += len(outputs)
    return 0


if __name__ == "__main__":
    modelPath, loop_count = parse_args(__doc__)

    # create inference engine instance with model
    with InferenceEngine(modelPath) as ie:
        results = [0] * THREAD_COUNT
        threads = [threading.Thread(target=inferenceThreadFunc,
                                    args=(ie, t, loop_count, results))
                   for t in range(THREAD_COUNT)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()

    print(f"run_sync_model_thread: {sum(results)} outputs from {THREAD_COUNT} threads")
    exit(0 if sum(results) == THREAD_COUNT * loop_count else 1)
