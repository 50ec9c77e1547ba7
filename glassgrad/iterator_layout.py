"""The layout PyTorch's elementwise kernels (its ``TensorIterator``) give a result, for the cases
NumPy lays out differently: a result with a dim of size 1, and operands of different layouts.

A size-1 dim's stride never moves a value, but PyTorch reads it: a conv, pool or norm layer answers
in channels-last when its input's strides suggest it (``memory_formats.suggest_format``), and a
later ``view`` then fails or succeeds on that. NumPy gives a size-1 dim of an elementwise result the
stride of its C-order place; PyTorch's iterator sorts the dims by the operands' own strides,
size-1 dims included. So the classic single-image path

    x = torch.from_numpy(hwc.transpose(2, 0, 1)).unsqueeze(0).float() / 255   # (1, 3, H, W)
    model(x)  # conv ... x.view(x.size(0), -1)

gives ``x`` the strides ``(3, 1, 3W, 3)`` in PyTorch (not channels-last by its rule: the conv
answers contiguous) and ``(3HW, 1, 3W, 3)`` from NumPy (channels-last: the conv answered
channels-last and the ``view`` failed). ``iterator_result`` gives the result PyTorch's strides.

PyTorch's rule (``TensorIteratorBase``): when every operand has the result's shape, a result is
laid out contiguous if all operands are, channels-last if all are (4-D), with the operands' own
strides if all are dense with equal strides; otherwise the dims are sorted from the fastest by the
operands' strides (an insertion sort; broadcast dims, stride 0, do not vote; equal strides put the
smaller dim first) and the result is dense in that order: the first operand that orders two dims
decides, so ``channels_last + contiguous`` is channels-last in PyTorch (NumPy's ``order="K"`` gives
the common layout, contiguous). The same holds at every rank: ``x.t() / y`` (y row-major) is
laid out as ``x.t()`` in PyTorch and row-major by NumPy, so ``view(-1)`` raises in one library
only, and the common ``v = y.view(-1) if y.is_contiguous() else y.reshape(-1)`` followed by an
in-place op on ``v`` writes into ``y`` in one library only. Results of 2 or more dims are touched,
only when an operand is not row-major (``needs_layout``): the common op pays one flag test per
operand (and a stride walk when its result has a size-1 dim).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from glassgrad.memory_formats import (
    channels_last,
    contiguous_format,
    element_strides,
    format_strides,
    is_contiguous_as,
    non_overlapping_and_dense,
    preserved_strides,
)

__all__ = [
    "iterator_strides", "iterator_result", "pointwise_result", "pow_result", "preserved_result", "relayout",
    "needs_layout", "contiguous_result",
]  # fmt: skip


def _strides(a: Any) -> tuple[int, ...]:
    """``a``'s strides (in elements) as PyTorch has them, the ones ``Tensor.stride`` reports: NumPy
    gives a size-1 dim made by ``expand``/``broadcast_to`` or ``unsqueeze`` the stride 0, where
    PyTorch keeps a real one, which votes in the sort below (``tensor_device._size_one_strides``)."""
    st = element_strides(a)
    if 0 not in st:
        return st
    out, after = list(st), 1
    for d in range(a.ndim - 1, -1, -1):
        if a.shape[d] == 1 and out[d] == 0:
            out[d] = after
        after = out[d] * a.shape[d]
    return tuple(out)


def _fast_setup(shape: tuple, arrays: list, strides: list) -> tuple[int, ...] | None:
    """PyTorch's shortcut when every operand has the result's shape, else None."""
    if all(a.flags.c_contiguous for a in arrays):
        return format_strides(shape, contiguous_format)
    if len(shape) == 4 and all(is_contiguous_as(a, channels_last) for a in arrays):
        return format_strides(shape, channels_last)
    first = strides[0]
    if all(st == first for st in strides) and non_overlapping_and_dense(shape, first):
        return first
    return None


def iterator_strides(shape: tuple, operands: list) -> tuple[int, ...]:
    """The strides (in elements) PyTorch gives an elementwise result of ``shape`` computed from
    ``operands`` (arrays broadcastable to ``shape``; Python numbers and 0-d arrays count as
    operands of another shape)."""
    arrays = [a for a in operands if isinstance(a, np.ndarray) and a.ndim]
    if not arrays or 0 in shape:
        return format_strides(shape, contiguous_format)
    strides = [_strides(a) for a in arrays]
    if len(arrays) == len(operands) and all(a.shape == shape for a in arrays):
        fast = _fast_setup(shape, arrays, strides)
        if fast is not None:
            return fast
    nd = len(shape)
    votes = []  # each operand's strides over the result's dims; 0 where it is broadcast
    for a, st in zip(arrays, strides, strict=True):
        off = nd - a.ndim
        stretched = [d < off or (a.shape[d - off] == 1 and shape[d] != 1) for d in range(nd)]
        votes.append(tuple(0 if stretched[d] else st[d - off] for d in range(nd)))

    def after(d0: int, d1: int) -> int:  # 1: d0 goes after (outside) d1; -1: before; 0: no vote
        for st in votes:
            s0, s1 = st[d0], st[d1]
            if s0 == 0 or s1 == 0:
                continue
            if s0 < s1:
                return -1
            if s0 > s1 or shape[d0] > shape[d1]:
                return 1
        return 0

    perm = list(range(nd - 1, -1, -1))  # fastest dim first
    for i in range(1, nd):
        j = i
        for k in range(i - 1, -1, -1):
            c = after(perm[k], perm[j])
            if c > 0:
                perm[k], perm[j] = perm[j], perm[k]
                j = k
            elif c < 0:
                break
    out, step = [0] * nd, 1
    for d in perm:
        out[d] = step
        step *= shape[d]
    return tuple(out)


def needs_layout(out: Any, operands: list) -> bool:
    """Whether NumPy's layout of ``out`` may differ from PyTorch's: an operand is not C-ordered
    (a transposed one beside a row-major one: PyTorch's result takes the first operand's layout,
    NumPy's the common one), or ``out`` has a size-1 dim and an operand's or its own stride there
    is not C order's (NumPy's C flag ignores size-1 dims; PyTorch's sort reads their strides).
    When every operand is row-major, PyTorch's result is row-major too, as NumPy's: one flag test
    per operand in the common case."""
    for a in operands:
        if a.__class__ is np.ndarray and not a.flags.c_contiguous:
            return True
    return 1 in out.shape and not _unit_row_major(out, operands)


def _unit_row_major(out: Any, operands: list) -> bool:
    """Whether ``out`` and the C-flagged ``operands`` with a size-1 dim have C order's strides
    there too (an operand laid out as ``out``, the common ``(N, 1)`` case, needs no second walk)."""
    if not _row_major(out):
        return False
    shape, strides = out.shape, out.strides
    for a in operands:
        if a.__class__ is np.ndarray and 1 in a.shape and not (a.shape == shape and a.strides == strides):
            if not _row_major(a):
                return False
    return True


def _row_major(a: Any) -> bool:
    """Whether every stride of ``a`` is C order's, a size-1 dim's included (0 there counts as C
    order's, as ``_strides`` reads it)."""
    step, shape, strides = a.itemsize, a.shape, a.strides
    for d in range(a.ndim - 1, -1, -1):
        s = strides[d]
        if s != step and (s or shape[d] != 1):
            return False
        step *= shape[d]
    return True


def relayout(ctx: Any, out: Any, operands: list, rule: Any) -> Any:
    """``Function.apply``'s call for an op with a ``layout`` rule: ``out`` laid out by ``rule``, and
    the node's saved arrays pointed at the new result (an in-place change of it is then seen).
    ``needs_layout``'s test is inlined: this runs for every elementwise op of 2 or more dims."""
    if out.__class__ is not np.ndarray:
        return out
    for a in operands:
        if a.__class__ is np.ndarray and not a.flags.c_contiguous:
            break
    else:
        if 1 not in out.shape or _unit_row_major(out, operands):
            return out
    res = rule(out, operands)
    if res is not out and ctx.saved:
        ctx.saved = tuple(res if s is out else s for s in ctx.saved)
    return res


def iterator_result(out: Any, operands: list) -> Any:
    """``out`` (a fresh elementwise result) with PyTorch's strides (``iterator_strides``), a Python
    number counting as an operand: PyTorch wraps it in a 0-d tensor (``+ - * /``, ``where``,
    comparisons, ``fmod``, ``remainder``, ``xlogy``, ``copysign``)."""
    return _restrided(out, iterator_strides(out.shape, operands))


def pointwise_result(out: Any, operands: list) -> Any:
    """As ``iterator_result`` for the ops whose numbers are parameters, not operands (``x ** 2``,
    ``clamp(x, 0, 1)``, the activations): a unary op on a dense input keeps its strides."""
    return _restrided(out, iterator_strides(out.shape, [a for a in operands if isinstance(a, np.ndarray)]))


def contiguous_result(out: Any, operands: list) -> Any:
    """``out`` contiguous, whatever the operands' layouts (the ops whose PyTorch kernel allocates
    its result so: ``masked_fill``, ``logsigmoid``)."""
    return _restrided(out, format_strides(out.shape, contiguous_format))


def pow_result(out: Any, operands: list) -> Any:
    """``pow``'s: a number base (``2 ** x``) gives a contiguous result in PyTorch, whatever ``x``'s
    layout; a number exponent is a parameter."""
    if not isinstance(operands[0], np.ndarray):
        return contiguous_result(out, operands)
    return pointwise_result(out, operands)


def preserved_result(out: Any, operands: list) -> Any:
    """``out`` (a fresh copy of ``operands[0]``: a cast, a clone) with ``preserve_format``'s strides:
    the input's own when it is dense (PyTorch's ``empty_like``)."""
    x = operands[0]
    if x.__class__ is not np.ndarray or x.shape != out.shape:
        return out
    return _restrided(out, preserved_strides(x.shape, _strides(x)))


def _restrided(out: Any, want: tuple) -> Any:
    """``out`` with strides ``want`` (in elements). Only size-1 strides differ in the common case:
    then the result is a view of ``out``'s buffer; else (NumPy ordered the other dims otherwise
    too) a copy."""
    shape = out.shape
    if element_strides(out) == want:
        return out
    order = sorted(range(out.ndim), key=lambda d: (want[d], shape[d]), reverse=True)  # slowest first
    inverse = [0] * out.ndim
    for i, d in enumerate(order):
        inverse[d] = i
    packed = out.transpose(order)
    if packed.flags.c_contiguous:
        res = packed.reshape(-1).reshape(packed.shape).transpose(inverse)  # C strides, size-1 dims too
    else:
        res = np.empty(packed.shape, out.dtype).transpose(inverse)
        np.copyto(res, out)
    if element_strides(res) != want:  # ties among size-1 dims sorted otherwise: set them directly
        flat = res.transpose(order).reshape(-1)
        res = np.lib.stride_tricks.as_strided(flat, shape, tuple(s * out.itemsize for s in want))
    return res
