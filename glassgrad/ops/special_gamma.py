"""``torch.special.gammainc``/``gammaincc`` (``torch.igamma``/``igammac``): the regularized incomplete
gamma functions P(a, x) and Q(a, x) = 1 − P as an op (also ``Gamma.cdf``), with the gradient in x.

The values come from special_igamma.py (Cephes' choice of series, continued fraction or Temme's
expansion per element, as PyTorch's kernel), computed in float64 and rounded to the operands'
dtype. PyTorch has no gradient in a (its backward refuses it), so neither has this: asking for
one raises NotImplementedError naming the op."""

from __future__ import annotations

from typing import Any

from glassgrad.autograd.function import Primitive
from glassgrad.backend import array_module, quietly
from glassgrad.ops.special_igamma import gammainc_array
from glassgrad.ops.special_series import lgamma_array

__all__ = ["Gammainc", "gammainc_array", "gammainc", "gammaincc"]


def _max_terms(xp, a):
    # gamma_reparam's series and continued fraction need O(√a) terms where x is near a; the cap
    # only guards against a NaN loop
    return 5000 + int(50 * float(xp.sqrt(xp.max(a)))) if a.size else 0


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
