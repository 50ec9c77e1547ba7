"""``get_num_threads`` / ``set_num_threads``: the BLAS pool's size, resized through threadpoolctl."""

from __future__ import annotations

import numpy as np
import pytest

import glassgrad
from glassgrad import threads


@pytest.fixture
def restore_threads():
    # skipped here, before the teardown could call set_num_threads without threadpoolctl
    pytest.importorskip("threadpoolctl")
    before = glassgrad.get_num_threads()
    yield
    glassgrad.set_num_threads(before)


def test_set_then_get(restore_threads, torch):
    glassgrad.set_num_threads(1)
    assert glassgrad.get_num_threads() == 1
    glassgrad.set_num_threads(2)
    assert glassgrad.get_num_threads() == 2
    a = np.ones((64, 64), np.float32)
    assert np.allclose((glassgrad.tensor(a) @ glassgrad.tensor(a)).numpy(), a @ a)
    # the same contract as PyTorch's: an int, at least 1
    assert isinstance(glassgrad.get_num_threads(), int) and isinstance(torch.get_num_threads(), int)


def test_bad_counts():
    with pytest.raises(TypeError, match="int"):
        glassgrad.set_num_threads(2.0)
    with pytest.raises(TypeError, match="int"):
        glassgrad.set_num_threads(True)
    with pytest.raises(ValueError, match="positive"):
        glassgrad.set_num_threads(0)


def test_without_threadpoolctl(monkeypatch):
    monkeypatch.setattr(threads, "_blas_controller", lambda: None)
    monkeypatch.setenv("OPENBLAS_NUM_THREADS", "3")
    assert glassgrad.get_num_threads() == 3
    monkeypatch.delenv("OPENBLAS_NUM_THREADS")
    for name in ("MKL_NUM_THREADS", "BLIS_NUM_THREADS", "OMP_NUM_THREADS"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr(threads.os, "cpu_count", lambda: 5)
    assert glassgrad.get_num_threads() == 5
    with pytest.raises(RuntimeError, match="threadpoolctl"):
        glassgrad.set_num_threads(1)


def test_timer_still_times_without_threadpoolctl(monkeypatch):
    from glassgrad.utils.benchmark import Timer

    monkeypatch.setattr(threads, "_blas_controller", lambda: None)
    monkeypatch.setenv("OPENBLAS_NUM_THREADS", "2")
    with pytest.warns(RuntimeWarning, match="2 threads, not 1"):
        m = Timer("1 + 1").timeit(10)
    assert m.median > 0
