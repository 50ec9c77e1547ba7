"""Recorded VJP rules (``autograd/recorded.py``) of the complex ops: the complex twins of the real
arithmetic ops (``ops/complex_twins.py``), the ops that make and take apart complex tensors
(``ops/complex.py``) and the Fourier transforms (``fft.py``).

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
from glassgrad.autograd.recorded import RULES, constant, operand, rule, saved
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
@rule("complex_add", "complex_sub", "complex_mul", "complex_div", "complex_exp", "complex_matmul")
def _holomorphic(ctx, g):
    """conj(real rule(conj g)) = g conj(f'(z)) per input; its real part for a real input."""
    base = RULES[ctx.fn.name[len("complex_") :]]
    grads = base(ctx, g.conj())
    if grads.__class__ is not tuple:
        grads = (grads,)
    flags = ctx.attrs["real_inputs"]
    return tuple(d if d is None else (d.real if real else d.conj()) for d, real in zip(grads, flags))


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
def _transform_vjp(ctx, g, adjoint):
    (length, real) = saved(ctx)
    n, dim, norm = ctx.attrs["n"], ctx.attrs["dim"], ctx.attrs["norm"]
    gx = adjoint(g, n=n, dim=dim, norm=_DUAL[norm])
    if n > length:  # forward zero-padded: the pad's gradient goes nowhere
        gx = gx[(slice(None),) * dim + (slice(0, length),)]
    elif n < length:  # forward cut: the cut entries get 0
        shape = list(gx.shape)
        shape[dim] = length - n
        gx = gg.cat([gx, _zeros(gx, shape)], dim=dim)
    return gx.real if real else gx


@rule("fft")
def _fft(ctx, g):
    """ifft(g) under the dual norm, cut or zero-padded back to the input's length; Re for a real input."""
    return _transform_vjp(ctx, g, gg.fft.ifft)


@rule("ifft")
def _ifft(ctx, g):
    """fft(g) under the dual norm, cut or zero-padded back to the input's length; Re for a real input."""
    return _transform_vjp(ctx, g, gg.fft.fft)
