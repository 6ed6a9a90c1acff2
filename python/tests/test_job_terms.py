"""Deadlines, priorities and cancellation from Python: typed errors, and every
job still ends exactly once."""

import threading
import time

import pytest

from conftest import keyed, model
from dx_engine import InferenceEngine, InferenceOption, JobCancelledError


def one_core(sim, latency, **options):
    sim(f"sim:1:{latency}")
    o = InferenceOption()
    o.max_batch_size = 1
    o.buffer_count = 100
    for k, v in options.items():
        setattr(o, k, v)
    return InferenceEngine(model("tiny_cnn"), o)


class Endings:
    def __init__(self, ie):
        self.lock = threading.Lock()
        self.seen = {}
        self.order = []
        ie.register_callback(self.cb)

    def cb(self, outputs, key, error):
        with self.lock:
            self.seen.setdefault(key, []).append(type(error).__name__ if error else "ok")
            self.order.append(key)


def test_a_missed_deadline_is_a_timeout_for_wait_and_callback(sim):
    with one_core(sim, "50ms") as ie:
        e = Endings(ie)
        first = ie.run_async(keyed(ie, 0), user_arg=0)
        late = [ie.run_async(keyed(ie, k), user_arg=k, timeout_ms=10) for k in range(1, 6)]
        ie.wait(first)
        for i in late:
            with pytest.raises(TimeoutError, match="deadline"):
                ie.wait(i)
        assert all(e.seen[k] == ["TimeoutError"] for k in range(1, 6))
        assert e.seen[0] == ["ok"]
        assert ie.get_stats()["cores"][0]["jobs_done"] == 1
        assert ie.run(keyed(ie, 9), timeout_ms=5000)


def test_cancel_says_what_happened(sim):
    with one_core(sim, "300ms") as ie:
        e = Endings(ie)
        running = ie.run_async(keyed(ie, 1), user_arg=1)
        queued = ie.run_async(keyed(ie, 2), user_arg=2)
        time.sleep(0.1)  # the first has started
        assert ie.cancel(running) == "running"
        assert ie.cancel(queued) == "not_started"
        with pytest.raises(JobCancelledError, match="before it started"):
            ie.wait(queued)
        with pytest.raises(JobCancelledError, match="while it ran"):
            ie.wait(running)
        assert issubclass(JobCancelledError, RuntimeError)
        assert e.seen == {1: ["JobCancelledError"], 2: ["JobCancelledError"]}
        with pytest.raises(ValueError, match="ended"):
            ie.cancel(queued)
        with pytest.raises(ValueError, match="never issued"):
            ie.cancel(999)
        with pytest.raises(TypeError):
            ie.cancel("1")
        assert ie.run(keyed(ie, 3))


def test_higher_priority_starts_first(sim):
    with one_core(sim, "100ms") as ie:
        e = Endings(ie)
        ie.run_async(keyed(ie, 100), user_arg=100)
        time.sleep(0.04)  # it occupies the core
        ids = []
        for k in range(1, 4):
            ids.append(ie.run_async(keyed(ie, k), user_arg=k, priority=0))
            ids.append(ie.run_async(keyed(ie, 10 + k), user_arg=10 + k, priority=2))
        for i in ids:
            ie.wait(i)
        assert e.order == [100, 11, 12, 13, 1, 2, 3]


def test_engine_defaults_and_bad_values(sim):
    o = InferenceOption()
    with pytest.raises(ValueError):
        o.priority = 3
    with pytest.raises(ValueError):
        o.timeout_ms = -5
    with pytest.raises(TypeError):
        o.timeout_ms = 1.5
    with one_core(sim, "30ms", timeout_ms=1) as ie:
        a = ie.run_async(keyed(ie, 1))
        b = ie.run_async(keyed(ie, 2))
        ie.wait(a)
        with pytest.raises(TimeoutError):
            ie.wait(b)
        with pytest.raises(ValueError, match="timeout_ms"):
            ie.run_async(keyed(ie, 3), timeout_ms=-1)
        with pytest.raises(ValueError, match="priority"):
            ie.run_async(keyed(ie, 3), priority=9)
        with pytest.raises(TypeError):
            ie.run_async(keyed(ie, 3), priority="high")
        assert ie.get_stats()["in_flight"] == 0
        assert ie.run(keyed(ie, 4), timeout_ms=0)


def test_dispose_cancels_what_has_not_started(sim):
    ie = one_core(sim, "300ms")
    e = Endings(ie)
    for k in range(5):
        ie.run_async(keyed(ie, k), user_arg=k)
    time.sleep(0.1)  # the first has started
    ie.dispose()
    assert sorted(e.seen) == list(range(5))
    assert sum(v == ["ok"] for v in e.seen.values()) == 1
    assert sum(v == ["JobCancelledError"] for v in e.seen.values()) == 4
