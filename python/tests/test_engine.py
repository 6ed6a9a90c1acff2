"""InferenceEngine and InferenceOption: every method, both spellings."""

import os
import subprocess
import sys
import threading
import time

import numpy as np
import pytest

from conftest import ends_after, key_of, keyed, model
import dx_engine
from dx_engine import InferenceEngine, InferenceOption


def test_tensor_info_and_sizes(tiny):
    with InferenceEngine(tiny) as ie:
        assert ie.get_input_size() == ie.GetInputSize() == ie.input_size() == 3 * 32 * 32 * 4
        assert ie.get_output_size() == ie.GetOutputSize() == ie.output_size() == 40
        info = ie.get_input_tensors_info()
        assert info == [{"name": "input", "shape": [1, 3, 32, 32],
                         "dtype": np.float32, "elem_size": 4}]
        assert ie.get_output_tensors_info()[0]["shape"] == [1, 10]
        assert ie.get_input_tensor_count() == 1
        assert ie.get_output_tensor_count() == 1
        assert ie.get_input_data_type() == [np.float32]
        assert list(ie.get_task_order()) == ["npu_0"]
        assert ie.get_max_in_flight() == 6
        assert not ie.is_simulated()


def test_run_both_spellings_match_numpy_reference(tiny):
    with InferenceEngine(tiny) as ie:
        x = np.linspace(-1, 1, 3 * 32 * 32, dtype=np.float32).reshape(1, 3, 32, 32)
        a = ie.run([x])
        b = ie.Run([x.view(np.uint8).reshape(-1)])  # the same bytes, raw
        assert len(a) == 1 and a[0].shape == (1, 10) and a[0].dtype == np.float32
        np.testing.assert_array_equal(a[0], b[0])
        assert abs(float(a[0].sum()) - 1.0) < 1e-5  # softmax
        c = ie.run([np.zeros_like(x)])
        assert not np.array_equal(a[0], c[0])


def test_run_into_output_buffers(tiny):
    with InferenceEngine(tiny) as ie:
        x = [np.ones(ie.get_input_size(), dtype=np.uint8)]
        buf = [np.zeros(ie.get_output_size(), dtype=np.uint8)]
        ie.run(x, output_buffers=buf)
        np.testing.assert_array_equal(buf[0].view(np.float32), ie.run(x)[0].reshape(-1))


def test_multi_input_typed_arrays():
    with InferenceEngine(model("multi_io")) as ie:
        image = np.random.default_rng(1).random((1, 3, 16, 16), dtype=np.float32)
        feats = np.arange(8, dtype=np.float32).reshape(1, 8)
        out = ie.run([image, feats])
        assert [o.shape for o in out] == [(1, 4, 16, 16), (1, 5)]
        assert ie.get_input_tensor_names() == ["image", "features"]
        assert ie.get_output_tensor_names() == ["conv_out", "fc_out"]
        assert ie.get_input_tensor_sizes() == [3 * 16 * 16 * 4, 32]
        assert sum(ie.get_output_tensor_sizes()) == ie.get_output_size()
        assert ie.is_multi_input_model()
        by_name = ie.run_multi_input({"features": feats, "image": image})
        np.testing.assert_array_equal(by_name[1], out[1])
        assert len(ie.wait(ie.run_async_multi_input({"image": image, "features": feats}))) == 2
        with pytest.raises(ValueError, match="missing \\['features'\\]"):
            ie.run_multi_input({"image": image})
        with pytest.raises(TypeError):
            ie.run_multi_input([image, feats])
        raw = np.concatenate([image.view(np.uint8).reshape(-1), feats.view(np.uint8).reshape(-1)])
        for o, r in zip(out, ie.run([raw])):
            np.testing.assert_array_equal(o, r)
        with pytest.raises(ValueError, match="dtype"):
            ie.run([image.astype(np.float64), feats])
        # Any shape of the right size is accepted (DX-RT code passes HWC
        # images for 1xHxWxC inputs); a wrong size is not.
        np.testing.assert_array_equal(ie.run([image[0], feats])[1], out[1])
        with pytest.raises(ValueError, match="bytes"):
            ie.run([image[:, :2], feats])
        assert ie.run([image, feats])[1].shape == (1, 5)


def test_run_async_wait_and_job_ids(sim, tiny):
    with InferenceEngine(tiny) as ie:
        assert ie.is_simulated()
        ids = [ie.run_async(keyed(ie, k), user_arg=k) for k in range(1, 11)]
        ids += [ie.RunAsync(keyed(ie, k)) for k in range(11, 21)]
        assert ids == sorted(ids) and len(set(ids)) == 20
        assert all(isinstance(i, int) for i in ids)
        for k, job in enumerate(ids, start=1):
            out = ie.wait(job) if k % 2 else ie.Wait(job)
            assert key_of(out) == k


def test_wait_with_callback_registered(sim, tiny):
    seen = {}
    done = threading.Event()

    def cb(outputs, user_arg):
        seen[user_arg.value] = outputs
        if len(seen) == 50:
            done.set()

    with InferenceEngine(tiny) as ie:
        ie.register_callback(cb)
        ids = {ie.run_async(keyed(ie, k), user_arg=k): k for k in range(50)}
        for job, k in ids.items():
            assert key_of(ie.wait(job)) == k
        assert done.wait(10)
        assert all(key_of(seen[k]) == k for k in range(50))


def test_a_job_without_user_arg_gives_the_callback_none(sim, tiny):
    got = []
    with InferenceEngine(tiny) as ie:
        ie.register_callback(lambda outputs, user_arg: got.append(user_arg))
        # The callback runs before the job's wait returns.
        ie.wait(ie.run_async(keyed(ie, 0)))
        ie.wait(ie.run_async(keyed(ie, 1), user_arg=None))
        ie.wait(ie.run_async(keyed(ie, 2), user_arg=7))
        ie.run(keyed(ie, 3))  # DX-RT's run calls the callback too
    assert got[0] is None and got[1] is None and got[3] is None
    assert got[2] == 7 and len(got) == 4


def test_outputs_stay_valid_after_the_callback(sim, tiny):
    kept = []
    done = threading.Event()

    def cb(outputs, user_arg):
        kept.append((user_arg.value, outputs))
        if len(kept) == 200:
            done.set()

    with InferenceEngine(tiny) as ie:
        ie.RegisterCallBack(cb)
        for k in range(200):
            ie.run_async(keyed(ie, k), user_arg=k)
        assert done.wait(10)
        # Later jobs must not have recycled the earlier outputs' memory.
        assert all(key_of(out) == k for k, out in kept)


def test_user_arg_is_the_object_and_has_value(sim, tiny):
    """DX-RT 2.9.5/v3 code uses the object itself; the seed's reads .value."""
    import json

    class Mine:
        pass

    mine = Mine()
    sent = [[7, 8, 9], {"frame": 3}, 5, "name", (1, 2), None, mine]
    got = {}
    done = threading.Event()

    def cb(outputs, user_arg):
        got[len(got)] = user_arg
        if isinstance(user_arg, list):
            user_arg.append(10)  # reaches the caller's list too
        if len(got) == len(sent):
            done.set()

    with InferenceEngine(tiny, InferenceOption()) as ie:
        ie.register_callback(cb)
        for arg in sent:
            ie.wait(ie.run_async(keyed(ie, 0), user_arg=arg))
        assert done.wait(10)
    args = [got[i] for i in range(len(sent))]
    lst, dct, num, text, tup, none, obj = args
    assert isinstance(lst, list) and lst.value is sent[0] and sent[0] == [7, 8, 9, 10]
    index, *rest = lst.value[:3]
    assert index == 7 and rest == [8, 9]
    assert isinstance(dct, dict) and json.dumps(dct) == '{"frame": 3}' and dct.value is sent[1]
    assert isinstance(num, int) and num == 5 and num.value == 5 and num + 1 == 6
    assert f"{num:>3}" == "  5" and json.dumps(num) == "5"
    assert text == "name" and text.value == "name" and tup.value == (1, 2)
    assert none is None
    assert obj is mine


def test_user_arg_round_trip_3_threads_10k_jobs(sim, tiny):
    per_thread = 3334
    counts = {}
    lock = threading.Lock()
    done = threading.Event()
    wrong = []

    def cb(outputs, user_arg):
        t, i = user_arg.value
        if key_of(outputs) != t * 100000 + i:
            wrong.append(user_arg.value)
        with lock:
            counts[(t, i)] = counts.get((t, i), 0) + 1
            if len(counts) == 3 * per_thread:
                done.set()

    with InferenceEngine(tiny) as ie:
        ie.register_callback(cb)

        def submit(t):
            for i in range(per_thread):
                ie.run_async(keyed(ie, t * 100000 + i), user_arg=(t, i))

        threads = [threading.Thread(target=submit, args=(t,)) for t in range(3)]
        for th in threads:
            th.start()
        for th in threads:
            th.join()
        assert done.wait(30)
        time.sleep(0.1)  # a duplicate delivery would arrive now
    assert wrong == []
    assert len(counts) == 3 * per_thread
    assert set(counts.values()) == {1}


def test_memory_flat_when_nobody_waits(sim, tiny):
    cb, done = ends_after(6000)
    with InferenceEngine(tiny) as ie:
        ie.register_callback(cb)
        first = ie.run_async(keyed(ie, 0))
        for k in range(1, 6000):
            ie.run_async(keyed(ie, k))
        assert done.wait(30)
        assert ie.get_held_results() <= InferenceEngine.retention
        with pytest.raises(ValueError, match="released"):
            ie.wait(first)


def test_memory_flat_when_nobody_waits_for_large_outputs(sim):
    # 4.9 MB out per job: 300 results held would be 1.5 GB.
    cb, done = ends_after(300)

    def rss_mib():
        with open("/proc/self/status") as f:
            return int(f.read().split("VmRSS:")[1].split()[0]) // 1024

    with InferenceEngine(model("mask_640")) as ie:
        ie.register_callback(cb)
        x = np.zeros(ie.get_input_size(), dtype=np.uint8)
        before = rss_mib()
        ids = [ie.run_async([x]) for _ in range(300)]
        assert done.wait(60)
        held = ie.get_held_results()
        assert 1 <= held <= InferenceEngine.retention_bytes // ie.get_output_size() + 1
        assert rss_mib() - before < 300, "outputs nobody waits for were kept"
        kept = 0
        for job in ids:
            try:
                assert ie.wait(job)[0].nbytes == ie.get_output_size()
                kept += 1
            except ValueError as e:
                assert "64 MiB" in str(e)
        assert kept == held


def test_unwaited_results_without_a_callback_are_kept_to_a_count(sim, tiny):
    class Engine(InferenceEngine):
        retention_without_callback = 16

    assert InferenceEngine.retention_without_callback == 4096
    with Engine(tiny) as ie:
        ids = [ie.run_async(keyed(ie, k)) for k in range(100)]
        deadline = time.monotonic() + 30
        while ie.get_stats()["in_flight"] and time.monotonic() < deadline:
            time.sleep(0.01)
        assert ie.get_held_results() == 16  # all 100 before the bound
        kept = []
        for k, job in enumerate(ids):
            try:
                assert key_of(ie.wait(job)) == k
                kept.append(k)
            except ValueError as e:
                assert "newest 16 and" in str(e)
        assert len(kept) == 16


def test_inputs_are_kept_alive_without_copy(sim, tiny):
    import sys
    sim("sim:1:200ms")
    with InferenceEngine(tiny) as ie:
        x = keyed(ie, 42)
        before = sys.getrefcount(x[0])
        job = ie.run_async(x)
        after = sys.getrefcount(x[0])  # outside assert: pytest keeps temporaries
        assert after == before + 1  # held by the job, not copied
        del x  # the caller lets go; the engine still holds the array
        assert key_of(ie.wait(job)) == 42


def test_run_releases_the_gil(sim, tiny):
    sim("sim:1:300ms")
    ticks = [0]
    stop = threading.Event()

    def spin():
        while not stop.is_set():
            ticks[0] += 1
            time.sleep(0.001)

    with InferenceEngine(tiny) as ie:
        t = threading.Thread(target=spin)
        t.start()
        ie.run(keyed(ie, 1))
        stop.set()
        t.join()
    assert ticks[0] > 50


def test_run_batch_fills_buffers_in_order(sim, tiny):
    with InferenceEngine(tiny) as ie:
        ins = [keyed(ie, k) for k in range(10)]
        outs = [[np.zeros(ie.get_output_size(), dtype=np.uint8)] for _ in range(10)]
        res = ie.run_batch(ins, outs)
        assert [key_of(o) for o in outs] == list(range(10))
        # Typed arrays of the output's shape, viewing the caller's buffers.
        info = ie.get_output_tensors_info()[0]
        for r, o in zip(res, outs):
            assert r[0].dtype == info["dtype"] and list(r[0].shape) == info["shape"]
            assert np.shares_memory(r[0], o[0])
        res2 = ie.RunBatch(ins, outs)
        assert [key_of(r) for r in res2] == list(range(10))
        outs2 = [[np.zeros(ie.get_output_size(), dtype=np.uint8)] for _ in range(10)]
        res3 = ie.run(ins, output_buffers=outs2)  # DX-RT 2.9.5 batch form
        assert all(np.shares_memory(r[0], o[0]) for r, o in zip(res3, outs2))
        # user_args: each job also reaches the callback with its own.
        seen = []
        ie.register_callback(lambda outputs, arg: seen.append((key_of(outputs), arg)))
        ie.run_batch(ins[:3], outs[:3], user_args=["a", "b", "c"])
        assert sorted(seen) == [(0, "a"), (1, "b"), (2, "c")]
        seen.clear()
        ie.Run(ins[4], "positional")  # DX-RT's Run(input, user_arg)
        assert seen == [(4, "positional")]


def test_seed_batch_inputs_are_rejected(tiny):
    with InferenceEngine(tiny) as ie:
        ins = [[np.array([np.random.randint(0, 255)], dtype=np.uint8)] for _ in range(3)]
        outs = [[np.zeros(ie.get_output_size(), dtype=np.uint8)] for _ in range(3)]
        with pytest.raises(ValueError, match="1 bytes.*12288"):
            ie.run_batch(ins, outs)
        with pytest.raises(ValueError):
            ie.run_batch([[np.zeros(ie.get_input_size(), np.uint8)]], [[np.zeros(3, np.uint8)]])
        with pytest.raises(ValueError):
            ie.run_batch(ins, outs[:2])
        with pytest.raises(TypeError):
            ie.run_batch("x", outs)
        assert len(ie.run([np.zeros(ie.get_input_size(), np.uint8)])) == 1


def test_run_benchmark_keeps_the_callback(sim, tiny):
    calls = []
    with InferenceEngine(tiny) as ie:
        ie.register_callback(lambda outputs, user_arg: calls.append(user_arg.value))
        fps = ie.run_benchmark(500)
        assert fps > 0 and ie.RunBenchMark(10) > 0
        assert calls == []  # benchmark jobs are not the user's
        ie.run_async(keyed(ie, 1), user_arg="mine")
        deadline = time.time() + 10
        while not calls and time.time() < deadline:
            time.sleep(0.01)
        assert calls == ["mine"]
        with pytest.raises(ValueError):
            ie.run_benchmark(0)


def test_latency_statistics(tiny):
    with InferenceEngine(tiny) as ie:
        x = [np.zeros(ie.get_input_size(), np.uint8)]
        for _ in range(5):
            ie.run(x)
        assert ie.get_latency_count() == 5 == ie.get_npu_inference_time_count()
        assert ie.get_latency() > 0 and ie.latency() == ie.get_latency()
        assert ie.get_latency_mean() >= ie.get_npu_inference_time_mean() > 0
        assert ie.get_latency_std() >= 0 and ie.get_npu_inference_time_std() >= 0
        assert len(ie.get_latency_list()) == 5
        assert len(ie.get_npu_inference_time_list()) == 5
        assert ie.get_npu_inference_time() == ie.inference_time() > 0


def test_inference_option():
    o = InferenceOption()
    assert o.get_devices() == [] and o.devices == []
    assert o.get_bound_option() == InferenceOption.BOUND_OPTION.NPU_ALL
    assert o.get_use_ort() is dx_engine._native.is_ort_supported()
    assert o.get_buffer_count() == 6
    o.set_devices([0])
    o.set_bound_option(InferenceOption.BOUND_OPTION.NPU_12)
    o.set_use_ort(True)
    o.set_buffer_count(3)
    assert (o.devices, o.bound_option, o.use_ort, o.buffer_count) == (
        [0], InferenceOption.BOUND_OPTION.NPU_12, True, 3)
    assert [b.value for b in InferenceOption.BOUND_OPTION] == list(range(7))
    assert "NPU_12" in repr(o)
    with pytest.raises(ValueError):
        o.buffer_count = 0
    with pytest.raises(ValueError):
        o.set_buffer_count(101)
    with pytest.raises(TypeError):
        o.devices = "0"
    with pytest.raises(ValueError):
        o.bound_option = 9
    with pytest.raises(TypeError):
        o.use_ort = 1


def test_bound_option_and_devices(sim, tiny):
    o = InferenceOption()
    o.bound_option = InferenceOption.BOUND_OPTION.NPU_1
    o.buffer_count = 2
    with InferenceEngine(tiny, o) as ie:
        assert ie.get_max_in_flight() == 2
        for k in range(20):
            ie.run_async(keyed(ie, k))
        assert ie.get_peak_in_flight() <= 2
    o.devices = [3]
    with pytest.raises(ValueError, match="device 3"):
        InferenceEngine(tiny, o)


def test_use_ort_without_the_library_warns_once_and_runs(tiny):
    # A fresh process whose ONNX Runtime cannot load: use_ort defaults to
    # False; asking for it gives one RuntimeWarning (no second one from C++)
    # and runs on OpenCV DNN.
    code = f"""
import warnings, numpy as np
from dx_engine import InferenceEngine, InferenceOption
assert InferenceOption().use_ort is False
o = InferenceOption(); o.use_ort = True
with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always")
    for _ in range(2):
        with InferenceEngine({tiny!r}, o) as ie:
            assert len(ie.run([np.zeros(ie.get_input_size(), np.uint8)])) == 1
ort = [w for w in caught if "ONNX Runtime" in str(w.message)]
assert len(ort) == 1, [str(w.message) for w in caught]
assert issubclass(ort[0].category, RuntimeWarning)
print("ok")
"""
    env = dict(os.environ, ACTORRT_ORT_LIBRARY="/nonexistent/libonnxruntime.so.1",
               ACTORRT_DEVICES="cpu:1")
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True,
                         text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "ok"
    assert "use_ort" not in out.stderr  # said once, in Python


@pytest.mark.skipif(not dx_engine._native.is_ort_supported(), reason="ONNX Runtime not installed")
def test_use_ort_picks_the_backend(tiny):
    assert InferenceOption().use_ort is True
    x = [np.random.default_rng(1).random(3 * 32 * 32, dtype=np.float32)]
    results = []
    for use_ort in (True, False):
        o = InferenceOption()
        o.use_ort = use_ort
        with InferenceEngine(tiny, o) as ie:
            results.append(ie.run(x)[0])
    # Two backends, one model: the same outputs within float tolerance.
    np.testing.assert_allclose(results[0], results[1], rtol=1e-4, atol=1e-5)


def test_dispose_is_idempotent_and_final(tiny):
    ie = InferenceEngine(tiny)
    x = [np.zeros(ie.get_input_size(), np.uint8)]
    ie.run(x)
    ie.dispose()
    ie.Dispose()
    with pytest.raises(RuntimeError, match="disposed"):
        ie.run(x)
    with pytest.raises(RuntimeError, match="disposed"):
        ie.run_async(x)


def test_callback_can_chain_jobs(sim, tiny):
    o = InferenceOption()
    o.buffer_count = 1  # each callback runs while the engine is full
    done = threading.Event()
    steps = []

    with InferenceEngine(tiny, o) as ie:
        def cb(outputs, user_arg):
            steps.append(user_arg.value)
            if user_arg.value < 30:
                ie.run_async(keyed(ie, user_arg.value + 1), user_arg=user_arg.value + 1)
            else:
                done.set()

        ie.register_callback(cb)
        ie.run_async(keyed(ie, 1), user_arg=1)
        assert done.wait(10)
    assert steps == list(range(1, 31))


def test_run_async_into_an_output_buffer(sim, tiny):
    got = {}
    done = threading.Event()

    def cb(outputs, user_arg):
        got[user_arg.value] = outputs[0]
        done.set()

    with InferenceEngine(tiny) as ie:
        buf = np.zeros(ie.get_output_size(), dtype=np.uint8)
        job = ie.run_async(keyed(ie, 77), output_buffer=[buf])
        out = ie.wait(job)
        assert key_of([buf]) == 77  # written into the caller's buffer
        assert np.shares_memory(out[0], buf)
        ie.register_callback(cb)
        buf2 = np.zeros(ie.get_output_size(), dtype=np.uint8)
        ie.run_async(keyed(ie, 78), user_arg="x", output_buffer=buf2)
        assert done.wait(10)
        assert np.shares_memory(got["x"], buf2) and key_of([buf2]) == 78
        with pytest.raises(ValueError, match="output buffers"):
            ie.run_async(keyed(ie, 1), output_buffer=[np.zeros(3, np.uint8)])
        with pytest.raises(ValueError, match="writeable"):
            ro = np.zeros(ie.get_output_size(), np.uint8)
            ro.flags.writeable = False
            ie.run_async(keyed(ie, 1), output_buffer=[ro])


def test_run_batch_arguments_are_checked_once_and_typed(sim, tiny):
    ie = InferenceEngine(tiny)
    x = keyed(ie, 5)
    out = lambda: [np.zeros(ie.get_output_size(), np.uint8)]  # noqa: E731
    with pytest.raises(TypeError, match="list of input lists"):
        ie.run_batch((x, x), [out(), out()])
    with pytest.raises(ValueError, match="2 inputs but 1 output buffers"):
        ie.run_batch([x, x], [out()])
    with pytest.raises(ValueError, match="item 1"):
        ie.run_batch([x, [np.zeros(3, np.uint8)]], [out(), out()])
    with pytest.raises(ValueError, match="2 inputs but 1 output buffers"):
        ie.run_batch([x, x], [out()], user_args=[1, 2])
    # Nothing ran for the refused calls; the engine keeps serving.
    assert ie.get_stats()["jobs_done"] == 0
    got = ie.run_batch([keyed(ie, 7), keyed(ie, 8)], [out(), out()])
    assert [key_of(o) for o in got] == [7, 8]
    ie.dispose()


def test_a_batch_callback_gets_every_job_once_with_its_own_outputs(sim, tiny):
    sim("sim:3::fail=0.2")  # each call fails with probability 0.2
    calls = []
    ended = {}
    done = threading.Event()

    def cb(results):
        calls.append(len(results))
        for outputs, user_arg, error in results:
            assert user_arg not in ended
            ended[user_arg] = (outputs, error)
        if len(ended) == 2000:
            done.set()

    with InferenceEngine(tiny) as ie:
        ie.register_batch_callback(cb)
        for k in range(2000):
            ie.run_async(keyed(ie, k), user_arg=k)
        assert done.wait(60)
        ie.register_batch_callback(None)
    assert sorted(ended) == list(range(2000))
    failed = [k for k, (_, error) in ended.items() if error is not None]
    assert 0 < len(failed) < 2000
    assert all(isinstance(ended[k][1], RuntimeError) and ended[k][0] == [] for k in failed)
    assert all(key_of(out) == k for k, (out, error) in ended.items() if error is None)
    assert sum(calls) == 2000 and len(calls) < 2000  # groups, not one call per job


def test_a_batch_callback_that_raises_is_reported_and_the_engine_goes_on(sim, tiny):
    reported = []
    with InferenceEngine(tiny) as ie:
        ie.set_callback_error_handler(lambda t, v, tb: reported.append(v))

        def cb(results):
            raise ValueError("boom")

        ie.register_batch_callback(cb)
        ids = [ie.run_async(keyed(ie, k), user_arg=k) for k in range(20)]
        assert [key_of(ie.wait(i)) for i in ids] == list(range(20))
        assert reported and all("boom" in str(e) for e in reported)
