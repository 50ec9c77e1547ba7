"""The array-module seam, and the allocator setting that NumPy training needs.

Ops never call ``numpy`` on tensor data directly; they ask for the module that owns the arrays
(``xp = array_module(a)``). Today that is always NumPy; a GPU backend (CuPy) can later be returned
here without touching any op.
"""

from __future__ import annotations

import contextvars
import ctypes
import os
import sys
from typing import Any

import numpy as np

from glassgrad.meta_array import MetaArray, meta_numpy
from glassgrad.meta_array import seen as _meta_seen

__all__ = [
    "array_module", "np_module", "to_numpy", "ndarray", "asarray", "may_share_memory", "malloc_tuned",
    "quietly", "dense", "c_layout", "laid_out_like", "quiet_start", "quiet_end", "quiet_run", "quiet_busy", "user_code",
]  # fmt: skip

np_module = np
#: The array type ops return; NumPy reductions hand back scalars that are turned into 0-d arrays.
ndarray = np.ndarray
asarray = np.asarray
may_share_memory = np.may_share_memory


# NumPy 2 keeps its floating-point error state in a context variable: setting it directly costs
# about 0.6 us, against about 5.6 us for building and entering an ``np.errstate`` on every call.
try:
    from numpy._core._multiarray_umath import _extobj_contextvar as _FP_STATE

    with np.errstate(all="ignore"):
        _FP_IGNORE = _FP_STATE.get()
except (ImportError, AttributeError):  # NumPy 1.x: the public, slower route
    _FP_STATE = None


#: the caller's NumPy state while a quiet stretch (``quiet_start``) runs, for ``user_code``
_CALLER: contextvars.ContextVar = contextvars.ContextVar("glassgrad_caller_fp_state", default=None)


def quiet_start() -> Any:
    """Turn NumPy's floating-point warnings off until ``quiet_end(token)``: once around a whole
    backward pass, where a gradient may be inf or nan on purpose (1/0, 0 * inf), as in PyTorch."""
    if _FP_STATE is None:
        return None
    return _CALLER.set(_FP_STATE.get()), _FP_STATE.set(_FP_IGNORE)


def quiet_end(token: Any) -> None:
    if token is not None:
        _FP_STATE.reset(token[1])
        _CALLER.reset(token[0])


def user_code(fn, *args, **kwargs):
    """``fn(*args, **kwargs)``, a user's own code run by glassgrad inside a quiet stretch (a hook, a
    custom ``Function.backward``), with the caller's NumPy state back: their own NumPy arithmetic
    warns or raises as they set it (``np.seterr(all="raise")``); glassgrad's ops stay quiet."""
    caller = None if _FP_STATE is None else _CALLER.get()
    if caller is None or _FP_STATE.get() is not _FP_IGNORE:
        return fn(*args, **kwargs)
    token = _FP_STATE.set(caller)
    try:
        return fn(*args, **kwargs)
    finally:
        _FP_STATE.reset(token)


def _quiet_context() -> Any:
    """``run`` of a context whose NumPy floating-point state is "ignore", or None where ops must
    set the state instead (``quietly``'s last branch).

    ``Function.apply`` runs every op's forward through it (``quiet_run(forward, ctx, *arrays)``):
    entering a context is a pointer swap, where setting and resetting the variable allocates twice
    and added 0.17 us to ``a + b`` (measured); this adds about 0.05 us. The context is empty but
    for that state: forwards read no other context variable. A context is entered by one thread at
    a time: a forward run inside another forward, or by a second thread meanwhile, gets
    RuntimeError ("already entered") from ``run`` itself (``quiet_busy``), and apply falls back to
    ``quietly`` (which finds the state quiet already, inside a forward). Not used where Python
    keeps its warning filters in the context (3.14's ``context_aware_warnings``): a forward's own
    warnings must see the caller's filters."""
    if _FP_STATE is None or getattr(sys.flags, "context_aware_warnings", False):
        return None
    ctx = contextvars.Context()
    ctx.run(_FP_STATE.set, _FP_IGNORE)
    return ctx.run


_run = _quiet_context()


def quiet_busy(e: BaseException) -> bool:
    """Whether ``e``, caught around ``quiet_run(fn, ...)``, is ``run`` refusing to enter the quiet
    context a second time, not an error of ``fn``'s (whose frames would be in the traceback)."""
    return (
        e.__class__ is RuntimeError
        and e.__traceback__.tb_next is None
        and str(e).startswith("cannot enter context")
    )


def quietly(fn, *args, **kwargs):
    """``fn(*args, **kwargs)`` with NumPy's floating-point warnings off (``np.errstate(all="ignore")``).

    For ops that give inf or nan on purpose, as PyTorch does without a word (``log(0) = -inf``,
    ``sqrt(-1) = nan``, ``exp(1000) = inf``): NumPy would otherwise warn from inside glassgrad.
    Every op's forward already runs so (``Function.apply``); this is for the code around them.
    """
    if _FP_STATE is None:
        with np.errstate(all="ignore"):
            return fn(*args, **kwargs)
    if _FP_STATE.get() is _FP_IGNORE:  # already quiet: inside a forward or a backward pass
        return fn(*args, **kwargs)
    # set, not the quiet context (_run): ``quietly(lambda: Op.apply(...))`` would find it entered
    token = _FP_STATE.set(_FP_IGNORE)
    try:
        return fn(*args, **kwargs)
    finally:
        _FP_STATE.reset(token)


#: ``quiet_run(fn, *args, **kwargs)``: ``fn`` run in the quiet context (``_quiet_context``), for
#: ``Function.apply``, which handles ``quiet_busy`` itself; ``quietly`` where there is none.
quiet_run = _run or quietly


def array_module(*arrays: object):
    """Return the array module (``numpy`` today) that the given arrays belong to: NumPy, or for
    arrays of the meta device (``MetaArray``) NumPy that keeps them meta (``meta_numpy``)."""
    if _meta_seen[0]:  # one truth test until a meta array has ever been made
        for a in arrays:
            if a.__class__ is MetaArray:
                return meta_numpy
    return np


def dense(a: object) -> object:
    """``a``, or a C-contiguous copy when its strides are another layout (a channels-last or
    transposed array). Reductions and normalisations read their input through this, so that the
    order of their sums, hence the rounding, never depends on the memory layout."""
    if a.__class__ is not np.ndarray or a.flags.c_contiguous:
        return a  # a meta array has no layout
    return np.ascontiguousarray(a)


def c_layout(a: object) -> object:
    """``a`` with the strides PyTorch gives a new tensor (row-major, a size-1 dim's stride too, which
    NumPy's ``c_contiguous`` ignores): ``a`` when it has them, else a C-ordered copy. Advanced
    indexing returns through this (NumPy lays ``a[:, idx]`` out transposed)."""
    if a.__class__ is not np.ndarray:
        return a  # a meta array or a NumPy scalar
    shape = a.shape
    if a.flags.c_contiguous and 1 not in shape and 0 not in shape:
        return a  # the common case, kept fast: row-major, and no size-1 stride NumPy could have moved
    step = a.itemsize  # row-major strides from the last dim (a size of 0 counting as 1, as PyTorch's)
    for n, st in zip(reversed(shape), reversed(a.strides), strict=True):
        if st != step:
            return a.copy(order="C")
        step *= n if n > 1 else 1
    return a


def laid_out_like(a: object, like: object) -> object:
    """``a``'s values in ``like``'s memory layout (its stride order; ``a``'s dtype): what an
    in-place op on ``like`` leaves, as PyTorch writes into its memory, so a transposed clone stays
    transposed (``is_contiguous``, ``view`` and ``stride`` read as PyTorch's). Meta arrays as they are."""
    if a.__class__ is not np.ndarray or like.__class__ is not np.ndarray:
        return a
    out = np.empty_like(like, dtype=a.dtype)
    out[...] = a
    return out


def to_numpy(a: object) -> np.ndarray:
    """Return ``a`` as a host NumPy array (a no-op for NumPy arrays)."""
    return np.asarray(a)


def _tune_glibc_malloc() -> bool:
    """Let freed large arrays be reused inside the process instead of going back to the OS.

    NumPy takes every array from ``malloc``. glibc serves blocks above a threshold with ``mmap`` and
    unmaps them on ``free``, so a training step that makes and drops the same few-MB activations,
    gradients and optimizer temporaries pays fresh page faults for them on every step: the ``mlp``
    benchmark (2 threads) ran at 7.6 ms/step with glibc's defaults and about 4 ms/step with these
    settings (docs/benchmarks.md; PyTorch avoids the cost with its own caching allocator). Raising the mmap threshold to its maximum and
    the trim threshold keeps freed blocks reusable. Linux with glibc only; skipped when the user has
    set glibc's own ``MALLOC_*`` variables, and turned off by ``GLASSGRAD_MALLOC_TUNING=0``.

    Returns:
        whether the thresholds were changed.
    """
    if os.environ.get("GLASSGRAD_MALLOC_TUNING", "1") == "0":
        return False
    if any(k in os.environ for k in ("MALLOC_MMAP_THRESHOLD_", "MALLOC_TRIM_THRESHOLD_")):
        return False
    try:
        if not os.confstr("CS_GNU_LIBC_VERSION"):
            return False
        libc = ctypes.CDLL("libc.so.6")
    except (ValueError, OSError, AttributeError):
        return False
    m_trim_threshold, m_mmap_threshold = -1, -3  # mallopt parameter numbers in <malloc.h>
    mmap_ok = libc.mallopt(m_mmap_threshold, 32 << 20)  # glibc's largest allowed value on 64-bit
    trim_ok = libc.mallopt(m_trim_threshold, 256 << 20)
    return bool(mmap_ok and trim_ok)


#: True when glassgrad raised glibc's malloc thresholds at import (see ``_tune_glibc_malloc``).
malloc_tuned = _tune_glibc_malloc()
