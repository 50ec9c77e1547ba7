"""Padding primitives: constant padding (negative sizes crop) and reflect / replicate / circular
padding, with ``pad`` taking ``torch.nn.functional.pad``'s arguments.

Constant padding writes ``x`` into a filled array, and its backward reads the gradient back from
the same window. The other modes are a gather along each padded dim (each output position reads one
source position); edge positions are read several times, so that backward scatter-adds.
"""

from __future__ import annotations

import itertools
from typing import Any

from glassgrad.autograd.function import Primitive as Function
from glassgrad.autograd.function import named
from glassgrad.backend import array_module
from glassgrad.dtypes import complex_scalar
from glassgrad.errors import ArgumentError, ShapeError
from glassgrad.ops.layout import channels_last_if
from glassgrad.ops.movement import _ints
from glassgrad.tensor import Tensor

__all__ = ["pad"]


# ------------------------------------------------------------------ primitives
class Pad(Function):
    """Constant padding: z = full(out_shape, value); z[dst] = x[src] (negative pads crop).
    VJP: zeros like x with g[dst] written back at src."""

    @staticmethod
    def forward(ctx, a, src=(), dst=(), out_shape=(), value=0.0):
        out = array_module(a).full(out_shape, value, dtype=a.dtype)
        out[dst] = a[src]
        return out

    @staticmethod
    def backward(ctx, g):
        out = array_module(g).zeros(ctx.shapes[0], dtype=g.dtype)
        out[ctx.attrs["src"]] = g[ctx.attrs["dst"]]
        return out


class IndexPad(Function):
    """Reflect / replicate / circular padding: along each padded dim d, z = take(x, index_d, d),
    where index_d lists the source position of each output position (e.g. reflect: 2 1 | 0 1 2 | 1).
    VJP: in reverse order, scatter-add g along each dim at index_d (edge positions receive several)."""

    name = "index_pad"

    @staticmethod
    def forward(ctx, a, index=()):
        xp = array_module(a)
        for d, idx in index:
            a = xp.take(a, idx, axis=d)
        return a

    @staticmethod
    def backward(ctx, g):
        xp = array_module(g)
        shape = ctx.shapes[0]
        for d, idx in reversed(ctx.attrs["index"]):
            out = xp.zeros(g.shape[:d] + (shape[d],) + g.shape[d + 1 :], dtype=g.dtype)
            _scatter_add_along(out, idx, g, d)
            g = out
        return g


def _scatter_add_along(out: Any, idx: Any, g: Any, d: int) -> None:
    """out[.., idx[i], ..] += g[.., i, ..] along dim ``d``, in the order of i (as ``add.at`` and
    PyTorch's loop, so the sums round alike). The longest run of consecutive sources (the
    unpadded middle) is one slab add; the few padded positions on either side are one slab add
    each. ``add.at`` along an inner dim took 30 ms for an (8, 16, 68, 68) gradient, this 2."""
    xp = array_module(g)
    if idx.size == 0:
        return
    step = xp.flatnonzero(idx[1:] != idx[:-1] + 1)  # breaks between runs of consecutive sources
    bounds = xp.concatenate(([0], step + 1, [idx.size])).tolist()
    lo, hi = max(itertools.pairwise(bounds), key=lambda r: r[1] - r[0])
    if idx.size - (hi - lo) > 32:  # many scattered positions (a wide circular pad): add.at
        xp.add.at(out, (slice(None),) * d + (idx,), g)
        return
    pre = (slice(None),) * d
    for i in range(lo):
        out[pre + (int(idx[i]),)] += g[pre + (i,)]
    first = int(idx[lo])
    out[pre + (slice(first, first + hi - lo),)] += g[pre + (slice(lo, hi),)]
    for i in range(hi, idx.size):
        out[pre + (int(idx[i]),)] += g[pre + (i,)]


# ------------------------------------------------------------------ tensor-level function
_INDEX_MODES = {"reflect": "reflect", "replicate": "edge", "circular": "wrap"}


def pad(input: Tensor, pad: Any, mode: str = "constant", value: Any = None) -> Tensor:  # noqa: A002
    """Pad (or, with negative sizes, crop) ``input``; ``pad`` pairs start from the LAST dim:
    ``(left, right, top, bottom, front, back)`` as ``torch.nn.functional.pad``.

    Modes: "constant" (``value``, default 0), "reflect" (mirror without the edge), "replicate"
    (repeat the edge), "circular" (wrap around). All three also crop with negative sizes, as
    PyTorch (reflect mirrors about the uncropped edges; circular crops first and wraps within what
    is left, so a pad longer than that is refused: PyTorch's result there reads uninitialised
    memory). Unlike PyTorch, the last three accept any number of padded dims up to the input's rank.

    Shape:
        ``(*, H, W)`` with ``pad=(l, r, t, b)`` -> ``(*, H + t + b, W + l + r)``.
    """
    pad = _ints((pad,), "pad")
    if len(pad) % 2 or len(pad) // 2 > input.ndim:
        raise ShapeError(
            f"pad: expected an even number of pad sizes, at most {2 * input.ndim} for shape {input.shape}, got {pad}"
        )
    # dim -> (before, after), counting pairs from the last dim
    pairs = {input.ndim - 1 - i: (pad[2 * i], pad[2 * i + 1]) for i in range(len(pad) // 2)}
    if mode == "constant":
        src, dst, out_shape = [], [], []
        for d, n in enumerate(input.shape):
            lo, hi = pairs.get(d, (0, 0))
            m = n + lo + hi
            if m < 0 or n + min(lo, 0) + min(hi, 0) < 0:  # PyTorch crops before it pads
                raise ShapeError(f"pad: padding {pad} crops dim {d} of {input.shape} below size 0")
            a, b = max(-lo, 0), n - max(-hi, 0)  # the part of input that survives cropping
            src.append(slice(a, max(a, b)))
            dst.append(slice(max(lo, 0), max(lo, 0) + max(b - a, 0)))
            out_shape.append(m)
        # (a complex value for a real tensor: refused unless its imaginary part is 0, as PyTorch)
        fill = 0 if value is None else complex_scalar("pad", value, input._data.dtype)
        out = Pad.apply(input, src=tuple(src), dst=tuple(dst), out_shape=tuple(out_shape), value=fill)
        return channels_last_if(out, input)  # a channels-last image stays so (PyTorch)
    if mode not in _INDEX_MODES:  # PyTorch's class: its mode parser's NotImplementedError
        raise NotImplementedError(
            f"pad: expected mode constant, reflect, replicate or circular, got {mode!r}"
        )
    if value is not None and value != 0:  # refused, as PyTorch: the fill would silently be dropped
        raise ArgumentError(
            f'pad: padding mode "{mode}" doesn\'t take in value argument, got value={value!r}'
        )
    channel = input.ndim - len(pairs) - 1  # (N, C, *padded) or (C, *padded); N may be 0, C not
    if mode != "circular" and channel >= 0 and input.shape[channel] == 0:
        raise ShapeError(
            f"pad: {mode} padding {pad}: Expected {len(pairs) + 1}D or {len(pairs) + 2}D (batch mode) "
            f"tensor with possibly 0 batch size and other non-zero dimensions for input, but got: {input.shape}"
        )
    index = []
    sizes = [input.shape[d] + lo + hi for d, (lo, hi) in pairs.items()]
    empty = max(sizes) < 1  # PyTorch allows an empty result along some padded dims, not all
    for d, (lo, hi) in sorted(pairs.items()):
        n = input.shape[d]
        if mode == "circular":  # crops first, then wraps within the rest (PyTorch's copies)
            kept = n - max(-lo, 0) - max(-hi, 0)
            if kept < 0 or max(lo, hi) > n or max(lo, hi) > kept:
                # (where a crop leaves fewer positions than a pad wraps over, PyTorch reads
                # uninitialised memory; then PyTorch's words, which ported code may match)
                words = (
                    "Negative padding value is resulting in an empty dimension"
                    if n + lo + hi <= 0
                    else "Padding value causes wrapping around more than once."
                )
                raise ShapeError(
                    f"pad: circular padding {pad} wraps around more than once along dim {d} of shape "
                    f"{input.shape}: each pad must be at most the {max(kept, 0)} positions left after "
                    f"the negative sizes crop: {words}"
                )
            index.append((d, _source_index(array_module(input._data), n, lo, hi, mode)))
            continue
        # negative sizes crop; reflect mirrors about the uncropped edges, as PyTorch
        too_wide = mode == "reflect" and max(lo, hi) >= n
        if n + lo + hi < 0 or empty or too_wide or n == 0:
            words = (  # then PyTorch's words, which code ported from it may match
                ": Padding size should be less than the corresponding input dimension, but got: "
                f"padding ({lo}, {hi}) at dimension {d} of input {list(input.shape)}"
                if too_wide
                else ""
            )
            raise ShapeError(
                f"pad: {mode} padding {pad} must be >= 0 and fit dim {d} of shape {input.shape}"
                f", or negative (a crop) leaving some dim non-empty{words}"
            )
        index.append((d, _source_index(array_module(input._data), n, lo, hi, mode)))
    out = IndexPad.apply(input, index=tuple(index))
    if mode != "circular":  # PyTorch's node (its double backward reads the input: recorded._LINKED_CALLS)
        named(out, f"{'Reflection' if mode == 'reflect' else 'Replication'}Pad{len(pairs)}DBackward0")
    return out if mode == "circular" else channels_last_if(out, input)  # PyTorch's circular: contiguous


def _source_index(xp: Any, n: int, lo: int, hi: int, mode: str) -> Any:
    """The source position of each of the ``n + lo + hi`` output positions along one dim."""
    j = xp.arange(-lo, n + hi)  # output position -> unpadded coordinate (negative pads crop)
    if mode == "replicate":
        return xp.clip(j, 0, n - 1)
    if mode == "circular":  # wrap within the part left after cropping: [a, a + kept)
        a, kept = max(-lo, 0), n - max(-lo, 0) - max(-hi, 0)
        return a + (j - a) % kept if kept else j
    period = 2 * (n - 1)  # reflect: the mirror images repeat every 2 (n - 1) positions
    j = xp.abs(j) % period if period else xp.zeros_like(j)
    return xp.where(j > n - 1, period - j, j)
