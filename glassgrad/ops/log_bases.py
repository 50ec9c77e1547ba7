"""``log2``, ``log10`` and ``exp2``: compositions of ``log``/``exp`` and a constant factor, so their
gradients, double backward, forward-mode tangents and complex inputs come from those primitives,
with each real result's values then taken from the backend's own base-2/base-10 function (a
complex log's from ``log``'s parts, each divided by the real ln b, a complex exp2 from ``exp`` of
the parts each times the real ln 2, as PyTorch's kernels).

The composition alone rounds twice (``log(x) * (1 / ln 10)``, ``exp(x * ln 2)``): ``log10(1000.)``
gave 2.9999999999999996 and ``exp2(1000.)`` was 695 ulps off in float64, where PyTorch's kernels
give 3.0 and 2^1000. The values are written into the composition's fresh result (whose node saved
that array: ``exp``'s backward then reads the exact 2^x too). Their nodes show PyTorch's names
(``Log2Backward0`` ...), in place (``x.log2_()``) too.
"""

from __future__ import annotations

import math

from glassgrad.autograd.function import named
from glassgrad.backend import array_module, quietly
from glassgrad.ops import elementwise, unary
from glassgrad.tensor import Tensor

__all__ = ["log2", "log10", "exp2"]


def _round_once(y: Tensor, x: Tensor, name: str) -> Tensor:
    """``y`` (the composition's result for input ``x``) with the values of ``xp.<name>(x)``; left as
    it is for meta data, or a result that is not a fresh writable array of x's dtype."""
    a, out = x._data, y._data
    flags = getattr(out, "flags", None)
    if a.dtype.kind not in "fc" or out.dtype != a.dtype or flags is None or not flags.writeable:
        return y
    xp = array_module(a)
    if a.dtype.kind == "c":
        if name in _LN_BASE:  # a complex product by 1/ln(b) made log(0)'s 0 imaginary part nan
            _complex_log_base(xp, a, out, _LN_BASE[name])
        elif name == "exp2":  # likewise x * ln 2 made an infinite part's 0 * inf nan (exp2(-inf+infj))
            scaled = xp.empty_like(a)
            scale = xp.asarray(math.log(2), dtype=a.real.dtype)
            scaled.real[...] = a.real * scale
            scaled.imag[...] = a.imag * scale
            quietly(xp.exp, scaled, out=out)
        return y
    fn = getattr(xp, name, None)
    if fn is None or tuple(out.shape) != tuple(a.shape):
        return y
    if a.dtype == xp.float32:  # NumPy's float32 kernels are ulps off (log10(1000) = 3.0000002):
        wide = quietly(fn, a.astype(xp.float64))  # in float64, rounded once to float32
        quietly(xp.copyto, out, wide, casting="same_kind")  # (past float32's range: inf, quietly)
    else:  # float64; float16 (NumPy computes it in float32, rounded once, as PyTorch's Half)
        quietly(fn, a, out=out)  # log10(0) = -inf, log10(-1) = nan, exp2(2000) = inf, as PyTorch
    return y


_LN_BASE = {"log2": math.log(2), "log10": math.log(10)}


def _complex_log_base(xp, a, out, ln_base: float) -> None:
    """``out = log(a) / ln(base)``, each part divided by the real ``ln(base)`` of the parts' dtype:
    PyTorch's complex kernel, so ``log10(0j)`` is ``-inf+0j`` and the values are bit-equal."""
    logs = quietly(xp.log, a)
    scale = xp.asarray(ln_base, dtype=logs.real.dtype)
    out.real[...] = logs.real / scale
    out.imag[...] = logs.imag / scale


def log2(input: Tensor) -> Tensor:  # noqa: A002 - PyTorch's name
    x = elementwise.floating(input)
    return named(_round_once(unary.log(x) * (1 / math.log(2)), x, "log2"), "Log2Backward0")


def log10(input: Tensor) -> Tensor:  # noqa: A002 - PyTorch's name
    x = elementwise.floating(input)
    return named(_round_once(unary.log(x) * (1 / math.log(10)), x, "log10"), "Log10Backward0")


def exp2(input: Tensor) -> Tensor:  # noqa: A002 - PyTorch's name
    x = elementwise.floating(input)
    return named(_round_once(unary.exp(x * math.log(2)), x, "exp2"), "Exp2Backward0")
