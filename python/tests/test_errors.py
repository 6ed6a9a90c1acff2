"""Bad input gets a clear, typed error, and the engine keeps serving."""

import os
import subprocess
import sys
import textwrap
import threading
import time

import numpy as np
import pytest

from conftest import MODEL_DIR, keyed, model
from dx_engine import InferenceEngine, InferenceOption


def test_model_errors(tmp_path, monkeypatch):
    with pytest.raises(FileNotFoundError, match="not found"):
        InferenceEngine(str(tmp_path / "missing.onnx"))
    junk = tmp_path / "junk.onnx"
    junk.write_bytes(b"\x00garbage")
    with pytest.raises(ValueError, match="not an ONNX model"):
        InferenceEngine(str(junk))
    monkeypatch.setenv("ACTORRT_DEVICES", "opencv:1")  # no fallback backend
    with pytest.raises(ValueError, match="OpenCV DNN cannot run"):
        InferenceEngine(model("clip_opset13"))
    monkeypatch.delenv("ACTORRT_DEVICES")
    with pytest.raises(TypeError):
        InferenceEngine(42)
    with pytest.raises(TypeError):
        InferenceEngine(model("tiny_cnn"), inference_option="fast")


def test_bad_inputs_keep_the_engine_serving(tiny):
    with InferenceEngine(tiny) as ie:
        good = [np.zeros(ie.get_input_size(), np.uint8)]
        cases = [
            ([np.zeros(5, np.uint8)], ValueError, "5 bytes"),
            ([np.zeros(ie.get_input_size() + 1, np.uint8)], ValueError, "12289"),
            (np.zeros(3, np.uint8), ValueError, "3 bytes"),
            ("image", TypeError, "list of numpy arrays"),
            ([1, 2, 3], TypeError, "numpy arrays"),
            (None, TypeError, "list of numpy arrays"),
            ([np.zeros((1, 3, 32, 32), np.float64)], ValueError, "dtype"),
            # pointers are not data
            ([np.empty(ie.get_input_size() // 8, dtype=object)], TypeError, "object"),
        ]
        for bad, exc, text in cases:
            for call in (ie.run, ie.run_async):
                with pytest.raises(exc, match=text):
                    call(bad)
            assert len(ie.run(good)) == 1
        # Two whole inputs of a one-input model: run takes them as a batch
        # (DX-RT v3), run_async as one job that does not fit.
        with pytest.raises(ValueError, match="2 input buffers"):
            ie.run_async([good[0], good[0]])
        assert len(ie.run([good[0], good[0]])) == 2
        with pytest.raises(ValueError, match="never issued"):
            ie.wait(987654)
        with pytest.raises(TypeError):
            ie.wait("1")
        for huge in (2**64, 2**70):
            with pytest.raises(ValueError, match="never issued"):
                ie.wait(huge)
        job = ie.run_async(good)
        ie.wait(job)
        with pytest.raises(ValueError, match="already waited"):
            ie.wait(job)
        with pytest.raises(TypeError):
            ie.register_callback(5)


def test_non_contiguous_arrays_are_accepted(tiny):
    with InferenceEngine(tiny) as ie:
        x = np.zeros((1, 3, 32, 64), np.float32)[..., ::2]
        assert not x.flags.c_contiguous
        np.testing.assert_array_equal(ie.run([x])[0], ie.run([np.ascontiguousarray(x)])[0])


def test_wait_timeout(sim, tiny):
    sim("sim:1:300ms")
    with InferenceEngine(tiny) as ie:
        job = ie.run_async(keyed(ie, 1))
        with pytest.raises(TimeoutError):
            ie.wait(job, timeout=0.01)
        assert len(ie.wait(job, timeout=5)) == 1


def test_callback_raising_is_reported_once_per_job(sim, tiny):
    reports = []
    seen = []
    done = threading.Event()

    def cb(outputs, user_arg):
        seen.append(user_arg.value)
        if len(seen) == 20:
            done.set()
        if user_arg.value % 2:
            raise KeyError(f"bad job {user_arg.value}")

    with InferenceEngine(tiny) as ie:
        ie.set_callback_error_handler(lambda t, v, tb: reports.append(str(v)))
        ie.register_callback(cb)
        ids = [ie.run_async(keyed(ie, k), user_arg=k) for k in range(20)]
        assert done.wait(10)
        assert all(len(ie.wait(i)) == 1 for i in ids)  # jobs still complete
    assert sorted(reports) == sorted(f"'bad job {k}'" for k in range(1, 20, 2))


def test_callback_raising_prints_a_traceback(tmp_path):
    script = textwrap.dedent(f"""
        import os, threading, numpy as np
        os.environ["ACTORRT_DEVICES"] = "sim:3"
        from dx_engine import InferenceEngine
        done = threading.Event()
        n = [0]
        def cb(outputs, user_arg):
            n[0] += 1
            if n[0] == 3:
                done.set()
            raise ValueError("boom " + str(user_arg.value))
        with InferenceEngine({model('tiny_cnn')!r}) as ie:
            ie.register_callback(cb)
            for k in range(3):
                ie.run_async([np.zeros(ie.get_input_size(), np.uint8)], user_arg=k)
            done.wait(10)
            print("still serving", len(ie.run([np.zeros(ie.get_input_size(), np.uint8)])))
    """)
    r = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                       timeout=60, env=os.environ)
    assert r.returncode == 0, r.stderr
    assert "still serving 1" in r.stdout
    assert r.stderr.count("ValueError: boom") == 3
    assert "Traceback" in r.stderr


@pytest.mark.parametrize("waiters", [False, True])
def test_interpreter_exit_with_jobs_in_flight(waiters):
    script = textwrap.dedent(f"""
        import os, threading, numpy as np
        os.environ["ACTORRT_DEVICES"] = "sim:3:20ms"
        from dx_engine import InferenceEngine
        ie = InferenceEngine({os.path.join(MODEL_DIR, 'tiny_cnn.onnx')!r})
        ie.register_callback(lambda outputs, user_arg: None)
        x = [np.zeros(ie.get_input_size(), np.uint8)]
        ids = [ie.run_async(x, user_arg=k) for k in range(18)]
        if {waiters}:
            threading.Thread(target=lambda: [ie.wait(i) for i in ids], daemon=True).start()
        print("exiting with jobs in flight")
    """)
    start = time.time()
    r = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                       timeout=10, env=os.environ)
    assert r.returncode == 0, r.stderr
    assert "exiting" in r.stdout
    assert time.time() - start < 10


def test_dispose_inside_a_callback_raises_instead_of_hanging(sim, tiny):
    errors = []
    done = threading.Event()
    with InferenceEngine(tiny) as ie:
        def cb(outputs, user_arg):
            try:
                ie.dispose()
            except RuntimeError as e:
                errors.append(str(e))
            done.set()

        ie.register_callback(cb)
        ie.run_async(keyed(ie, 1))
        assert done.wait(10)
        assert len(ie.run(keyed(ie, 2))) == 1  # still serving
    assert errors and "inside a callback" in errors[0]


def test_ctrl_c_interrupts_wait():
    script = textwrap.dedent(f"""
        import os, signal, threading, time, numpy as np
        os.environ["ACTORRT_DEVICES"] = "sim:1:3000ms"
        from dx_engine import InferenceEngine
        ie = InferenceEngine({model('tiny_cnn')!r})
        job = ie.run_async([np.zeros(ie.get_input_size(), np.uint8)])
        threading.Timer(0.3, lambda: os.kill(os.getpid(), signal.SIGINT)).start()
        start = time.time()
        try:
            ie.wait(job)
        except KeyboardInterrupt:
            print("interrupted after", round(time.time() - start, 1))
        ie.wait(job)  # still there, and it ends
        print("job ended")
    """)
    r = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                       timeout=30, env=os.environ)
    assert r.returncode == 0, r.stderr
    assert "interrupted after 0." in r.stdout
    assert "job ended" in r.stdout


def test_bad_runtime_cpus_raise_value_error_and_good_ones_serve():
    script = textwrap.dedent(f"""
        import os, numpy as np
        os.environ["ACTORRT_DEVICES"] = "sim:3"
        from dx_engine import InferenceEngine
        os.environ["ACTORRT_RUNTIME_CPUS"] = "0,x"
        try:
            InferenceEngine({model('tiny_cnn')!r})
        except ValueError as e:
            print("refused:", e)
        os.environ["ACTORRT_RUNTIME_CPUS"] = str(max(os.sched_getaffinity(0)))
        with InferenceEngine({model('tiny_cnn')!r}) as ie:
            print("served", len(ie.run([np.zeros(ie.get_input_size(), np.uint8)])))
    """)
    r = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                       timeout=60, env=os.environ)
    assert r.returncode == 0, r.stderr
    assert "refused: ACTORRT_RUNTIME_CPUS='0,x'" in r.stdout
    assert "served 1" in r.stdout
