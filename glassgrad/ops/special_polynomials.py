"""``torch.special``'s orthogonal polynomials of degree ``n``: Chebyshev T, U, V, W (and their
shifted forms on [0, 1]), Hermite H (physicists') and He (probabilists'), Laguerre L and Legendre P.

Each follows PyTorch 2.13's CPU kernel (``ATen/native/Math.h``) step for step, so that the values
agree to the rounding: ``n`` is cast to the common float dtype and truncated to an integer (a NaN,
infinite or out-of-range ``n`` counts as negative), a negative degree gives 0, the ends x = +-1 (0
and 1 for the shifted forms) give their closed values, a high degree inside (-1, 1) is
``cos(n acos x)`` (or its U/V/W relative) for Chebyshev, and otherwise the three-term recurrence
runs up to ``n``. The recurrence is vectorised: every element steps together, an element stops at
its own degree, or once it is NaN (past an overflow it can only stay NaN).

As PyTorch, the result records no gradient: PyTorch's kernels have no derivative, and its output
never requires grad (MACE's Chebyshev radial features thus pass no gradient to the positions in either).
Integer and bool operands compute in the default float dtype; float16 and complex are refused, as
PyTorch's CPU kernels refuse them.
"""

from __future__ import annotations

from typing import Any, Callable

from glassgrad.backend import array_module
from glassgrad.errors import KernelDTypeError
from glassgrad.meta_array import MetaArray, meta_array
from glassgrad.ops.math_more import _broadcastable, _promoted_operands
from glassgrad.tensor import Tensor

__all__ = [
    "chebyshev_polynomial_t", "chebyshev_polynomial_u", "chebyshev_polynomial_v", "chebyshev_polynomial_w",
    "shifted_chebyshev_polynomial_t", "shifted_chebyshev_polynomial_u", "shifted_chebyshev_polynomial_v",
    "shifted_chebyshev_polynomial_w", "hermite_polynomial_h", "hermite_polynomial_he",
    "laguerre_polynomial_l", "legendre_polynomial_p",
]  # fmt: skip


def _degree(xp, n):
    """PyTorch's ``static_cast<int64_t>(n)``: truncation; NaN, inf and values past int64 become
    int64's minimum on x86 (so a degree of 0 results)."""
    if n.dtype.kind in "iu":
        return n.astype(xp.int64)
    inside = xp.isfinite(n) & (xp.abs(n) < 9.2e18)
    return xp.where(inside, xp.trunc(xp.where(inside, n, 0)), -1).astype(xp.int64)


def _recurrence(xp, need, n, p, q, step: Callable, first: int):
    """Run ``r = step(q, p, k)`` for k = ``first``.. while k <= ``n`` (each element's last index),
    on the elements ``need`` marks (the others take a closed form: no steps for them, whatever
    their degree). Returns q, the value after each element's last step."""
    k = first
    while True:
        active = need & (k <= n) & ~xp.isnan(q)
        if not active.any():
            return q
        r = step(q, p, k)
        p, q = xp.where(active, q, p), xp.where(active, r, q)
        k += 1


def _chebyshev_core(xp, x, n, kind: str, shifted: bool):
    one = x.dtype.type(1)
    t = (x + x - one) if shifted else x  # the shifted forms evaluate at 2x - 1, as x + x - 1
    two_t = (t + t) if shifted else (x + x)
    if kind == "t":
        q1 = t
    elif kind == "u":
        q1 = (t + t) if shifted else (x + x)
    elif kind == "v":
        q1 = (t + t - one) if shifted else (x + x - one)
    else:
        q1 = (t + t + one) if shifted else (x + x + one)
    # high degrees inside (-1, 1): the trigonometric forms; the ends: x = +-1 (shifted: 1 and 0)
    big = (
        n > {"t": 6, "u": 8, "v": 8, "w": 8}[kind]
        if not shifted
        else n > {"t": 6, "u": 6, "v": 6, "w": 4}[kind]
    )
    inside = xp.abs(t) < one
    upper = (x == one) if shifted else (t == one)
    lower = (x == 0) if shifted else (t == -one)
    need = ~(big & inside) & ~upper & ~lower
    value = _recurrence(xp, need, n, xp.ones_like(x), q1, lambda q, p, k: two_t * q - p, 2)
    value = xp.where(n == 1, q1, value)
    value = xp.where(n == 0, one, value)
    with xp.errstate(all="ignore"):
        theta = xp.arccos(xp.where(inside, t, 0))
        nf = n.astype(x.dtype)
        odd = (n % 2) != 0
        if kind == "t":
            trig = xp.cos(nf * theta)
        elif kind == "u":
            s = xp.sin(theta)
            trig = xp.where(
                s != 0, xp.sin((nf + one) * theta) / s, (nf + one) * xp.cos((nf + one) * theta) / t
            )
        elif kind == "v":
            trig = xp.where(
                xp.sin(theta / 2) != one,
                xp.cos((nf + x.dtype.type(0.5)) * theta) / xp.cos(theta / 2),
                xp.where(odd, -(nf + nf + one), nf + nf + one),
            )
        else:
            pos = xp.where(t > 0, nf + nf + one, xp.where(odd, -one, one))
            trig = xp.where(
                xp.cos(theta / 2) != one, xp.sin((nf + x.dtype.type(0.5)) * theta) / xp.sin(theta / 2), pos
            )
    value = xp.where(big & inside, trig, value)
    ends = {
        "t": (one, xp.where(odd, -one, one)),
        "u": (nf + one, xp.where(odd, -(nf + one), nf + one)),
        "v": (one, xp.where(odd, -(nf + nf + one), nf + nf + one)),
        "w": (nf + nf + one, xp.where(odd, -one, one)),
    }[kind]
    value = xp.where(upper, ends[0], xp.where(lower, ends[1], value))
    return value


def _hermite_h(xp, x, n):
    one = x.dtype.type(1)
    two_x = x + x
    # PyTorch's loop: for (k = 2; k < n + n; k += 2) r = 2x q - k p: (n - 1) steps, k = 2, 4, ...
    steps = n - 1
    value = _recurrence(
        xp,
        xp.ones_like(x, dtype=bool),
        steps,
        xp.ones_like(x),
        two_x,
        lambda q, p, k: two_x * q - x.dtype.type(2 * k) * p,
        1,
    )
    value = xp.where(n == 1, two_x, value)
    return xp.where(n == 0, one, value)


def _hermite_he(xp, x, n):
    one = x.dtype.type(1)
    everywhere = xp.ones_like(x, dtype=bool)
    value = _recurrence(
        xp, everywhere, n - 1, xp.ones_like(x), x, lambda q, p, k: x * q - x.dtype.type(k) * p, 1
    )
    value = xp.where(n == 1, x, value)
    return xp.where(n == 0, one, value)


def _laguerre_l(xp, x, n):
    one = x.dtype.type(1)
    q1 = one - x

    def step(q, p, k):
        kf = x.dtype.type(k)
        return ((kf + kf + (one - x)) * q - kf * p) / (kf + one)

    value = _recurrence(xp, x != 0, n - 1, xp.ones_like(x), q1, step, 1)
    value = xp.where(n == 1, q1, value)
    return xp.where((n == 0) | (x == 0), one, value)


def _legendre_p(xp, x, n):
    one = x.dtype.type(1)

    def step(q, p, k):
        kf = x.dtype.type(k)
        return ((kf + kf + one) * x * q - kf * p) / (kf + one)

    value = _recurrence(xp, xp.abs(x) != one, n - 1, xp.ones_like(x), x, step, 1)
    value = xp.where(n == 1, x, value)
    value = xp.where(n == 0, one, value)
    odd = (n % 2) != 0
    return xp.where(x == one, one, xp.where(x == -one, xp.where(odd, -one, one), value))


def _make(name: str, core: Callable, doc: str) -> Callable:
    def fn(x: Any, n: Any) -> Tensor:
        if not isinstance(x, Tensor) and not isinstance(n, Tensor):  # PyTorch's parser refuses it
            raise TypeError(f"{name}: expected a Tensor as x or n, got numbers {x!r} and {n!r}")
        if isinstance(x, Tensor) and isinstance(n, Tensor):
            _broadcastable(name, x._data, n._data)
        for v in (x, n):
            if isinstance(v, Tensor) and v._data.dtype.kind == "c":
                raise KernelDTypeError(  # a NotImplementedError too, as PyTorch's missing kernel
                    f"{name}: expected real tensors, got {v.dtype} (PyTorch has no complex kernel)"
                )
        xt, deg = _promoted_operands(x, n)
        xd = xt._data
        xp = array_module(xd)
        if xd.dtype.itemsize < 4:
            raise KernelDTypeError(  # a NotImplementedError too, as PyTorch's missing kernel
                f"{name}: expected a float32 or float64 operand, got {xt.dtype} (PyTorch has no kernel)"
            )
        if isinstance(xd, MetaArray) or isinstance(deg._data, MetaArray):  # shapes only
            return Tensor(meta_array(xp.broadcast_shapes(xd.shape, deg._data.shape), xd.dtype), _wrap=True)
        xd, nd = xp.broadcast_arrays(xd, deg._data)
        with xp.errstate(all="ignore"):
            out = core(xp, xp.array(xd), _degree(xp, nd))
        out = xp.where(_degree(xp, nd) < 0, xd.dtype.type(0), out)
        return Tensor(xp.asarray(out, dtype=xd.dtype), _wrap=True)

    fn.__name__ = fn.__qualname__ = name
    fn.__doc__ = doc + " PyTorch's kernel step for step; no gradient, as PyTorch (see the module docstring)."
    return fn


def _chebyshev(kind: str, shifted: bool) -> Callable:
    return lambda xp, x, n: _chebyshev_core(xp, x, n, kind, shifted)


chebyshev_polynomial_t = _make(
    "chebyshev_polynomial_t", _chebyshev("t", False), "T_n(x), Chebyshev's first kind."
)
chebyshev_polynomial_u = _make(
    "chebyshev_polynomial_u", _chebyshev("u", False), "U_n(x), Chebyshev's second kind."
)
chebyshev_polynomial_v = _make(
    "chebyshev_polynomial_v", _chebyshev("v", False), "V_n(x), Chebyshev's third kind."
)
chebyshev_polynomial_w = _make(
    "chebyshev_polynomial_w", _chebyshev("w", False), "W_n(x), Chebyshev's fourth kind."
)
shifted_chebyshev_polynomial_t = _make(
    "shifted_chebyshev_polynomial_t", _chebyshev("t", True), "T*_n(x) = T_n(2x - 1) on [0, 1]."
)
shifted_chebyshev_polynomial_u = _make(
    "shifted_chebyshev_polynomial_u", _chebyshev("u", True), "U*_n(x) = U_n(2x - 1) on [0, 1]."
)
shifted_chebyshev_polynomial_v = _make(
    "shifted_chebyshev_polynomial_v", _chebyshev("v", True), "V*_n(x) = V_n(2x - 1) on [0, 1]."
)
shifted_chebyshev_polynomial_w = _make(
    "shifted_chebyshev_polynomial_w", _chebyshev("w", True), "W*_n(x) = W_n(2x - 1) on [0, 1]."
)
hermite_polynomial_h = _make(
    "hermite_polynomial_h", _hermite_h, "H_n(x), the physicists' Hermite polynomial."
)
hermite_polynomial_he = _make(
    "hermite_polynomial_he", _hermite_he, "He_n(x), the probabilists' Hermite polynomial."
)
laguerre_polynomial_l = _make("laguerre_polynomial_l", _laguerre_l, "L_n(x), the Laguerre polynomial.")
legendre_polynomial_p = _make("legendre_polynomial_p", _legendre_p, "P_n(x), the Legendre polynomial.")
