"""``get_num_threads`` / ``set_num_threads``: the size of the thread pool that computes.

glassgrad's only multi-threaded work is the BLAS library NumPy links (OpenBLAS, MKL, BLIS):
matmul, conv through im2col, the linear layers. So "the number of threads" is the BLAS pool's
size, as ``torch.get_num_threads`` is the size of PyTorch's intra-op pool. The pool is resized at
run time through ``threadpoolctl`` (installed with scikit-learn); without it,
``get_num_threads`` reads the size the process started with (``OPENBLAS_NUM_THREADS``,
``MKL_NUM_THREADS``, ``OMP_NUM_THREADS`` or the CPU count) and ``set_num_threads`` raises,
saying what to install, rather than silently changing nothing.

>>> import glassgrad as gg
>>> n = gg.get_num_threads()
>>> gg.set_num_threads(1)
>>> gg.get_num_threads()
1
>>> gg.set_num_threads(n)
"""

from __future__ import annotations

import numbers
import os
from typing import Any

from glassgrad.errors import ArgumentError, DTypeError

__all__ = ["get_num_threads", "set_num_threads"]

_ENV_VARS = ("OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "BLIS_NUM_THREADS", "OMP_NUM_THREADS")
_controller: Any = None


def _blas_controller() -> Any:
    """The threadpoolctl controller of the BLAS libraries loaded, or None without threadpoolctl.

    Built once: scanning the loaded libraries costs milliseconds, and ``Timer`` sets the pool
    size around every measurement.
    """
    global _controller
    if _controller is None:
        try:
            from threadpoolctl import ThreadpoolController
        except ImportError:
            return None
        import numpy  # noqa: F401 - its BLAS must be loaded before the scan

        _controller = ThreadpoolController().select(user_api="blas")
    return _controller


def _startup_threads() -> int:
    for name in _ENV_VARS:
        value = os.environ.get(name, "").strip()
        if value.isdigit() and int(value) > 0:
            return int(value)
    return os.cpu_count() or 1


def get_num_threads() -> int:
    """The number of threads the BLAS library uses for one matmul (at least 1)."""
    controller = _blas_controller()
    if controller is None or not controller.lib_controllers:
        return _startup_threads()
    return max(max(lib.num_threads for lib in controller.lib_controllers), 1)


def check_thread_count(op: str, num: Any) -> int:
    """The thread count as an int (NumPy integers too, as PyTorch takes them); one that is not an
    int of at least 1 is refused with PyTorch's ``RuntimeError`` kinds (ours are also
    ``TypeError``/``ValueError``, what plain Python code catches)."""
    if isinstance(num, bool) or not isinstance(num, numbers.Integral):  # np.int64 is Integral
        raise DTypeError(f"{op}: expected an int, got {type(num).__name__}")
    count = int(num)
    if count < 1:
        raise ArgumentError(f"{op}: expected a positive number of threads, got {count}")
    return count


def set_num_threads(num: int) -> None:
    """Use ``num`` threads in the BLAS library from now on (``torch.set_num_threads``).

    Raises:
        DTypeError: ``num`` is not an integer (a ``TypeError`` and, as PyTorch's, a ``RuntimeError``).
        ArgumentError: ``num`` is below 1 (a ``ValueError`` and, as PyTorch's, a ``RuntimeError``).
        RuntimeError: threadpoolctl is not installed, so the pool cannot be resized.
    """
    num = check_thread_count("set_num_threads", num)
    controller = _blas_controller()
    if controller is None:
        raise RuntimeError(
            "set_num_threads: resizing the BLAS thread pool needs threadpoolctl "
            "(pip install threadpoolctl), or set OPENBLAS_NUM_THREADS before starting Python"
        )
    controller.limit(limits=num)
