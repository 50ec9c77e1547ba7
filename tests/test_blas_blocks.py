"""row_blocks: when a per-step product is cut into row blocks for OpenBLAS's small-matrix kernel."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

import glassgrad.blas_blocks as blas_blocks
from glassgrad.blas_blocks import row_blocks

F32, F64 = np.dtype("float32"), np.dtype("float64")


class _Lib:
    def __init__(self, threads: int) -> None:
        self.num_threads = threads


@pytest.fixture
def openblas_avx512(monkeypatch):
    """An OpenBLAS on AVX-512 kernels, found once; the test sets its thread count."""
    lib = _Lib(1)
    monkeypatch.setattr(blas_blocks, "_openblas", [lib])
    return lib


@pytest.mark.parametrize(
    "rows, inner, cols, count",
    [(512, 161, 32, 3), (128, 512, 32, 3), (512, 129, 32, 3), (400, 100, 40, 2), (300, 100, 100, 3)],
)
def test_fewest_blocks_that_each_fit_the_small_kernel(openblas_avx512, rows, inner, cols, count):
    blocks = row_blocks(rows, inner, cols, F32)
    assert len(blocks) == count
    assert blocks[0].start == 0 and blocks[-1].stop == rows
    assert all(a.stop == b.start for a, b in itertools.pairwise(blocks))
    assert all((b.stop - b.start) * inner * cols <= 100**3 for b in blocks)


@pytest.mark.parametrize(
    "rows, inner, cols, dtype, threads",
    [
        (64, 64, 32, F32, 1),  # small enough already
        (100, 100, 100, F32, 1),  # exactly at the limit
        (512, 161, 32, F64, 1),  # float64: not measured
        (512, 161, 32, F32, 2),  # two threads: the one threaded call is faster
        (512, 161, 128, F32, 1),  # would need 11 blocks: more calls than measured
        (3, 2000, 1000, F32, 1),  # one row each would not fit either
    ],
)
def test_one_block_otherwise(openblas_avx512, rows, inner, cols, dtype, threads):
    openblas_avx512.num_threads = threads
    assert row_blocks(rows, inner, cols, dtype) == [slice(0, rows)]


def test_one_block_without_an_openblas_on_avx512_kernels(monkeypatch):
    monkeypatch.setattr(blas_blocks, "_openblas", [None])
    assert row_blocks(512, 161, 32, F32) == [slice(0, 512)]


def test_this_machines_blas_is_looked_up_once(monkeypatch):
    monkeypatch.setattr(blas_blocks, "_openblas", [])
    first = blas_blocks._small_kernel_blas()
    assert blas_blocks._openblas == [first]
    assert first is None or first.info()["internal_api"] == "openblas"


@pytest.mark.parametrize(
    "rows, inner, cols, count",
    [
        (512, 161, 32, 4),
        (128, 512, 32, 4),
        (510, 161, 32, 3),
        (400, 100, 40, 2),
        (64, 64, 32, 1),
        (509, 161, 32, 1),
    ],
)
def test_stacked_blocks_are_equal_and_each_fit(openblas_avx512, rows, inner, cols, count):
    """One batched product of ``count`` equal blocks (509 rows: no divisor up to 4, one product)."""
    got = blas_blocks.stacked_blocks(rows, inner, cols, F32)
    assert got == count
    if got > 1:
        assert rows % got == 0 and rows // got * inner * cols <= 100**3


def test_stacked_blocks_one_product_where_row_blocks_would_not_cut(openblas_avx512):
    openblas_avx512.num_threads = 2
    assert blas_blocks.stacked_blocks(512, 161, 32, F32) == 1
    openblas_avx512.num_threads = 1
    assert blas_blocks.stacked_blocks(512, 161, 32, F64) == 1
