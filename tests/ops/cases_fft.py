"""Gradcheck cases for the Fourier transforms' four primitives (fft.py, fft_real.py): ``fft`` and
``ifft`` (complex-to-complex, one dim or several), ``rfft`` (real-to-complex, one-sided: rfft,
rfftn, ihfft) and ``irfft`` (complex-to-real: irfft, irfftn, hfft), of real and (through real
views) complex inputs, over drawn dims, with drawn sizes (padding or cutting) and norms."""

from __future__ import annotations

from hypothesis import strategies as st

import glassgrad as gg
from tests.ops.harness import case, shapes, values

C, R = gg.view_as_complex, gg.view_as_real
NORMS = st.sampled_from([None, "ortho", "forward", "backward"])


def _real_view(y):
    return R(y) if y.is_complex() else y


def _args(draw, shape, one, size):
    """(kwargs, n or s) of a one-dim call (``n``, ``dim``) or an n-dim one (``s``, ``dim``)."""
    if one:
        dim = draw(st.integers(-len(shape), len(shape) - 1))
        return {"n": size(shape[dim]), "dim": dim}
    dims = draw(st.permutations(range(len(shape))))[: draw(st.integers(1, len(shape)))]
    s = tuple(-1 if (n := size(shape[d])) is None else n for d in dims)
    return {"s": s if draw(st.booleans()) else None, "dim": tuple(dims)}


def _transform(name, real_only=False, c2r=False):
    def draw_case(draw):
        shape = draw(shapes(min_dims=1))
        one = draw(st.booleans())

        def size(length):  # padding, cutting or none; c2r outputs of 1, even and odd lengths
            choices = [1, 2 * length - 1, 2 * length] if c2r else [None, 1, length + 2]
            if c2r and length > 1:
                choices.append(None)  # the default, 2 * (m - 1)
            return draw(st.sampled_from(choices))

        kw = {**_args(draw, shape, one, size), "norm": draw(NORMS)}
        if c2r and not one and kw["s"] is None and shape[kw["dim"][-1]] == 1:
            kw["s"] = (*[-1] * (len(kw["dim"]) - 1), 3)  # (the default last size would be 0)
        names = {
            "fft": ("fft", "fftn"),
            "ifft": ("ifft", "ifftn"),
            "rfft": ("rfft", "rfftn", "ihfft", "ihfftn"),
            "irfft": ("irfft", "irfftn", "hfft", "hfftn"),
        }[name]
        fn = getattr(gg.fft, draw(st.sampled_from([n for n in names if (not n.endswith("n")) == one])))
        if real_only or draw(st.booleans()):  # real input
            return (lambda x: _real_view(fn(x, **kw))), (values(draw, shape),)
        return (lambda x: _real_view(fn(C(x), **kw))), (values(draw, (*shape, 2)),)

    return draw_case


case("fft")(_transform("fft"))
case("ifft")(_transform("ifft"))
case("rfft")(_transform("rfft", real_only=True))
case("irfft")(_transform("irfft", c2r=True))
