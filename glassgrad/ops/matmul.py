"""Products: ``matmul`` (every ``torch.matmul`` case) and ``einsum`` (with its gradient built
from the equation), plus ``outer``.

matmul's batch dims broadcast; backward returns gradients of the broadcast shape and the engine's
``unbroadcast`` sums them back to each operand's shape.
"""

from __future__ import annotations

import functools
import math
import numbers
import string
from collections import Counter
from typing import Any

from glassgrad import dtypes
from glassgrad.autograd.function import Primitive as Function
from glassgrad.autograd.shapes import broadcast_shape
from glassgrad.backend import array_module
from glassgrad.errors import DTypeError, ShapeError, kernel_dtype_error
from glassgrad.operand_errors import refuse_sequence
from glassgrad.ops.half_precision import HALF, matmul_half
from glassgrad.ops.node_names import matmul_name
from glassgrad.tensor import Tensor, as_array
from glassgrad.type_promotion import promote_np

__all__ = ["matmul", "matmul_as", "einsum", "outer"]


def _mm(a: Any, b: Any) -> Any:
    """a @ b; a stack of matrices times one matrix runs as a single 2-D product (one BLAS call)."""
    if a.dtype is HALF:  # float16: multiplied in float32 (ops/half_precision.py)
        return matmul_half(a, b)
    if b.ndim == 2 and a.ndim > 2:
        out = a.reshape(math.prod(a.shape[:-1]), a.shape[-1]) @ b  # (..., n, k) -> (... * n, k)
        return out.reshape(a.shape[:-1] + (b.shape[-1],))  # (... * n, m) -> (..., n, m)
    if a.ndim > 2 or b.ndim > 2:
        # NumPy lays a batched product out in its operands' batch order (a permuted batch gives
        # a permuted result); PyTorch's bmm answers contiguous, which programs then .view()
        return array_module(a, b).matmul(a, b, order="C")
    return a @ b


class MatMul(Function):
    """z = a @ b: (..., n, k) @ (..., k, m) -> (..., n, m), batch dims broadcast; a 1-D a is a row
    (k,) -> (1, k) and a 1-D b a column (k,) -> (k, 1), the added dim removed from z.

    VJP: ga = g @ b^T, gb = a^T @ g (^T swaps the last two dims), in the broadcast batch shape.
    """

    node_name_by = staticmethod(matmul_name)  # MmBackward0, MvBackward0 ... as PyTorch's

    @staticmethod
    def forward(ctx, a, b):
        need = ctx.needs_input_grad
        # what PyTorch saves: a only for b's gradient, b only for a's (so a step that changes a
        # weight in place does not stale a graph that never needed it: x @ W with x a constant)
        ctx.save_for_backward(a if need[1] else None, b if need[0] else None)
        ctx.attrs["ndims"] = (a.ndim, b.ndim)  # for its node's name (node_name_by)
        return array_module(a).asarray(_mm(a, b))  # vector @ vector gives a NumPy scalar

    @staticmethod
    def backward(ctx, g):
        a, b = ctx.saved
        need = ctx.needs_input_grad
        a_nd = len(ctx.shapes[0]) if need[0] else a.ndim  # an input not saved wants a gradient
        b_nd = len(ctx.shapes[1]) if need[1] else b.ndim
        if a_nd == 1 and b_nd == 1:  # dot product: g is 0-d
            return (g * b if need[0] else None), (g * a if need[1] else None)
        if a_nd == 1:
            g = g[..., None, :]  # (..., m) -> (..., 1, m)
        if b_nd == 1:
            g = g[..., None]  # (..., n) -> (..., n, 1)
        ga = gb = None
        if need[0]:
            b2 = b[:, None] if b_nd == 1 else b  # (k,) -> (k, 1)
            ga = _mm(g, b2.swapaxes(-1, -2))  # (..., n, k)
            if a_nd == 1:
                ga = ga[..., 0, :]  # (..., 1, k) -> (..., k)
        if need[1]:
            a2 = a[None, :] if a_nd == 1 else a  # (k,) -> (1, k)
            if b_nd <= 2:
                # b has no batch dims, so sum over a's batch in the product itself
                rows = math.prod(g.shape[:-1])
                # (k, ...n) @ (...n, m)
                gb = _mm(a2.reshape(rows, a2.shape[-1]).T, g.reshape(rows, g.shape[-1]))
            else:
                gb = a2.swapaxes(-1, -2) @ g if g.dtype is not HALF else matmul_half(a2.swapaxes(-1, -2), g)
            if b_nd == 1:
                gb = gb[..., 0]  # (..., k, 1) -> (..., k)
        return ga, gb


def _operand(x: Any, op: str = "matmul", arg: str = "other") -> Tensor:
    refuse_sequence(op, arg, x)
    return x if isinstance(x, Tensor) else Tensor(as_array(x), _wrap=True)


def _same_dtype(op: str, ts: list[Tensor]) -> None:
    dts = [t._data.dtype for t in ts]
    if any(d != dts[0] for d in dts):
        raise DTypeError(f"{op}: expected operands of one dtype, got {' and '.join(str(d) for d in dts)}")
    # complex: its twin conjugates in backward (ops/complex_twins.py); bool: let through by
    # _einsum_dtypes where PyTorch has a kernel
    if dts[0].kind not in "fiucb":
        raise DTypeError(f"{op}: expected floating, complex, integer or bool operands, got {dts[0]}")


def matmul(a: Any, b: Any) -> Tensor:
    """Matrix product with ``torch.matmul``'s rules (dot, matrix-vector, batched, broadcast).

    Shape:
        ``(..., n, k) @ (..., k, m) -> (..., n, m)``; ``(k,) @ (k,) -> ()``;
        ``(k,) @ (..., k, m) -> (..., m)``; ``(..., n, k) @ (k,) -> (..., n)``.

    >>> import glassgrad as gg
    >>> (gg.ones(5, 2, 3) @ gg.ones(3, 4)).shape
    glassgrad.Size([5, 2, 4])
    """
    a, b = _operand(a, "matmul", "input"), _operand(b)
    # plain tensors answer at the class test: is_sparse is a property, as PyTorch's (a hot path)
    if (a.__class__ is not Tensor and getattr(a, "is_sparse", False)) or (
        b.__class__ is not Tensor and getattr(b, "is_sparse", False)
    ):
        from glassgrad.sparse_tensor import sparse_matmul  # a COO operand: product from its nonzeros

        return sparse_matmul(a, b)
    da, db = a._data, b._data  # checks on the raw arrays: this is a hot path
    if da.dtype != db.dtype:
        raise DTypeError(f"matmul: expected both operands of one dtype, got {da.dtype} and {db.dtype}")
    if da.dtype.kind not in "fiuc":  # complex: its twin conjugates in backward (ops/complex_twins.py)
        raise _no_kernel(da, db)
    if da.ndim == 0 or db.ndim == 0:
        raise ShapeError(f"matmul: expected operands with at least 1 dim, got {da.shape} @ {db.shape}")
    ok = da.shape[-1] == (db.shape[-2] if db.ndim > 1 else db.shape[0])
    if ok and da.ndim > 2 and db.ndim > 2:
        try:
            broadcast_shape(da.shape[:-2], db.shape[:-2])
        except ShapeError:
            ok = False
    if not ok:
        raise ShapeError(f"matmul: expected (..., n, k) @ (..., k, m), got {da.shape} @ {db.shape}")
    return MatMul.apply(a, b)


def _no_kernel(da: Any, db: Any) -> DTypeError:
    """PyTorch has no bool product: the ``NotImplementedError`` of the kernel its matmul picks
    for these ranks ('"addmm_impl_cpu_" not implemented for 'Bool''), a ``DTypeError`` too."""
    if da.ndim == db.ndim == 1:
        kernel = "dot"
    elif db.ndim == 1:
        kernel = "addmv_impl_cpu"
    else:
        kernel = "bmm" if da.ndim > 2 and db.ndim > 2 else "addmm_impl_cpu_"
    return kernel_dtype_error("matmul", kernel, da.dtype)


def matmul_as(op: str, a: Any, b: Any) -> Tensor:
    """``matmul(a, b)`` for the op ``op`` (mm, bmm, mv, dot ...): its errors name ``op`` (caught
    and renamed, so that ``matmul``'s own path, a hot one, pays nothing for it)."""
    try:
        return matmul(a, b)
    except (DTypeError, ShapeError, TypeError) as e:
        msg = str(e)
        if not msg.startswith("matmul"):
            raise
        raise type(e)(op + msg[len("matmul") :]) from None


# ------------------------------------------------------------------ einsum
def _contract(subs: tuple[str, ...], out: str, arrays: tuple) -> Any:
    xp = array_module(*arrays)
    z = xp.einsum(",".join(subs) + "->" + out, *arrays, optimize=len(arrays) > 1)
    # NumPy's optimised path can hand back a transposed view of its BLAS result; PyTorch's product
    # of several operands is a fresh tensor, contiguous in the common cases (attention's
    # 'bhid,bhjd->bhij'), which programs then .view() (reformer's dots.view_as(...)). One
    # operand stays as NumPy gives it where nothing is summed: a pure permutation or diagonal is a
    # view in PyTorch too, but its sum is a fresh contiguous tensor ("ijk->ki" of PyTorch .view()s,
    # NumPy's was a transposed view). (0-d results skip it: ascontiguousarray would make them 1-d.)
    z = xp.asarray(z)
    return xp.ascontiguousarray(z) if z.ndim and (len(arrays) > 1 or len(out) < len(subs[0])) else z


class Einsum(Function):
    """z = einsum(s_1, ..., s_n -> out)(x_1, ..., x_n): sum over the indices not in ``out`` of the
    product of the operands.

    VJP for x_i: the same sum of products with x_i's place taken by g:
    einsum(out, s_j for j != i -> s_i)(g, x_j ...). Indices that only x_i has (summed away in
    forward) are absent from that product; g is constant along them, so it is broadcast there.
    """

    @staticmethod
    def forward(ctx, *arrays, subs=(), out=""):
        ctx.save_for_backward(*arrays)
        return _contract(subs, out, arrays)

    @staticmethod
    def backward(ctx, g):
        arrays, subs, out = ctx.saved, ctx.attrs["subs"], ctx.attrs["out"]
        xp = array_module(g)
        grads = []
        for i, (sub, x) in enumerate(zip(subs, arrays)):
            if not ctx.needs_input_grad[i]:
                grads.append(None)
                continue
            others = [j for j in range(len(subs)) if j != i]
            have = set(out).union(*(subs[j] for j in others))
            keep = "".join(c for c in sub if c in have)
            gi = _contract((out, *(subs[j] for j in others)), keep, (g, *(arrays[j] for j in others)))
            # g is constant along indices that only x_i has (absent from gi) or that are size 1
            # in gi but not in x_i (broadcast in forward): spread it over x_i's extent there.
            sizes = dict(zip(keep, gi.shape))
            gi = gi.reshape([sizes.get(c, 1) for c in sub])  # (keep...) -> (sub...)
            target = tuple(n if sizes.get(c, 1) == 1 else sizes[c] for c, n in zip(sub, x.shape))
            if gi.shape != target:
                gi = xp.broadcast_to(gi, target)
            grads.append(gi)
        return tuple(grads)


@functools.lru_cache(maxsize=512)
def _parse(equation: str, shapes: tuple[tuple, ...]) -> tuple[tuple[str, ...], str]:
    """Per-operand index strings and the output's, with '...' replaced by spare letters (the
    ellipsis dims right-aligned across operands, as broadcasting aligns them)."""
    # spaces go, except where a '.' stands outside '...': '. ..' is then refused below, not read as one
    eq = equation.replace(" ", "") if "." not in equation.replace("...", "") else equation
    lhs, arrow, rhs = eq.partition("->")
    ins = lhs.split(",")
    if len(ins) != len(shapes):
        raise ShapeError(f"einsum: expected {len(ins)} operands for {equation!r}, got {len(shapes)}")
    for part in [*ins, rhs]:
        letters = part.replace("...", "", 1)
        if not all(c in string.ascii_letters for c in letters):
            raise ShapeError(
                f"einsum: expected letters, ',', '->' and at most one '...' per term, got {equation!r}"
            )
    spare = [c for c in string.ascii_letters if c not in eq]
    n_ell = max((len(s) - len(sub) + 3 for sub, s in zip(ins, shapes) if "..." in sub), default=0)
    ell = "".join(spare[: max(n_ell, 0)])
    subs = []
    for i, (sub, shape) in enumerate(zip(ins, shapes)):
        if "..." in sub:
            k = len(shape) - len(sub) + 3
            sub = sub.replace("...", ell[len(ell) - k :] if k > 0 else "")
        if len(sub) != len(shape):
            raise ShapeError(f"einsum: operand {i} has shape {shape}, but {ins[i]!r} names {len(sub)} dims")
        subs.append(sub)
    if arrow:
        out = rhs.replace("...", ell)  # no '...' on the left: it covers no dims ("ij->..." sums all)
        if len(set(out)) != len(out) or not set(out) <= set("".join(subs)):
            raise ShapeError(
                f"einsum: expected output indices that appear once and in some operand, got {equation!r}"
            )
    else:
        counts = Counter("".join(s.replace("...", "") for s in ins))
        out = ell + "".join(sorted(c for c, n in counts.items() if n == 1))
    sizes: dict[str, tuple[int, int]] = {}
    for i, (sub, shape) in enumerate(zip(subs, shapes)):
        for c, n in zip(sub, shape):
            if n != 1:
                if c in sizes and sizes[c][0] != n:
                    j = sizes[c][1]
                    raise ShapeError(
                        f"einsum: expected index {c!r} to have one size, got {sizes[c][0]} in operand {j} "
                        f"{shapes[j]} and {n} in operand {i} {shape} for {equation!r}"
                    )
                sizes[c] = (n, i)
    return tuple(subs), out


def einsum(equation: str, *operands: Any) -> Tensor:
    """Einstein summation, e.g. ``einsum("bhqd,bhkd->bhqk", q, k)`` or ``einsum("ij,jk", a, b)``.

    Supports explicit and implicit outputs, '...' (broadcast batch dims) and an index repeated
    within one operand (its diagonal: ``einsum("bii->b", m)`` is the batched trace).

    Shape:
        Each operand has one dim per index letter; the output has one per output letter.

    >>> import glassgrad as gg
    >>> from glassgrad.ops.matmul import einsum
    >>> einsum("ij,jk->ik", gg.ones(2, 3), gg.ones(3, 4)).shape
    glassgrad.Size([2, 4])
    """
    if not isinstance(equation, str):  # the sublist form: einsum(a, [0, 1], b, [1, 2], [0, 2])
        equation, operands = _sublist_equation((equation, *operands))
    if len(operands) == 1 and isinstance(operands[0], list | tuple):
        operands = tuple(operands[0])
    ts = [_operand(x, "einsum", "operands") for x in operands]
    if not ts:
        raise ShapeError(f"einsum: expected at least one operand for {equation!r}, got none")
    subs, out = _parse(equation, tuple(t.shape for t in ts))
    ts, subs = map(list, zip(*(_diagonals(t, sub) for t, sub in zip(ts, subs))))
    ts = _einsum_dtypes(ts, subs, out)
    _same_dtype("einsum", ts)
    return Einsum.apply(*ts, subs=subs, out=out)


def _sublist_equation(args: tuple) -> tuple[str, tuple]:
    """``(op, sublist, op, sublist, ..., [out sublist])`` as an equation and its operands; the
    indices are ints in ``[0, 52)`` (A-Z, a-z: PyTorch's order, which an implicit output keeps) or ``...``."""
    letters = string.ascii_uppercase + string.ascii_lowercase

    def word(sub: Any) -> str:
        if not isinstance(sub, list | tuple):
            raise DTypeError(f"einsum: expected a sublist of ints or ... after each operand, got {sub!r}")
        out = []
        for k in sub:
            if k is Ellipsis:
                out.append("...")
            elif isinstance(k, numbers.Integral) and not isinstance(k, bool) and 0 <= k < 52:
                out.append(letters[k])
            else:
                raise ValueError(f"einsum: expected sublist indices in [0, 52) or ..., got {k!r} in {sub!r}")
        return "".join(out)

    out = ""
    if len(args) % 2:  # a last, unpaired sublist names the output
        out, args = "->" + word(args[-1]), args[:-1]
    return ",".join(word(s) for s in args[1::2]) + out, args[0::2]


def _diagonals(t: Tensor, sub: str) -> tuple[Tensor, str]:
    """An operand whose index repeats (``"bii"``) as its diagonal over those dims, the index then
    once, last (where ``diagonal`` puts it); ``diagonal`` is a view, so gradients flow back."""
    while len(set(sub)) != len(sub):
        c = next(c for c in sub if sub.count(c) > 1)
        i = sub.index(c)
        j = sub.index(c, i + 1)
        if t.shape[i] != t.shape[j]:
            raise ShapeError(
                f"einsum: index {c!r} repeated in one operand must have one size, got {t.shape[i]} "
                f"and {t.shape[j]} in shape {tuple(t.shape)}"
            )
        t, sub = t.diagonal(0, i, j), sub[:i] + sub[i + 1 : j] + sub[j + 1 :] + c
    return t, sub


def _narrow(dt: Any) -> bool:
    """Bool and integer dtypes narrower than int64: PyTorch's ``sum`` of them is int64."""
    return dt.kind == "b" or (dt.kind in "iu" and dt.itemsize < 8)


def _einsum_dtypes(ts: list[Tensor], subs: tuple, out: str) -> list[Tensor]:
    """The operands cast to the dtype of PyTorch's result, or its error.

    PyTorch pairs the operands left to right (``at::einsum``). An index to sum is summed when the
    last operand where its size is not 1 comes in: within that operand alone (and within the first
    one, for those whose last such operand it is) by ``sum``, which makes a bool or narrow integer
    operand int64 (``einsum("ij->i", mask)`` counts; NumPy's sum kept the dtype, a bool one a
    logical or); where the running result has it too, by a bmm, which needs one dtype ("expected
    scalar type Double but found Float") and has no bool kernel. A pair with no bmm is a broadcast
    multiply, which promotes (mamba's ``"bdl,dn->bdln"`` of float64 and float32 is float64). The
    cast is recorded, so each operand's gradient comes back in its own dtype."""
    dts = [t._data.dtype for t in ts]
    if all(d == dts[0] for d in dts) and not _narrow(dts[0]):  # the common case
        return ts
    bigs = [{c for c, n in zip(sub, t.shape) if n != 1} for sub, t in zip(subs, ts)]
    last = {c: k for k, big in enumerate(bigs) for c in big}
    summed = set("".join(subs)) - set(out)
    int64 = dtypes.int64.np

    def summed_dt(d: Any) -> Any:
        return int64 if _narrow(d) else d

    # a single operand is summed over every index to sum, those of size 1 too
    first = set(subs[0]) if len(ts) == 1 else bigs[0]
    own = {c for c in first & summed if last.get(c, 0) == 0}
    cur_dt, cur = (summed_dt(dts[0]) if own else dts[0]), bigs[0] - own
    for k in range(1, len(ts)):
        here = {c for c in bigs[k] & summed if last[c] == k}
        dt = summed_dt(dts[k]) if here - cur else dts[k]
        if here & cur:  # a bmm
            if dt != cur_dt:
                raise DTypeError(
                    f"einsum: expected scalar type {cur_dt} but found {dt} (operand {k} is summed "
                    f"over {''.join(sorted(here & cur))!r} with the operands before it, which needs "
                    "one dtype, as in PyTorch; cast them first)"
                )
            if dt.kind == "b":
                raise kernel_dtype_error("einsum", "bmm", dt)
        else:
            cur_dt = promote_np(cur_dt, dt, "einsum")
        cur = (cur | bigs[k]) - here
    return [t if t._data.dtype == cur_dt else t.to(dtypes.from_np_dtype(cur_dt)) for t in ts]


def outer(a: Any, b: Any) -> Tensor:
    """Outer product of two vectors: ``out[i, j] = a[i] * b[j]``.

    Shape:
        ``(n,), (m,) -> (n, m)``.
    """
    a, b = _operand(a, "outer", "input"), _operand(b, "outer", "vec2")
    if a.ndim != 1 or b.ndim != 1:
        raise ShapeError(f"outer: expected two 1-D tensors, got {a.shape} and {b.shape}")
    return a.reshape(-1, 1) * b  # (n, 1) * (m,): the product's promotion (int and float mix)
