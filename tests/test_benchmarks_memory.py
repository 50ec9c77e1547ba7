"""The memory benchmark runs a workload in a child process and reads sensible figures back."""

from __future__ import annotations

import sys

import pytest

from benchmarks.memory import measure


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc/self/status")
def test_memory_measure_reports_baseline_and_peak():
    m = measure("cnn", "glassgrad", steps=2, threads=1)
    assert 0 < m["baseline"] <= m["peak"] < 2**31
    assert m["probe"] > 0  # a cross-entropy loss was computed
