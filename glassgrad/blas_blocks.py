"""Row blocks for a recurrence's per-step products, so that each takes OpenBLAS's small-matrix kernel.

OpenBLAS (0.3.16 and later) on its AVX-512 kernels (``SkylakeX``, ``Cooperlake``,
``SapphireRapids``) runs a product with ``m * n * k`` at most 100^3 through a small-matrix kernel
that packs neither operand; a larger product is packed first, and at the sizes of an RNN step the
packing is a large part of the call. The dense LSTM's per-step products are just above the limit
(batch 32, hidden 128: ``(512, 161) @ (161, 32)`` forward, ``(128, 512) @ (512, 32)`` backward), so
cut into three row blocks each they take 35 and 31 us on one thread against 51 and 43 us whole
(Intel Xeon host, float32; docs/benchmarks.md, "Seventeenth look"). ``stacked_blocks`` cuts them into
equal blocks instead, so that one batched ``matmul`` of the weight viewed ``(count, rows / count,
inner)`` makes every block's call: 23 and 24 us against 25 and 26 us for three calls
("Eighteenth look"). With more than one BLAS thread
the whole product is split over the threads instead, which is faster, so nothing is cut; nor for
other BLAS libraries or kernels, or float64, where it was not measured, nor without threadpoolctl
(installed with scikit-learn), which is how the BLAS, its kernels and its thread count are seen.

>>> from glassgrad.blas_blocks import row_blocks
>>> row_blocks(64, 64, 32, "float32")  # m * n * k within the limit already: one block
[slice(0, 64, None)]
"""

from __future__ import annotations

import itertools
from typing import Any

from glassgrad.threads import _blas_controller

__all__ = ["row_blocks", "stacked_blocks"]

_SMALL_KERNEL_CORES = frozenset({"SkylakeX", "Cooperlake", "SapphireRapids"})
_SMALL_LIMIT = 100**3  # OpenBLAS's sgemm_small_kernel_permit for these cores
_MAX_BLOCKS = 4  # measured up to here; beyond it the calls cost what the kernel saves
_openblas: list[Any] = []  # [the OpenBLAS controller or None], found once


def _small_kernel_blas() -> Any:
    """threadpoolctl's controller of an OpenBLAS on AVX-512 kernels, or None."""
    if not _openblas:
        found = None
        controller = _blas_controller()
        for lib in controller.lib_controllers if controller is not None else ():
            info = lib.info()
            if info.get("internal_api") == "openblas" and info.get("architecture") in _SMALL_KERNEL_CORES:
                found = lib
        _openblas.append(found)
    return _openblas[0]


def row_blocks(rows: int, inner: int, cols: int, dtype: Any) -> list[slice]:
    """Row slices of an ``(rows, inner) @ (inner, cols)`` product (both operands C-contiguous), one
    BLAS call each: the fewest blocks that each fit the small-matrix kernel, or one block."""
    whole = [slice(0, rows)]
    size = rows * inner * cols
    if str(dtype) != "float32" or size <= _SMALL_LIMIT:
        return whole
    count = -(-size // _SMALL_LIMIT)
    while -(-rows // count) * inner * cols > _SMALL_LIMIT and count < rows:  # the largest block fits too
        count += 1
    lib = _small_kernel_blas() if count <= min(_MAX_BLOCKS, rows) else None
    if lib is None or lib.num_threads != 1:
        return whole
    edges = [rows * j // count for j in range(count + 1)]
    return [slice(a, b) for a, b in itertools.pairwise(edges)]


def stacked_blocks(rows: int, inner: int, cols: int, dtype: Any) -> int:
    """How many equal row blocks an ``(rows, inner) @ (inner, cols)`` product (both operands
    C-contiguous) takes as one batched product ``(count, rows // count, inner) @ (inner, cols)``:
    the fewest that divide ``rows`` and each fit the small-matrix kernel, or 1 (one plain product)
    where ``row_blocks`` would not cut it."""
    if len(row_blocks(rows, inner, cols, dtype)) == 1:
        return 1
    for count in range(2, _MAX_BLOCKS + 1):
        if rows % count == 0 and rows // count * inner * cols <= _SMALL_LIMIT:
            return count
    return 1
