"""``glassgrad.utils.benchmark.Timer``: block sizes, warm-up, globals and thread counts, on a
fake clock where the numbers matter, checked against ``torch.utils.benchmark.Timer``."""

from __future__ import annotations

import builtins
import importlib.util
import timeit
import warnings

import numpy as np
import pytest

import glassgrad
from glassgrad.utils import benchmark
from glassgrad.utils.benchmark import Language, Timer, measurement


class FakeClock:
    """A clock that only the statement moves: ``tick()`` is one run of ``step`` seconds, and
    reading the clock costs nothing, so block sizes and times are exact."""

    def __init__(self, step: float) -> None:
        self.now, self.step = 0.0, step

    def __call__(self) -> float:
        return self.now

    def tick(self) -> None:
        self.now += self.step


def _fake_timer(step: float, **kwargs) -> Timer:
    clock = FakeClock(step)
    return Timer("clock.tick()", timer=clock, globals={"clock": clock}, **kwargs)


def test_timeit_returns_seconds_per_run_after_a_warm_up():
    runs = []
    t = Timer("runs.append(1)", globals={"runs": runs})
    m = t.timeit(300)
    assert len(runs) == 3 + 300  # 300 // 100 warm-up runs, then the timed block
    assert m.number_per_run == 300 and len(m.raw_times) == 1
    assert m.times == [m.raw_times[0] / 300]
    assert m.median == pytest.approx(m.times[0])
    runs.clear()
    t.timeit(50)
    assert len(runs) == 2 + 50  # at least two warm-up runs


def test_timeit_on_a_fake_clock():
    m = _fake_timer(0.5).timeit(10)
    assert m.raw_times == [pytest.approx(5.0)] and m.median == pytest.approx(0.5)


def test_blocked_autorange_grows_blocks_then_fills_min_run_time():
    blocks = []
    step = 2.0**-13  # 122 us, and sums of it are exact
    m = _fake_timer(step).blocked_autorange(callback=lambda n, t: blocks.append((n, t)), min_run_time=0.25)
    # one run is under min_run_time / 1000 (250 us); ten runs are not, and the clock's overhead
    # (a 0-run block, clamped to 1 ns) is under 0.01% of them: blocks of 10 until 0.25 s is spent
    assert m.number_per_run == 10
    assert len(blocks) == len(m.raw_times) == 205 and all(n == 10 for n, _ in blocks)  # 204.8 blocks
    assert sum(t for _, t in blocks) == 205 * 10 * step
    assert m.median == step and m.iqr == 0.0
    slow = _fake_timer(1.0).blocked_autorange(min_run_time=0.5)
    assert slow.number_per_run == 1 and len(slow.raw_times) == 1  # one run already exceeds it


def test_blocked_autorange_on_real_code():
    x = glassgrad.ones(64)
    m = Timer("x * x", globals={"x": x}).blocked_autorange(min_run_time=0.05)
    # only what holds however loaded the machine is: the real clock decides the rest
    assert sum(m.raw_times) >= 0.05 and m.median > 0
    assert str(m.number_per_run).rstrip("0") == "1"  # a power of ten


def test_adaptive_autorange_stops_once_steady():
    step = 2.0**-10  # about 1 ms, exact sums
    m = _fake_timer(step).adaptive_autorange(threshold=0.1, min_run_time=0.01)
    # one run is past 0.05 / 1000 s with a negligible overhead: blocks of 1; IQR is 0 after more
    # than three blocks, so it stops as soon as min_run_time is spent (10.24 blocks)
    assert m.number_per_run == 1 and len(m.raw_times) == 11
    capped = _fake_timer(step).adaptive_autorange(threshold=0.0, max_run_time=0.1)
    assert len(capped.raw_times) == 103  # never steady enough: stops once past max_run_time


def test_the_default_clock_is_the_host_clock():
    assert benchmark.timer is timeit.default_timer and Timer()._timer.timer is timeit.default_timer


def test_torch_is_bound_in_the_statement_namespace():
    t = Timer(
        "y = torch.ones(3) * x",
        setup="""
        x = torch.full((3,), 2.0)
    """,
    )
    assert t._task_spec.setup == "x = torch.full((3,), 2.0)"  # dedented, outer blank lines gone
    assert t._globals["torch"] is glassgrad
    assert Timer("pass", globals={"torch": np})._globals["torch"] is np
    t.timeit(2)


def test_num_threads_is_set_while_timing_and_restored():
    seen = []
    before = glassgrad.get_num_threads()
    # without threadpoolctl the pool keeps its size (after a warning: tests/test_threads.py)
    expected = 1 if importlib.util.find_spec("threadpoolctl") else before
    t = Timer("seen.append(torch.get_num_threads())", globals={"seen": seen}, num_threads=1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        t.timeit(4)
        t.blocked_autorange(min_run_time=0.001)
    assert set(seen) == {expected} and glassgrad.get_num_threads() == before


class FakePool:
    """Stands in for glassgrad.threads in the measurement module: a pool of ``n`` threads."""

    def __init__(self, monkeypatch, n: int, resizable: bool = True) -> None:
        self.n, self.resizable, self.sets = n, resizable, []
        monkeypatch.setattr(measurement, "get_num_threads", lambda: self.n)
        monkeypatch.setattr(measurement, "set_num_threads", self.set)

    def set(self, n: int) -> None:
        if not self.resizable:
            raise RuntimeError("no threadpoolctl")
        self.sets.append(n)
        self.n = n


def test_num_threads_is_restored_when_the_statement_or_callback_raises(monkeypatch):
    pool = FakePool(monkeypatch, n=3)
    seen = []
    with pytest.raises(ZeroDivisionError):
        Timer("seen.append(pool.n); 1 / 0", globals={"seen": seen, "pool": pool}, num_threads=2).timeit(5)
    assert seen == [2] and pool.n == 3

    def stop(number, took):
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        Timer("seen.append(pool.n)", globals={"seen": seen, "pool": pool}).blocked_autorange(callback=stop)
    assert set(seen) == {2, 1} and pool.n == 3 and pool.sets[-1] == 3


def test_num_threads_without_a_resizable_pool(monkeypatch):
    # the warning when the pool cannot be resized is tested in tests/test_threads.py
    pool = FakePool(monkeypatch, n=3, resizable=False)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        m = Timer("pass", num_threads=3).timeit(10)  # the pool already has 3: nothing to say
    assert m.num_threads == 3 and pool.n == 3 and not pool.sets


def test_timer_errors():
    with pytest.raises(NotImplementedError, match="C\\+\\+"):
        Timer("x * y;", language=Language.CPP)
    with pytest.raises(NotImplementedError):
        Timer("pass", language="c++")
    with pytest.raises(ValueError, match="language"):
        Timer("pass", language="rust")
    with pytest.raises(ValueError, match="global_setup"):
        Timer("pass", global_setup="#include <x>")
    with pytest.raises(ValueError, match="string"):
        Timer(lambda: None)
    with pytest.raises(ValueError, match="num_threads"):
        Timer("pass", num_threads=0)
    with pytest.raises(NotImplementedError, match="blocked_autorange"):
        Timer("pass").repeat()
    with pytest.raises(NotImplementedError, match="blocked_autorange"):
        Timer("pass").autorange()
    with pytest.raises(NotImplementedError, match="Valgrind"):
        Timer("pass").collect_callgrind()


def test_pytorchs_module_paths_import(torch):
    import importlib

    paths = {"common": "Measurement", "compare": "Compare", "fuzzer": "Fuzzer", "timer": "Timer"}
    for module, name in paths.items():
        ours = importlib.import_module(f"glassgrad.utils.benchmark.utils.{module}")
        theirs = importlib.import_module(f"torch.utils.benchmark.utils.{module}")
        assert getattr(ours, name) is getattr(benchmark, name) and hasattr(theirs, name)


def test_block_sizes_and_counts_match_pytorchs_timer(torch):
    import torch.utils.benchmark as tb

    def runs(timer_cls):
        out = []
        for step, method, kwargs in (
            (0.5, "timeit", {"number": 10}),
            (2.0**-13, "blocked_autorange", {"min_run_time": 0.25}),
            (2.0**-7, "blocked_autorange", {}),
            (1.0, "blocked_autorange", {"min_run_time": 0.5}),
            (2.0**-10, "adaptive_autorange", {"min_run_time": 0.01}),
            (2.0**-10, "adaptive_autorange", {"threshold": 0.0, "max_run_time": 0.1}),
        ):
            clock = FakeClock(step)
            t = timer_cls("clock.tick()", timer=clock, globals={"clock": clock})
            m = getattr(t, method)(**kwargs)
            out.append((m.number_per_run, m.raw_times, m.median, repr(m).split("\n", 1)[1]))
        return out

    assert runs(Timer) == runs(tb.Timer)


def test_import_torch_in_timed_code_imports_glassgrad():
    # bmm_einsum_matmul.py (Machine-Learning-Collection) times `setup="import torch; x = torch.randn(...)"`;
    # ported, that must time glassgrad, not PyTorch (or fail where PyTorch is not installed)
    seen = []
    t = Timer(
        "seen.append((type(x).__module__.split('.')[0], nn.__name__))",
        setup="import torch; import torch.nn as nn; x = torch.randn(2, 3)",
        globals={"seen": seen, "__builtins__": __builtins__},
    )
    t.timeit(2)
    assert set(seen) == {("glassgrad", "glassgrad.nn")}
    # where globals binds torch to something else, its imports are left alone
    own = Timer("pass", globals={"torch": np})._globals["__builtins__"]
    assert (own if isinstance(own, dict) else vars(own))["__import__"] is builtins.__import__
