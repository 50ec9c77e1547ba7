"""The regularized lower incomplete gamma function P(a, x) (``torch.special.gammainc``'s value),
for ``Gamma.cdf``, with its gradient in x.

P(a, x) = γ(a, x) / Γ(a) is summed on float64 arrays by its power series where x < a + 1 and
from the continued fraction of Q = 1 − P elsewhere (modified Lentz), both vectorised over the
elements with a loop over terms only, each stopping once every element has converged; Q for
a <= 0.2 below a + 1 comes from its own series (1 − P would cancel). Good to about 1e-13
relative for a up to 1e3 (PyTorch's own is off by up to 2e-9 there); beyond, the prefactor
x^a e^−x / Γ(a) carries a rounding of about a ε log a (1e-10 at a = 1e6, 1e-8 at 1e7).
PyTorch has no gradient in a either (its backward refuses it), so neither has this: asking for
one raises NotImplementedError naming the op."""

from __future__ import annotations

from typing import Any

from glassgrad.autograd.function import Primitive
from glassgrad.backend import array_module, quietly
from glassgrad.ops.special_series import lgamma_array, zeta_array

__all__ = ["Gammainc", "gammainc_array", "gammainc", "gammaincc"]

_EPS = 1e-16
_ULP = 2.0**-52  # float64's spacing at 1: |delta − 1| within it has converged


def _max_terms(xp, a):
    # both expansions need O(√a) terms where x is near a; the cap only guards against a NaN loop
    return 5000 + int(50 * float(xp.sqrt(xp.max(a)))) if a.size else 0


def _log_prefactor(xp, a, x):
    """log(x^a e^−x / Γ(a))."""
    return a * xp.log(x) - x - lgamma_array(a)


def _series(xp, a, x):
    """P by its series: x^a e^−x / Γ(a + 1) · Σ_n x^n / ((a + 1) ··· (a + n))."""
    term = xp.ones_like(x)
    total = xp.ones_like(x)
    denom = a.copy()
    for _ in range(_max_terms(xp, a)):
        denom = denom + 1
        term = term * x / denom
        total = total + term
        if not xp.any(xp.abs(term) > _EPS * xp.abs(total)):
            break
    return xp.exp(_log_prefactor(xp, a, x)) * total / a


_ZETAS: list = []  # ζ(2) ... ζ(30), made on first use


def _lgamma1p_small(xp, a):
    """log Γ(1 + a) for 0 < a <= 0.2 by its Taylor series −γ a + Σ_k≥2 (−1)^k ζ(k) a^k / k:
    lgamma at 1 + a would lose the digits of a that rounding 1 + a drops."""
    if not _ZETAS:
        _ZETAS.extend(float(zeta_array(k, xp.ones(1))[0]) for k in range(2, 31))
    total = xp.zeros_like(a)
    power = -a  # (−a)^(k−1): the sign of (−1)^k a^k after the next product
    for k, z in enumerate(_ZETAS, 2):  # 0.2^30 / 30 is below float64's resolution of the sum
        power = power * -a
        total = total + z * power / k
    return total - 0.5772156649015329 * a  # Euler's γ


def _upper_series(xp, a, x):
    """Q for a <= 0.2 and x < a + 1, where P is near 1 and 1 − P would cancel (Cephes' ``igamc``
    series): Q = −expm1(a log x − log Γ(1 + a)) − x^a a / Γ(1 + a) Σ_n≥1 (−x)^n / (n! (a + n))."""
    fac = xp.ones_like(x)
    total = xp.zeros_like(x)
    for n in range(1, 200):  # x < 1.2: the terms x^n / n! fall below ε after about 25
        fac = fac * (-x / n)
        term = fac / (a + n)
        total = total + term
        if not xp.any(xp.abs(term) > _EPS * xp.abs(total)):
            break
    log_lead = a * xp.log(x) - _lgamma1p_small(xp, a)
    return -xp.expm1(log_lead) - xp.exp(log_lead) * a * total


def _continued_fraction(xp, a, x):
    """Q by the continued fraction 1 / (x + 1 − a − 1(1 − a) / (x + 3 − a − 2(2 − a) / ...))."""
    tiny = 1e-300
    b = x + 1 - a
    c = xp.full_like(x, 1 / tiny)
    d = 1 / b
    h = d
    done = xp.zeros(x.shape, dtype=bool)
    for i in range(1, _max_terms(xp, a)):
        an = -i * (i - a)
        b = b + 2
        d = an * d + b
        d = xp.where(xp.abs(d) < tiny, tiny, d)
        c = b + an / c
        c = xp.where(xp.abs(c) < tiny, tiny, c)
        d = 1 / d
        delta = d * c
        # a converged element is frozen: its later deltas are 1 give or take an ulp, and a few
        # thousand of them (while a slower element converges) drift h by 1e-13
        h = xp.where(done, h, h * delta)
        done |= xp.abs(delta - 1) <= _ULP
        if done.all():
            break
    return xp.exp(_log_prefactor(xp, a, x)) * h


def gammainc_array(a, x, upper=False):
    """P(a, x) (Q(a, x) = 1 − P when ``upper``) on float64 arrays (broadcast), with PyTorch's edges:
    P = 0 at x = 0 (a > 0), 1 at x = ∞, 1 at a = 0 for x > 0, NaN at a = x = 0 and for a < 0, x < 0 or
    NaN. Q is taken from the branch that gives it directly, not as 1 − P (no cancellation): the
    continued fraction, or for a <= 0.2 below a + 1 the series of Q itself."""
    xp = array_module(a, x)
    a, x = xp.broadcast_arrays(xp.asarray(a, dtype=xp.float64), xp.asarray(x, dtype=xp.float64))
    ok = (a > 0) & (x > 0) & xp.isfinite(x) & xp.isfinite(a)
    use_series = ok & (x < a + 1)
    use_cf = ok & ~use_series
    out = xp.full(a.shape, xp.nan)
    small_a = use_series & (a <= 0.2)
    if upper and xp.any(small_a):
        out[small_a] = _upper_series(xp, a[small_a], x[small_a])
        use_series = use_series & ~small_a
    if xp.any(use_series):
        p = _series(xp, a[use_series], x[use_series])
        out[use_series] = 1 - p if upper else p
    if xp.any(use_cf):
        q = _continued_fraction(xp, a[use_cf], x[use_cf])
        out[use_cf] = q if upper else 1 - q
    lo, hi = (1.0, 0.0) if upper else (0.0, 1.0)  # P's value 0 is Q's 1, and the other way round
    out = xp.where((x == 0) & (a > 0), lo, out)
    out = xp.where((a == 0) & (x > 0), hi, out)
    out = xp.where((x == xp.inf) & (a >= 0) & (a < xp.inf), hi, out)  # (inf, inf): NaN, as PyTorch
    return xp.where((a == xp.inf) & (x >= 0) & (x < xp.inf), lo, out)


class Gammainc(Primitive):
    """z = P(a, x) (Q(a, x) = 1 − P when ``upper``), in float64, rounded to the operands' dtype.
    VJP: refused for a, as PyTorch's; ±g x^(a−1) e^−x / Γ(a) for x (minus for Q)."""

    @staticmethod
    def forward(ctx, a, x, upper=False):
        ctx.save_for_backward(a, x)
        ctx.attrs["node_name"] = "IgammacBackward0" if upper else "IgammaBackward0"  # PyTorch's
        xp = array_module(a, x)
        return quietly(gammainc_array, a, x, upper).astype(xp.result_type(a, x), copy=False)

    @staticmethod
    def backward(ctx, g):
        a, x = ctx.saved
        need = ctx.needs_input_grad
        if need[0]:
            raise NotImplementedError(
                f"{'gammaincc' if ctx.attrs.get('upper') else 'gammainc'}: the derivative with respect to a "
                "(the first operand) is not implemented "
                "(PyTorch has none either); detach a"
            )
        xp = array_module(a, x)
        a64, x64 = a.astype(xp.float64), x.astype(xp.float64)
        dens = quietly(lambda: xp.exp((a64 - 1) * xp.log(x64) - x64 - lgamma_array(a64)))
        dens = -dens if ctx.attrs.get("upper") else dens
        return None, (g * dens).astype(g.dtype, copy=False)


def gammainc(input: Any, other: Any, *, out: Any = None) -> Any:  # noqa: A002 - PyTorch's names
    """The regularized lower incomplete gamma function P(input, other) (``torch.special.gammainc``,
    ``torch.igamma``); differentiable in ``other`` only, as PyTorch's.

    Shape:
        input and other broadcast; the result has the broadcast shape.
    """
    return _igamma("gammainc", input, other, out, upper=False)


def gammaincc(input: Any, other: Any, *, out: Any = None) -> Any:  # noqa: A002
    """The regularized upper incomplete gamma function Q = 1 − P (``torch.special.gammaincc``,
    ``torch.igammac``), computed directly where P is near 1.

    Shape:
        input and other broadcast; the result has the broadcast shape.
    """
    return _igamma("gammaincc", input, other, out, upper=True)


def _igamma(op: str, a: Any, x: Any, out: Any, upper: bool) -> Any:
    from glassgrad.errors import KernelDTypeError
    from glassgrad.ops.composite import with_out
    from glassgrad.ops.elementwise import promote
    from glassgrad.tensor import Tensor

    if not (isinstance(a, Tensor) and isinstance(x, Tensor)):
        raise TypeError(f"{op}(): expected Tensors, got {type(a).__name__} and {type(x).__name__}")
    a, x = promote(a, x) if a._data.dtype != x._data.dtype else (a, x)
    if a._data.dtype.kind != "f":  # PyTorch: "igamma_cpu" not implemented for 'Long'
        raise KernelDTypeError(
            f"{op}: expected floating-point operands, got {a.dtype} (shapes {a.shape}, {x.shape})"
        )
    return with_out(Gammainc.apply(a, x, upper=upper), out, op)
