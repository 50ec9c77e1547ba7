"""Complex twins of real ops, and the real ops marked complex-aware as they are (see
``ops/complex.py`` for the convention and ``autograd/complex_gate.py`` for the gate).

A *twin* has its real op's forward (NumPy computes it on complex arrays) and a backward that gives
PyTorch's complex gradient; ``Function.apply``'s gate runs it in place of the real op when an
operand is complex (``TWINS``), and its grad_fn keeps the real op's name (``MulBackward0``).
"""

from __future__ import annotations

from glassgrad.autograd.complex_gate import TWINS
from glassgrad.backend import array_module, quietly
from glassgrad.ops import (
    activation,
    conv,
    conversion,
    cumulative,
    elementwise,
    indexing,
    indexing_more,
    joining,
    linear,
    math_more,
    matmul,
    movement,
    movement_more,
    padding,
    pieces,
    reduce,
    scatter,
    setitem,
    sparse,
    statistics,
    trig,
    unary,
    unary_more,
)
from glassgrad.ops import views as views_ops
from glassgrad.ops.reduce import scan_acc_dtype

__all__ = [
    "AWARE", "ComplexAbs", "ComplexAdd", "ComplexSub", "ComplexMul", "ComplexDiv", "ComplexExp", "ComplexMatMul",
    "ComplexEinsum", "ComplexPow", "ComplexSqrt", "ComplexLog", "ComplexLog1p", "ComplexSin", "ComplexCos",
    "ComplexTanh", "ComplexTan", "ComplexSinh", "ComplexCosh", "ComplexExpm1", "ComplexWhere", "ComplexLinear",
    "ComplexRsqrt", "ComplexSigmoid", "ComplexAsin", "ComplexAcos", "ComplexAtan", "ComplexAsinh", "ComplexAcosh",
    "ComplexAtanh", "ComplexProd", "ComplexCumProd", "ComplexSparseMM", "ComplexSinc", "ComplexLogSumExp",
    "ComplexLogaddexp", "complex_log1p", "ComplexLogCumSumExp",
]  # fmt: skip


class ComplexAbs(unary.Abs):
    """y = |z| (real: float32 for complex64).   VJP: g z / |z|, 0 at z = 0 (PyTorch's choice).
    The complex twin of ``abs``."""

    name = "complex_abs"
    node_name = "AbsBackward0"
    complex_ok = True

    @staticmethod
    def backward(ctx, g):
        (z,) = ctx.saved
        xp = array_module(g)
        if z.dtype.kind != "c":
            return unary.Abs.backward(ctx, g)
        r = xp.abs(z)
        zero = r == 0
        return xp.where(zero, 0, g * (z / xp.where(zero, 1, r)))


TWINS[unary.Abs] = ComplexAbs


# ------------------------------------------------------------------ holomorphic twins
def _twin(base: type, doc: str) -> type:
    """The complex twin of real op ``base``, holomorphic in each input: ``base``'s forward (NumPy
    computes it on complex arrays), and as backward ``base``'s VJP applied to conj(g), conjugated
    back: the real rule is ``g * f'(z)``, so this gives ``g * conj(f'(z))``, PyTorch's gradient. An
    input that was real gets the real part. ``Function.apply``'s gate runs it when an operand is
    complex; its grad_fn keeps ``base``'s name (``MulBackward0``)."""

    def forward(ctx, *arrays, **attrs):
        ctx.attrs["real_inputs"] = tuple(
            getattr(a, "dtype", None) is not None and a.dtype.kind != "c" for a in arrays
        )
        return base.forward(ctx, *arrays, **attrs)

    def backward(ctx, g):
        xp = array_module(g)
        grads = base.backward(ctx, xp.conj(g))
        if grads.__class__ is not tuple:
            grads = (grads,)
        flags = ctx.attrs["real_inputs"]
        return tuple(d if d is None else (d.real if real else xp.conj(d)) for d, real in zip(grads, flags))

    body = {
        "__doc__": doc, "__module__": __name__, "name": "complex_" + base.name, "complex_ok": True,
        "node_name": getattr(base, "node_name", None) or base.__name__ + "Backward0",  # base's own name kept
        "forward": staticmethod(forward), "backward": staticmethod(backward),
    }  # fmt: skip
    twin = type("Complex" + base.__name__, (base,), body)
    TWINS[base] = twin
    return twin


ComplexAdd = _twin(elementwise.Add, "z = a + b, complex.   VJP: (g, g), real parts for real inputs.")
ComplexSub = _twin(elementwise.Sub, "z = a - b, complex.   VJP: (g, -g), real parts for real inputs.")
ComplexMul = _twin(
    elementwise.Mul, "z = a * b, complex.   VJP: (g conj(b), g conj(a)), real parts for real inputs."
)
ComplexDiv = _twin(
    elementwise.Div,
    "z = a / b, complex.   VJP: (g / conj(b), -g conj(a / b^2)), real parts for real inputs.",
)
ComplexExp = _twin(unary.Exp, "z = e^a, complex.   VJP: g conj(z).")
ComplexSqrt = _twin(
    unary.Sqrt,
    "z = sqrt(a), complex, principal branch (FNO's Adam on complex moments).   VJP: g / conj(2 z).",
)
# holomorphic functions whose real backward is a polynomial or quotient in a or z (no branch
# selections): the same formulas hold for complex values (SciML programs, complex activations)
ComplexLog = _twin(unary.Log, "z = ln a, complex, principal branch.   VJP: g / conj(a).")
ComplexLog1p = _twin(unary.Log1p, "z = ln(1 + a), complex, principal branch.   VJP: g / conj(1 + a).")


def complex_log1p(z):
    """ln(1 + z) of a complex array, accurate for small |z| as PyTorch's: ln|1 + z| is
    log1p(x (x + 2) + y^2) / 2 below |z| = 1/2 (NumPy's complex log1p forms 1 + z first, 1e-8
    relative error at |z| = 1e-8 in complex128), ln(hypot(x + 1, y)) above; arg(1 + z) by atan2."""
    xp = array_module(z)
    x, y = z.real, z.imag
    with xp.errstate(all="ignore"):
        r = x * (x + 2) + y * y
        near = xp.where(r == 0, x, 0.5 * xp.log1p(r))  # (r underflowed: ln(1 + x) = x to first order)
        real = xp.where(xp.abs(z) < 0.5, near, xp.log(xp.hypot(x + 1, y)))
        out = xp.empty_like(z)
        out.real, out.imag = real, xp.arctan2(y, x + 1)
    return out


def _log1p_forward(ctx, a):
    ctx.attrs["real_inputs"] = (a.dtype.kind != "c",)
    ctx.save_for_backward(a)
    return complex_log1p(a) if a.dtype.kind == "c" else unary.Log1p.forward(ctx, a)


ComplexLog1p.forward = staticmethod(_log1p_forward)
ComplexLogaddexp = _twin(
    math_more.Logaddexp, "z = ln(e^a + e^b), complex.   VJP: (g / conj(1 + e^(b-a)), ...)."
)


def complex_logaddexp(a, b):
    """ln(e^a + e^b) of complex arrays as PyTorch's kernel: ``max + log1p(exp(min - max))``, min and
    max ordered by real part (b first on a tie); NaN+NaNj from a NaN part anywhere; two infinite
    real parts of one sign give the smaller operand for -inf, ``ln(e^min + e^max)`` for +inf."""
    xp = array_module(a)
    a, b = xp.broadcast_arrays(*(x.astype(xp.result_type(a, b), copy=False) for x in (a, b)))
    a_low = a.real < b.real
    low, high = xp.where(a_low, a, b), xp.where(a_low, b, a)
    with xp.errstate(all="ignore"):
        out = complex_log1p(xp.exp(low - high)) + high
        both = ~xp.isfinite(low.real) & (low.real == high.real)
        out = xp.where(both & (low.real < 0), low, out)
        out = xp.where(both & (low.real > 0), xp.log(xp.exp(low) + xp.exp(high)), out)
    nan = xp.isnan(a.real) | xp.isnan(a.imag) | xp.isnan(b.real) | xp.isnan(b.imag)
    return xp.where(nan, xp.asarray(complex("nan+nanj"), dtype=out.dtype), out)


def _logaddexp_forward(ctx, a, b):
    ctx.attrs["real_inputs"] = tuple(x.dtype.kind != "c" for x in (a, b))
    ctx.save_for_backward(a, b)
    return complex_logaddexp(a, b)


ComplexLogaddexp.forward = staticmethod(_logaddexp_forward)


def complex_logcumsumexp(x, axis: int):
    """The running ``complex_logaddexp`` of ``x`` along ``axis`` as PyTorch's scan: one element at
    a time, ``z_i = logaddexp(x_i, z_(i-1))`` from z_(-1) = -inf + 0j, carried in complex128 for complex64. The imaginary
    part of each z_i is one of log's branches, chosen by that path (a doubling scan pairs other
    terms and lands 2 pi away): so a loop over the axis, each step over the other dims at once."""
    xp = array_module(x)
    wide = xp.moveaxis(x, axis, 0).astype(scan_acc_dtype(x) or x.dtype)  # (a fresh array: the scan's)
    if wide.shape[0]:  # the scan starts from -inf: x_0's NaN parts and -inf real part are folded too
        wide[0] = complex_logaddexp(wide[0], xp.asarray(complex(-xp.inf, 0), dtype=wide.dtype))
    for i in range(1, wide.shape[0]):
        wide[i] = complex_logaddexp(wide[i], wide[i - 1])
    return xp.ascontiguousarray(xp.moveaxis(wide, 0, axis).astype(x.dtype, copy=False))


class ComplexLogCumSumExp(cumulative.LogCumSumExp):
    """z_i = log(e^x_0 + ... + e^x_i), complex.   VJP: conj(exp(rev_logcumsumexp(log(conj g) - z) + x)),
    PyTorch's complex formula (no split by the sign of g)."""

    name = "complex_logcumsumexp"
    node_name = "LogcumsumexpBackward0"
    complex_ok = True

    @staticmethod
    def forward(ctx, x, axis=0):
        out = complex_logcumsumexp(x, axis)
        ctx.save_for_backward(x, out)
        return out

    @staticmethod
    def backward(ctx, g):
        x, out = ctx.saved
        xp, axis = array_module(g), ctx.attrs["axis"]
        with xp.errstate(all="ignore"):
            rev = xp.flip(complex_logcumsumexp(xp.flip(xp.log(xp.conj(g)) - out, axis), axis), axis)
            return xp.conj(xp.exp(rev + x))


TWINS[cumulative.LogCumSumExp] = ComplexLogCumSumExp
ComplexSin = _twin(unary.Sin, "z = sin a, complex.   VJP: g conj(cos a).")
ComplexCos = _twin(unary.Cos, "z = cos a, complex.   VJP: -g conj(sin a).")
ComplexTanh = _twin(unary.Tanh, "z = tanh a, complex.   VJP: g conj(1 - z^2).")
ComplexTan = _twin(trig.Tan, "z = tan a, complex.   VJP: g conj(1 + z^2).")
ComplexSinh = _twin(trig.Sinh, "z = sinh a, complex.   VJP: g conj(cosh a).")
ComplexCosh = _twin(trig.Cosh, "z = cosh a, complex.   VJP: g conj(sinh a).")
ComplexExpm1 = _twin(trig.Expm1, "z = e^a - 1, complex.   VJP: g conj(z + 1).")
ComplexRsqrt = _twin(unary.Rsqrt, "z = 1 / sqrt(a), complex, principal branch.   VJP: -g conj(z^3) / 2.")
ComplexSigmoid = _twin(activation.Sigmoid, "z = 1 / (1 + e^-a), complex.   VJP: g conj(z (1 - z)).")
ComplexSinc = _twin(
    unary_more.Sinc,
    "z = sin(pi a) / (pi a), 1 at 0, complex.   VJP: g conj((pi a cos(pi a) - sin(pi a)) / (pi a^2)), 0 at 0.",
)
ComplexLogSumExp = _twin(
    statistics.LogSumExp,
    "z = log(sum exp(x)) over axis, complex (principal log, shifted by the largest real part).\n"
    "    VJP: g conj(exp(x - z)), the conjugated softmax.",
)
# the inverse functions on their principal branches (NumPy's and PyTorch's are C99's)
ComplexAsin = _twin(trig.Asin, "z = asin a, complex.   VJP: g conj(1 / sqrt(1 - a^2)).")
ComplexAcos = _twin(trig.Acos, "z = acos a, complex.   VJP: -g conj(1 / sqrt(1 - a^2)).")
ComplexAtan = _twin(trig.Atan, "z = atan a, complex.   VJP: g conj(1 / (1 + a^2)).")
ComplexAsinh = _twin(unary_more.Asinh, "z = asinh a, complex.   VJP: g conj(1 / sqrt(a^2 + 1)).")
ComplexAcosh = _twin(
    unary_more.Acosh,
    "z = acosh a, complex.   VJP: g conj(1 / (sqrt(a - 1) sqrt(a + 1))) (the principal branch's).",
)


def _acosh_backward(ctx, g):
    # sqrt(a^2 - 1) is the real rule's, but on the complex plane it leaves acosh's principal branch
    # (Re a < 0); the product of the two roots stays on it, as PyTorch's derivative does
    (a,) = ctx.saved
    xp = array_module(g)
    if a.dtype.kind != "c":
        return unary_more.Acosh.backward(ctx, g)
    # a + (-1), not a - 1: PyTorch's shift turns a -0.0 imaginary part into +0.0, which picks the
    # root's side on the cut; at an infinite real part (finite imaginary) PyTorch gives the limit 0
    # (NumPy's product of the roots is NaN there)
    d = quietly(lambda: g / xp.conj(xp.sqrt(a + (-1)) * xp.sqrt(a + 1)))
    return xp.where(xp.isinf(a.real) & xp.isfinite(a.imag), xp.zeros((), d.dtype), d)


ComplexAcosh.backward = staticmethod(_acosh_backward)
ComplexAtanh = _twin(unary_more.Atanh, "z = atanh a, complex.   VJP: g conj(1 / (1 - a^2)).")


def _nan_at_poles(twin: type) -> None:
    """At a finite pole of the derivative (asin's +-1, asinh's +-i, ...) PyTorch's complex
    gradient is NaN (its reciprocal of a complex zero), NumPy's quotient an infinity."""
    inner = twin.backward

    def backward(ctx, g):
        out = inner(ctx, g)
        (a,) = ctx.saved
        xp = array_module(g)
        d = out[0] if out.__class__ is tuple else out
        if a.dtype.kind == "c" and d is not None:
            d = xp.where(xp.isinf(d) & xp.isfinite(a), xp.asarray(complex("nan+nanj"), dtype=d.dtype), d)
        return (d,) if out.__class__ is tuple else d

    twin.backward = staticmethod(backward)


for _twin_cls in (ComplexAsin, ComplexAcos, ComplexAsinh, ComplexAcosh):
    _nan_at_poles(_twin_cls)
# products: the real rule multiplies g by products of the other elements, so its conjugated form holds
ComplexProd = _twin(reduce.Prod, "z = prod x, complex.   VJP: g conj(product of the others).")
ComplexCumProd = _twin(cumulative.CumProd, "z_k = x_0 ... x_k, complex.   VJP: the real rule with conj(x).")
# selections and the affine layer: linear in each differentiable input (bilinear for linear), so
# conj(rule(conj g)) is the rule itself; the twin gives a real input the real part
ComplexWhere = _twin(
    elementwise.Where, "z = a where cond else b, complex.   VJP: (None, g where cond, g where not)."
)
ComplexLinear = _twin(
    linear.Linear, "y = x W^T + b, complex (complex-valued layers).   VJP: (g conj(W), g^T conj(x), sum g)."
)
ComplexPow = _twin(
    elementwise.Pow,
    "z = a ** b, complex (S4's omega ** arange(L)).   VJP: (g conj(b a^(b-1)), g conj(z ln a)), with\n"
    "    the principal ln; real parts for real inputs.",
)
ComplexMatMul = _twin(
    matmul.MatMul,
    "z = a @ b, complex: (..., n, k) @ (..., k, m) -> (..., n, m) with matmul's 1-D and batch rules.\n"
    "    VJP: (g @ conj(b)^T, conj(a)^T @ g), real parts for real inputs.",
)
ComplexEinsum = _twin(
    matmul.Einsum,
    "z = einsum(s_1, ..., s_n -> out)(x_1, ..., x_n), complex (S4D's kernel, mamba's complex scan).\n"
    "    VJP for x_i: einsum's real rule with conj of the other operands, real part for a real x_i.",
)
ComplexSparseMM = _twin(
    sparse.SparseMM,
    "z = S @ d, complex (a sparse COO matrix of complex values, as torch.sparse.mm).\n"
    "    VJP: (g[rows] . conj(d[cols]) per stored value, conj(S)^T g), real parts for real inputs.",
)

#: The real ops whose backward is already right for complex values: linear with real coefficients
#: (moves, copies, slices, sums; each reads only g's shape), or conjugation-free by construction
#: (neg, cast: see ``conversion.Cast``). They are marked complex-aware as they are.
AWARE = (
    movement.Reshape, movement.Permute, movement.Expand, movement.Repeat, movement.Flip, movement.Roll,
    movement.Tril, movement.Triu, indexing.GetItem, joining.Cat, joining.Stack, conversion.Clone,
    conversion.Cast, pieces.Split, pieces.Piece, views_ops.Diagonal, reduce.Sum, reduce.Mean,
    reduce.CumSum, elementwise.Neg, indexing_more.IndexPut, movement_more.DiagEmbed,
    padding.Pad, padding.IndexPad, movement_more.TensorUnfold,  # (torch.stft frames complex signals)
    setitem.SetItem,  # (FEDformer's out_ft[..., wi] = ... into a cfloat buffer)
    conv.Fold, conv.Unfold,  # (istft's overlap-add of complex frames; moves and sums only)
    indexing.MaskedFill, indexing.Gather,  # (one differentiable input, its gradient g moved or zeroed)
    # writes and accumulations at indices (torchkbnufft's gridding is a complex index_add_): their
    # gradients move g (index_add's scales it by conj(alpha), written so in IndexAdd.backward)
    indexing_more.IndexAdd, indexing_more.IndexCopy, indexing_more.MaskedScatter, indexing.ScatterAdd,
    scatter.Scatter,
    sparse.SparseToDense, sparse.SparseCoalesce,  # (sums of stored values: g gathered back)
)  # fmt: skip
for _cls in AWARE:
    _cls.complex_ok = True
