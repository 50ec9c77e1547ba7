# ruff: noqa: A001, A002 - PyTorch's parameter names (input) are the API
"""More of PyTorch's products: ``tensordot``, ``kron``, ``inner``, ``vdot``, ``addbmm``, ``addr``
(compositions of einsum, matmul and broadcasting products), ``dist`` (re-exported from
``dist.py``) and ``cdist`` (pairwise p-norm distances, a primitive with PyTorch's backward), with
``pdist`` (the distances between a matrix's own rows, read off ``cdist``).
"""

from __future__ import annotations

import math
import operator
from typing import Any

import numpy as np

from glassgrad.autograd.function import Primitive as Function
from glassgrad.autograd.shapes import broadcast_shape
from glassgrad.backend import array_module
from glassgrad.dtypes import bool as bool_dtype
from glassgrad.dtypes import float16
from glassgrad.errors import ArgumentError, DTypeError, ShapeError
from glassgrad.operand_errors import number_arg
from glassgrad.ops import matmul as _mm
from glassgrad.ops.alpha_checks import addr_scale
from glassgrad.ops.blas_number_first import blas_legacy
from glassgrad.ops.complex import conj
from glassgrad.ops.composite import _dims, _scaled, _term, blas_factors, with_out
from glassgrad.ops.dist import dist
from glassgrad.ops.indexing import normalize_dim
from glassgrad.tensor import Tensor

__all__ = ["tensordot", "kron", "inner", "vdot", "addbmm", "addr", "cdist", "dist", "pdist"]

_LETTERS = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"


def _same(op: str, a: Tensor, b: Tensor) -> None:
    if a._data.dtype != b._data.dtype:
        raise DTypeError(f"{op}: expected both inputs of one dtype, got {a.dtype} and {b.dtype}")


def _dim_list(dims: Any) -> list[int]:
    if isinstance(dims, Tensor):
        dims = dims._data.tolist()
    return [dims] if isinstance(dims, int) else [operator.index(d) for d in dims]


def tensordot(a: Tensor, b: Tensor, dims: Any = 2, out: Any = None) -> Tensor:
    """Contract ``a``'s dims ``dims[0]`` with ``b``'s ``dims[1]`` (or a's last ``dims`` with b's first).

    Shape:
        the result has a's free dims, then b's free dims.
    """
    _same("tensordot", a, b)
    if isinstance(dims, Tensor) and dims.numel() == 1:  # tensor(2) and tensor([2]), as PyTorch
        dims = int(dims.item())
    if isinstance(dims, int | np.integer):
        k = int(dims)
        if k < 0 or k > a.ndim or k > b.ndim:
            raise ShapeError(
                f"tensordot: expected 0 <= dims <= both ranks, got {k} for {a.shape} and {b.shape}"
            )
        da, db = list(range(a.ndim - k, a.ndim)), list(range(k))
    else:
        for name, d in zip(
            ("dims_self", "dims_other"), dims if isinstance(dims, list | tuple | Tensor) else ()
        ):
            # ([1], 0), [1, 0] or tensor([1, 0]): PyTorch reads a list per side
            if isinstance(d, int | np.integer) or (isinstance(d, Tensor) and d.ndim == 0):
                raise TypeError(f"tensordot(): argument '{name}' must be tuple of ints, not int")
        try:
            da, db = (_dim_list(d) for d in dims)
        except (TypeError, ValueError):
            raise ShapeError(
                f"tensordot: expected dims as an int or a pair of dim lists, got {dims!r}"
            ) from None
        if len(da) != len(db):
            raise ShapeError(f"tensordot: expected as many dims of a as of b, got {da} and {db}")
        da = [normalize_dim(d, a.ndim, "tensordot", a.shape) for d in da]
        db = [normalize_dim(d, b.ndim, "tensordot", b.shape) for d in db]
    if len(set(da)) != len(da) or len(set(db)) != len(db):
        raise ShapeError(f"tensordot: expected distinct dims, got {da} and {db}")
    for i, j in zip(da, db):
        # A contracted dim of size 1 broadcasts against the other side's: PyTorch sums the
        # other side over it right away (keeping the dim), so the contraction is then 1 by 1.
        if a.shape[i] != b.shape[j] and b.shape[j] == 1:
            a = a.sum(i, keepdim=True, dtype=a.dtype)
        elif a.shape[i] != b.shape[j] and a.shape[i] == 1:
            b = b.sum(j, keepdim=True, dtype=b.dtype)
        elif a.shape[i] != b.shape[j]:
            raise ShapeError(
                f"tensordot: contracted dims must match, got a.shape[{i}] = {a.shape[i]} and "
                f"b.shape[{j}] = {b.shape[j]} ({a.shape} and {b.shape})"
            )
    if a.ndim + b.ndim - len(da) > len(_LETTERS):
        raise ShapeError(f"tensordot: too many dims ({a.shape} and {b.shape})")
    sa = list(_LETTERS[: a.ndim])
    sb = list(_LETTERS[a.ndim : a.ndim + b.ndim])
    for i, j in zip(da, db):
        sb[j] = sa[i]
    free = [c for k, c in enumerate(sa) if k not in da] + [c for k, c in enumerate(sb) if k not in db]
    return with_out(_mm.einsum(f"{''.join(sa)},{''.join(sb)}->{''.join(free)}", a, b), out, "tensordot")


def kron(input: Tensor, other: Tensor, *, out: Any = None) -> Tensor:
    """Kronecker product: block (i, j, ...) of the result is ``input[i, j, ...] * other``.

    Shape:
        ``(a_0, .., a_n), (b_0, .., b_n) -> (a_0 b_0, .., a_n b_n)`` (the shorter padded with 1s).
    """
    nd = max(input.ndim, other.ndim)
    sa = (1,) * (nd - input.ndim) + tuple(input.shape)
    sb = (1,) * (nd - other.ndim) + tuple(other.shape)
    a = input.reshape([v for s in sa for v in (s, 1)])  # (a0, 1, a1, 1, ...)
    b = other.reshape([v for s in sb for v in (1, s)])  # (1, b0, 1, b1, ...)
    return with_out((a * b).reshape([x * y for x, y in zip(sa, sb)]), out, "kron")


def inner(input: Tensor, other: Tensor, *, out: Any = None) -> Tensor:
    """Sum of products over the last dims (a product when either is 0-d).

    Shape:
        ``(*A, k), (*B, k) -> (*A, *B)``.
    """
    if input.ndim == 0 or other.ndim == 0:
        return with_out(input * other, out, "inner")
    _same("inner", input, other)
    if input.shape[-1] != other.shape[-1]:
        raise ShapeError(f"inner: expected equal last dims, got {input.shape} and {other.shape}")
    return with_out(tensordot(input, other, ([-1], [-1])), out, "inner")


def vdot(input: Tensor, other: Tensor, *, out: Any = None) -> Tensor:
    """Dot product of two 1-D tensors, the first conjugated: ``sum(conj(input) * other)``, as
    PyTorch's (``dot`` conjugates neither; for real tensors the two agree)."""
    _dims("vdot", input, 1, "input")
    _dims("vdot", other, 1, "other")
    _same("vdot", input, other)
    if input.shape[0] != other.shape[0]:
        raise ShapeError(f"vdot: expected vectors of one length, got {input.shape} and {other.shape}")
    return with_out(_mm.matmul(conj(input), other), out, "vdot")


def addbmm(
    input: Tensor,
    batch1: Tensor,
    batch2: Tensor,
    *legacy: Any,
    beta: Any = 1,
    alpha: Any = 1,
    out: Any = None,
) -> Tensor:
    """beta * input + alpha * sum_b (batch1[b] @ batch2[b]) (``legacy``: PyTorch's deprecated
    ``addbmm(beta, input, [alpha,] batch1, batch2)``, ops/blas_number_first.py).

    Shape:
        batch1 ``(b, n, k)``, batch2 ``(b, k, m)``, input broadcastable to ``(n, m)`` -> ``(n, m)``.
    """
    if legacy:
        input, (batch1, batch2), beta, alpha = blas_legacy(
            "addbmm", input, (batch1, batch2, *legacy), beta, alpha
        )
    _dims("addbmm", batch1, 3, "batch1")
    _dims("addbmm", batch2, 3, "batch2")
    if batch1.shape[0] != batch2.shape[0] or batch1.shape[2] != batch2.shape[1]:
        raise ShapeError(f"addbmm: expected (b, n, k) and (b, k, m), got {batch1.shape} and {batch2.shape}")
    _same("addbmm", batch1, batch2)
    beta, alpha = blas_factors("addbmm", input, (batch1, batch2), beta, alpha)
    n, m = batch1.shape[1], batch2.shape[2]
    broadcast_shape(input.shape, (n, m), op="addbmm")
    prod = _mm.einsum("bnk,bkm->nm", batch1, batch2)
    # float16: alpha = 0 still multiplies (a NaN in the batches stays), as PyTorch's CPU kernel
    scaled = _scaled(prod, alpha) if prod.dtype == float16 else _term(prod, alpha)
    # PyTorch's addbmm resizes its out without the warning of a non-empty out
    # the product first: PyTorch's result is row-major, whatever input's layout (as addmm's)
    return with_out(_bcast(scaled + _term(input, beta), (n, m)), out, "addbmm", warn_resize=False)


def addr(
    input: Tensor, vec1: Tensor, vec2: Tensor, *legacy: Any, beta: Any = 1, alpha: Any = 1, out: Any = None
) -> Tensor:
    """beta * input + alpha * outer(vec1, vec2) (``legacy`` as addbmm's).

    Shape:
        vec1 ``(n,)``, vec2 ``(m,)``, input broadcastable to ``(n, m)`` -> ``(n, m)``.
    """
    if legacy:
        input, (vec1, vec2), beta, alpha = blas_legacy("addr", input, (vec1, vec2, *legacy), beta, alpha)
    _dims("addr", vec1, 1, "vec1")
    _dims("addr", vec2, 1, "vec2")
    n, m = vec1.shape[0], vec2.shape[0]
    broadcast_shape(input.shape, (n, m), op="addr")
    # PyTorch's addr is an elementwise kernel: it refuses a float factor for integer tensors and a
    # bool one for non-bool tensors, and alpha = 0 still multiplies (a NaN in a vector stays)
    beta, alpha = (addr_scale(k, v, input, vec1, vec2) for k, v in (("beta", beta), ("alpha", alpha)))
    if input.dtype == vec1.dtype == vec2.dtype == bool_dtype:
        # PyTorch's bool kernel reads the factors as truth values ((beta && x) || (alpha && v1 v2^T)):
        # an int 3 times a bool tensor would promote the result to int64
        beta, alpha = bool(beta), bool(alpha)
    prod = _mm.outer(vec1, vec2)
    return with_out(_bcast(_term(input, beta) + _scaled(prod, alpha), (n, m)), out, "addr")


def _bcast(t: Tensor, shape: tuple) -> Tensor:
    return t if tuple(t.shape) == shape else t.expand(*shape)


# ------------------------------------------------------------------ distances
class Cdist(Function):
    """z[.., i, j] = ||x1[.., i, :] - x2[.., j, :]||_p (p >= 0; p = 0 counts non-zeros, inf is the max).

    VJP (PyTorch's ``_cdist_backward``), with d = x1_i - x2_j and z its norm, per pair:
    p = 1: sign(d); p = 2: d / z; p = inf: sign(d) where |d| = z (every tie in full);
    other p: sign(d) |d|^(p-1) / z^(p-1); all 0 where z = 0, and where d = 0 for p < 1; p = 0: 0.
    x1 gets the sum over j, x2 minus the sum over i.

    With ``mm`` (p = 2), PyTorch's ``_euclidean_dist``: z = sqrt(max(|x1_i|^2 + |x2_j|^2 -
    2 x1_i . x2_j, 0)) by one matrix product, and its VJP with r = g / z (0 where z = 0):
    (x1 sum_j r - r @ x2, x2 sum_i r - r^T @ x1); no (B, P, R, M) differences either way.
    """

    name = "cdist"

    @staticmethod
    def forward(ctx, x1, x2, p=2.0, mm=False):
        xp = array_module(x1)
        if mm:
            n1, n2 = (x1 * x1).sum(-1, keepdims=True), (x2 * x2).sum(-1, keepdims=True)
            a = xp.concatenate([x1 * -2, n1, xp.ones_like(n1)], -1)  # (B, P, M + 2)
            b = xp.concatenate([x2, xp.ones_like(n2), n2], -1)  # (B, R, M + 2)
            out = xp.sqrt(xp.maximum(xp.matmul(a, xp.swapaxes(b, -1, -2)), 0))  # (NaN stays)
            ctx.save_for_backward(x1, x2, out)
            return out
        with np.errstate(divide="ignore", over="ignore", invalid="ignore"):  # inf - inf: nan, as PyTorch
            d = x1[..., :, None, :] - x2[..., None, :, :]  # (B, P, R, M)
            # (B, P, R, M) passes dominate: each works in place in d where the difference is not
            # needed again (the same roundings as new arrays, without their allocation)
            if p == 0:
                out = (d != 0).sum(-1).astype(x1.dtype)
            elif p == 2:
                out = xp.sqrt(xp.multiply(d, d, out=d).sum(-1))
            else:
                ad = xp.abs(d, out=d)
                if p == 1:
                    out = ad.sum(-1)
                elif p == math.inf:
                    out = ad.max(-1) if d.shape[-1] else xp.zeros(d.shape[:-1], dtype=x1.dtype)
                else:
                    out = (ad**p).sum(-1) ** (1.0 / p)
        ctx.save_for_backward(x1, x2, out)
        return out

    @staticmethod
    def backward(ctx, g):
        x1, x2, z = ctx.saved
        p = ctx.attrs["p"]
        xp = array_module(g)
        if ctx.attrs.get("mm"):
            with np.errstate(divide="ignore", invalid="ignore"):
                r = xp.where(z == 0, 0, g / z)  # (B, P, R)
            g1 = x1 * r.sum(-1, keepdims=True) - xp.matmul(r, x2) if ctx.needs_input_grad[0] else None
            g2 = (
                x2 * r.sum(-2)[..., None] - xp.matmul(xp.swapaxes(r, -1, -2), x1)
                if ctx.needs_input_grad[1]
                else None
            )
            return g1, g2
        zz, gg = z[..., None], g[..., None]
        with np.errstate(divide="ignore", over="ignore", invalid="ignore"):
            d = x1[..., :, None, :] - x2[..., None, :, :]
            if p == 0:
                per = xp.zeros_like(d)
            elif p == 1:
                per = xp.sign(d) * gg
            elif p == 2:
                per = xp.multiply(d, gg, out=d)
                per /= zz
            elif p == math.inf:
                per = xp.sign(d) * (xp.abs(d) == zz) * gg
            else:
                per = xp.sign(d) * xp.abs(d) ** (p - 1) * gg / zz ** (p - 1)
                if p < 1:
                    per = xp.where(d == 0, 0, per)
            per[z == 0] = 0  # the pairs at distance 0: their rows of M zeroed (N of pdist's N x N)
            g1 = per.sum(-2) if ctx.needs_input_grad[0] else None  # (B, P, M)
            g2 = -per.sum(-3) if ctx.needs_input_grad[1] else None  # (B, R, M)
        return g1, g2


def cdist(x1: Tensor, x2: Tensor, p: float = 2.0, compute_mode: Any = None) -> Tensor:
    """Pairwise p-norm distances between the rows of ``x1`` and of ``x2`` (batch dims broadcast).

    For p = 2, as PyTorch, by the matrix product ``|x1|^2 + |x2|^2 - 2 x1 x2^T`` (its rounding, and
    its zero for nearly equal rows) with ``compute_mode="use_mm_for_euclid_dist"``, or by default
    where P or R exceeds 25; else from the differences.

    Shape:
        ``(*B, P, M), (*B, R, M) -> (*B, P, R)``.
    """
    for name, t in (("x1", x1), ("x2", x2)):
        if t.ndim < 2:
            raise ShapeError(f"cdist: expected {name} with at least 2 dims, got shape {t.shape}")
        if t._data.dtype.kind != "f":
            raise DTypeError(f"cdist: expected floating point inputs, got {name} of dtype {t.dtype}")
    _same("cdist", x1, x2)
    if x1.shape[-1] != x2.shape[-1]:
        raise ShapeError(f"cdist: expected x1 and x2 with the same last dim, got {x1.shape} and {x2.shape}")
    p = _norm_order("cdist", p)
    if compute_mode not in (None, "use_mm_for_euclid_dist_if_necessary", "use_mm_for_euclid_dist",
                            "donot_use_mm_for_euclid_dist"):  # fmt: skip
        raise ValueError(f"cdist: unknown compute_mode {compute_mode!r}")
    batch = broadcast_shape(x1.shape[:-2], x2.shape[:-2], op="cdist")
    a, b = (_bcast(t, (*batch, *t.shape[-2:])) for t in (x1, x2))
    mm = p == 2 and a.numel() > 0 and b.numel() > 0 and compute_mode != "donot_use_mm_for_euclid_dist"
    mm = mm and (compute_mode == "use_mm_for_euclid_dist" or max(x1.shape[-2], x2.shape[-2]) > 25)
    return Cdist.apply(a, b, p=float(p), mm=mm)


def _norm_order(op: str, p: Any) -> float:
    """``p`` as PyTorch's parser reads a float (a bool or 0-d tensor is its value; else TypeError),
    then its RuntimeError for a negative or NaN order."""
    p = number_arg(op, "p", p)
    if not p >= 0:
        raise ArgumentError(f"{op}: expected p to be a non-negative number, got {p!r} (PyTorch: {op} only "
                            "supports non-negative p values)")  # fmt: skip
    return float(p)


def pdist(input: Tensor, p: float = 2.0) -> Tensor:
    """The p-norm distances between every pair of rows ``i < j`` of ``input``, in row-major order
    of the pairs (``cdist(input, input)``'s strict upper triangle, with its gradients).

    Shape:
        ``(N, M) -> (N * (N - 1) / 2,)``.
    """
    if not isinstance(input, Tensor) or input.ndim != 2:
        got = f"shape {tuple(input.shape)}" if isinstance(input, Tensor) else type(input).__name__
        raise ShapeError(f"pdist: expected a 2-D input (N, M), got {got}")
    if input._data.dtype.kind != "f":
        raise DTypeError(f"pdist: expected a floating point input, got {input.dtype}")
    p = _norm_order("pdist", p)
    n = input.shape[0]
    # every pair's difference, never the matrix-product form (PyTorch's _pdist_forward takes the
    # pairs' differences too): all N x N of them, then the strict upper triangle's flat positions.
    # Twice the pairs, but no gather of 2K rows in forward nor their sorted scatter-add in backward
    # (5 times the time); each pair's norm is the same reduction, so the values are the same bits.
    rows, cols = np.triu_indices(n, 1)
    square = Cdist.apply(input.unsqueeze(0), input.unsqueeze(0), p=float(p))  # (1, N, N)
    return square.reshape(n * n)[Tensor(rows * n + cols, _wrap=True)]
