"""Recorded VJP rules (``autograd/recorded.py``) of the complex ops: the complex twins of the real
arithmetic ops (``ops/complex_twins.py``), the ops that make and take apart complex tensors
(``ops/complex.py``) and the Fourier transforms (``fft.py``, ``fft_real.py``).

The convention is PyTorch's (see ``ops/complex.py``): for a real loss L and z = x + iy the gradient
is dL/dx + i dL/dy. A holomorphic twin's rule is its real op's rule applied to conj(g), conjugated
back (real parts for real inputs), exactly as the twin's first-order backward reuses the real
backward: the real rules are written with Tensor ops, which the complex gate swaps for their twins
on complex operands, so the recursion stays in the graph to any order. Where the first-order
backward selects with ``where`` on a complex value (0 at z = 0), the rule selects the real and
imaginary parts apart and packs them again (``where`` has no complex twin). Masks are constants.
"""

from __future__ import annotations

import numpy as np

import glassgrad as gg
from glassgrad.autograd.recorded import RULES, constant, operand, output, rule, saved
from glassgrad.backend import array_module
from glassgrad.fft import _DUAL

__all__: list[str] = []


def _pack(mask, re, im):
    """re + i im, with 0 where the constant ``mask`` (selected, so neither part leaks a NaN)."""
    m = np.asarray(mask, dtype=bool)
    return gg.complex(gg.where(m, 0.0, re), gg.where(m, 0.0, im))


def _zeros(t, shape=None):
    shape = tuple(t.shape) if shape is None else tuple(shape)
    return constant(array_module(t._data).zeros(shape, dtype=t._data.dtype))


# ------------------------------------------------------------------ holomorphic twins
@rule(
    "complex_add",
    "complex_sub",
    "complex_mul",
    "complex_div",
    "complex_exp",
    "complex_sqrt",
    "complex_log",
    "complex_log1p",
    "complex_sin",
    "complex_cos",
    "complex_tanh",
    "complex_tan",
    "complex_sinh",
    "complex_cosh",
    "complex_expm1",
    "complex_rsqrt",
    "complex_sigmoid",
    "complex_where",
    "complex_linear",
    "complex_matmul",
    "complex_einsum",
    "complex_sinc",
    "complex_logsumexp",
    "complex_logaddexp",
)
def _holomorphic(ctx, g):
    """conj(real rule(conj g)) = g conj(f'(z)) per input; its real part for a real input."""
    base = RULES[ctx.fn.name[len("complex_") :]]
    grads = base(ctx, g.conj())
    if grads.__class__ is not tuple:
        grads = (grads,)
    flags = ctx.attrs["real_inputs"]
    return tuple(d if d is None else (d.real if real else d.conj()) for d, real in zip(grads, flags))


@rule("complex_pow")
def _complex_pow(ctx, g):
    """(g conj(b a^(b-1)), 0 where b == 0; g conj(z ln a), 0 where a == 0 and Re b >= 0), the real
    rule's selections done with constant 0/1 factors (``where`` has no complex twin) and the
    principal ln a as ln|a| + i angle(a) (``log`` has none either); real parts for real inputs."""
    a, b, out = saved(ctx)
    need, flags = ctx.needs_input_grad, ctx.attrs["real_inputs"]
    rdt = np.zeros(0, dtype=g._data.dtype).real.dtype
    at, bt = operand(ctx, 0, a), operand(ctx, 1, b)
    ga = gb = None
    if need[0]:
        if not hasattr(b, "shape"):  # a Python number
            ga = g * (b * at ** (b - 1)).conj() if b != 0 else g * 0.0
        else:
            zero = np.asarray(b == 0)
            bs = bt * constant((~zero).astype(rdt)) + constant(zero.astype(rdt))  # 1 where b == 0
            ga = g * (bs * at ** (bs - 1)).conj() * constant((~zero).astype(rdt))
        ga = ga.real if flags[0] else ga
    if need[1]:
        z = output(ctx, out)
        if not hasattr(a, "shape"):  # a Python number: ln a a constant (0 ** b gives 0 here)
            gb = g * (z * complex(np.log(complex(a)))).conj() if a != 0 else g * 0.0
        else:
            edge = np.asarray((a == 0) & (np.real(b) >= 0))
            sa = at + constant(edge.astype(rdt))  # 1 where the edge: ln 1 = 0, no -inf
            ln = gg.complex(gg.log(gg.abs(sa)), gg.angle(sa))
            gb = g * (z * ln).conj() * constant((~edge).astype(rdt))
        gb = gb.real if flags[1] else gb
    return ga, gb


@rule("complex_abs")
def _complex_abs(ctx, g):
    """g z / |z|, 0 at z = 0."""
    (z,) = saved(ctx)
    if z.dtype.kind != "c":  # (the gate sends only complex operands here; the twin allows real ones)
        return RULES["abs"](ctx, g)
    zero = np.abs(z) == 0
    zt = operand(ctx, 0, z)
    # on the parts (g and |z| are real): a real-to-complex cast would be a node of the graph
    q = g / gg.where(np.asarray(zero), 1.0, gg.abs(zt))  # g / |z|, g / 1 at z = 0 (selected away)
    return _pack(zero, q * zt.real, q * zt.imag)


# ------------------------------------------------------------------ making and taking apart
@rule("real")
def _real(ctx, g):
    """g + 0i."""
    return gg.complex(g, _zeros(g))


@rule("imag")
def _imag(ctx, g):
    """0 + i g."""
    return gg.complex(_zeros(g), g)


@rule("conj", "conj_physical")
def _conj(ctx, g):
    """conj g."""
    return gg.conj(g)


@rule("complex")
def _complex(ctx, g):
    """(Re g, Im g)."""
    need = ctx.needs_input_grad
    return (g.real if need[0] else None), (g.imag if need[1] else None)


@rule("polar")
def _polar(ctx, g):
    """(g_x cos t + g_y sin t, r (g_y cos t - g_x sin t))."""
    r, c, s, t = saved(ctx)
    need = ctx.needs_input_grad
    if ctx.next[1] is None:  # a constant angle: forward's own cos t and sin t
        ct, st = constant(c), constant(s)
    else:
        tt = operand(ctx, 1, t)
        ct, st = gg.cos(tt), gg.sin(tt)
    gx, gy = g.real, g.imag
    gr = gx * ct + gy * st if need[0] else None
    gt = operand(ctx, 0, r) * (gy * ct - gx * st) if need[1] else None
    return gr, gt


@rule("angle")
def _angle(ctx, g):
    """g i z / |z|^2 = g (-y + i x) / (x^2 + y^2), 0 at z = 0; 0 for a real input."""
    (a,) = saved(ctx)
    if a.dtype.kind != "c":
        return _zeros(g)
    zero = (a.real * a.real + a.imag * a.imag) == 0
    zt = operand(ctx, 0, a)
    x, y = zt.real, zt.imag
    q = g / gg.where(np.asarray(zero), 1.0, x * x + y * y)
    return _pack(zero, -(q * y), q * x)


@rule("view_as_complex")
def _view_as_complex(ctx, g):
    """(Re g, Im g) stacked in a last dim of 2."""
    return gg.stack((g.real, g.imag), dim=-1)


@rule("view_as_real")
def _view_as_real(ctx, g):
    """g[..., 0] + i g[..., 1]."""
    return gg.complex(g[..., 0], g[..., 1])


# ------------------------------------------------------------------ Fourier transforms
def _along(d, part):
    return (slice(None),) * d + (part,)


def _resize(gx, lengths, dims):
    """gx cut or zero-padded (at the end) to ``lengths`` along ``dims``."""
    for length, d in zip(lengths, dims):
        n = gx.shape[d]
        if n > length:  # forward zero-padded: the pad's gradient goes nowhere
            gx = gx[_along(d, slice(0, length))]
        elif n < length:  # forward cut: the cut entries get 0
            shape = list(gx.shape)
            shape[d] = length - n
            gx = gg.cat([gx, _zeros(gx, shape)], dim=d)
    return gx


def _c2c_vjp(ctx, g, adjoint):
    lengths, real = saved(ctx)
    gx = _resize(adjoint(g, dim=ctx.attrs["dim"], norm=_DUAL[ctx.attrs["norm"]]), lengths, ctx.attrs["dim"])
    return gx.real if real else gx


@rule("fft")
def _fft(ctx, g):
    """ifftn(g) under the dual norm, cut or zero-padded back to the input's sizes; Re for a real input."""
    return _c2c_vjp(ctx, g, gg.fft.ifftn)


@rule("ifft")
def _ifft(ctx, g):
    """fftn(g) under the dual norm, cut or zero-padded back to the input's sizes; Re for a real input."""
    return _c2c_vjp(ctx, g, gg.fft.fftn)


@rule("rfft")
def _rfft(ctx, g):
    """Re ifftn(g zero-filled to s[-1] bins) under the dual norm, cut or zero-padded back."""
    (lengths,) = saved(ctx)
    s, dims, norm = ctx.attrs["s"], ctx.attrs["dim"], ctx.attrs["norm"]
    full = _resize(g, (s[-1],), (dims[-1],))
    return _resize(gg.fft.ifftn(full, dim=dims, norm=_DUAL[norm]).real, lengths, dims)


@rule("irfft")
def _irfft(ctx, g):
    """rfftn(g) under the dual norm with the interior bins doubled, cut or zero-padded back; Re
    for a real input."""
    lengths, real = saved(ctx)
    s, dims, norm = ctx.attrs["s"], ctx.attrs["dim"], ctx.attrs["norm"]
    gx, d = gg.fft.rfftn(g, dim=dims, norm=_DUAL[norm]), dims[-1]
    count = s[-1] - gx.shape[d]
    if count > 0:
        parts = (
            gx[_along(d, slice(0, 1))],
            gx[_along(d, slice(1, 1 + count))] * 2,
            gx[_along(d, slice(1 + count, None))],
        )
        gx = gg.cat([p for p in parts if p.shape[d]], dim=d)
    gx = _resize(gx, lengths, dims)
    return gx.real if real else gx


@rule("complex_logcumsumexp")
def _complex_logcumsumexp(ctx, g):
    """conj(exp(rev_logcumsumexp(log(conj g) - z) + x)), PyTorch's complex formula (rev: along the
    axis from its end), in Tensor ops: the scan's own twin records the inner logcumsumexp."""
    x, out = saved(ctx)
    axis = ctx.attrs["axis"]
    xt, z = operand(ctx, 0, x), output(ctx, out)
    rev = (gg.log(g.conj()) - z).flip(axis).logcumsumexp(axis).flip(axis)
    return gg.exp(rev + xt).conj()
