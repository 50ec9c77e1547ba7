"""``torch.special.zeta``: the Hurwitz zeta function zeta(x, q) = sum_k (q + k)^-x, k = 0, 1, ...

Computed in float64 (and rounded to the operands' float dtype) as Cephes computes it, which is
PyTorch's kernel: the first terms summed directly until q + k > 9 (at least ten of them), then
the Euler-Maclaurin tail w^(1-x) / (x - 1) - w^-x / 2 + sum_j B_2j (x)_(2j-1) w^(-x-2j+1) / (2j)!
with w the first term left out. The domain as PyTorch's: inf at x = 1 and at q a non-positive
integer, NaN for x < 1 and for q < 0 with a non-integer x.

Gradient, as PyTorch's: d/dq zeta(x, q) = -x zeta(x + 1, q); none with respect to x (PyTorch's
is "not implemented": asking for it raises here too).
"""

from __future__ import annotations

from typing import Any

from glassgrad.autograd.function import Primitive as Function
from glassgrad.backend import array_module
from glassgrad.errors import DTypeError
from glassgrad.meta_array import MetaArray, meta_array
from glassgrad.ops.math_more import _broadcastable
from glassgrad.ops.operands import promoted_floats
from glassgrad.ops.special_series import _EPS, zeta_direct, zeta_tail
from glassgrad.tensor import Tensor

__all__ = ["Zeta", "hurwitz_zeta_array", "zeta"]


def hurwitz_zeta_array(x: Any, q: Any) -> Any:
    """zeta(x, q) of two float64 arrays of one shape (see the module docstring)."""
    xp = array_module(x)
    shape = x.shape
    x, q = x.reshape(-1), q.reshape(-1)
    out = xp.full(x.shape, xp.nan)
    # Cephes' checks in Cephes' order, each deciding before the next: x = 1 is inf whatever q (NaN
    # too), then x < 1 NaN, then q a non-positive integer inf whatever x (NaN too)
    pole = (x == 1) | (~(x < 1) & (q <= 0) & (q == xp.floor(q)))
    domain = ~pole & ((x < 1) | ((q <= 0) & (x != xp.floor(x))) | xp.isnan(x) | xp.isnan(q))
    ok = ~(pole | domain)
    xs, qs = x[ok], q[ok]
    with xp.errstate(all="ignore"):  # an infinite x or q: the terms are 0 or inf, as Cephes'
        total, w = zeta_direct(qs, xs)
        b = w**-xs
        # Cephes stops once a term is below the sum's last bit (x = inf: 1^-inf = 1 and no more)
        total = zeta_tail(total, w, xs, (-_EPS * total < b) & (b < _EPS * total))
    out[ok] = total
    out[pole] = xp.inf
    return out.reshape(shape)


class Zeta(Function):
    """z = zeta(x, q), the Hurwitz zeta function.   VJP: (not implemented, -g x zeta(x + 1, q))."""

    @staticmethod
    def forward(ctx, x, q):
        xp = array_module(x)
        x64, q64 = xp.broadcast_arrays(x.astype(xp.float64), q.astype(xp.float64))
        ctx.save_for_backward(x, q)
        return hurwitz_zeta_array(x64, q64).astype(x.dtype)

    @staticmethod
    def backward(ctx, g):
        x, q = ctx.saved
        if ctx.needs_input_grad[0]:
            raise NotImplementedError(
                "the derivative for 'zeta' with respect to its first argument (x) is not implemented"
            )
        xp = array_module(g)
        x64, q64 = xp.broadcast_arrays(x.astype(xp.float64), q.astype(xp.float64))
        slope = -x64 * hurwitz_zeta_array(x64 + 1, q64)
        return None, (g * slope).astype(g.dtype)


def zeta(input: Any, other: Any) -> Tensor:  # noqa: A002
    """The Hurwitz zeta function zeta(input, other) = sum_k (other + k)^-input, elementwise
    (broadcasting; integers compute in the default float dtype). Differentiable in ``other`` only,
    as PyTorch's."""
    for v in (input, other):
        if isinstance(v, Tensor) and v.dtype.is_complex:
            raise DTypeError(f"zeta: expected real operands, got {v.dtype}")
    x, q = promoted_floats(input, other)
    if isinstance(x._data, MetaArray) or isinstance(q._data, MetaArray):
        xp = array_module(x._data)
        return Tensor(meta_array(xp.broadcast_shapes(x.shape, q.shape), x._data.dtype), _wrap=True)
    _broadcastable("zeta", x._data, q._data)
    return Zeta.apply(x, q)
