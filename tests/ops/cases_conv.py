"""Gradcheck cases for ops/conv.py (conv2d, conv_transpose2d, unfold, fold), driven through the
functional API so that the 1-D forms, every padding spelling ("valid", "same", ints, tuples),
stride, dilation and groups (depthwise included) are all differentiated."""

from __future__ import annotations

from hypothesis import strategies as st

import glassgrad.nn.functional as F
from tests.ops.harness import case, values


def _geometry(draw, nd: int) -> tuple:
    """kernel, stride, dilation per dim; small so that the Jacobians stay cheap."""
    kernel = tuple(draw(st.integers(1, 3)) for _ in range(nd))
    stride = tuple(draw(st.integers(1, 2)) for _ in range(nd))
    dilation = tuple(draw(st.integers(1, 2)) for _ in range(nd))
    return kernel, stride, dilation


def _groups(draw) -> tuple[int, int, int]:
    """(groups, in_channels, out_channels): plain, grouped or depthwise."""
    groups = draw(st.sampled_from([1, 2]))
    cin = groups * draw(st.integers(1, 2))
    depthwise = draw(st.booleans())
    cout = cin if depthwise and groups == cin else groups * draw(st.integers(1, 2))
    return groups, cin, cout


@case("conv2d")
def _conv(draw):
    nd = draw(st.sampled_from([1, 2]))
    kernel, stride, dilation = _geometry(draw, nd)
    groups, cin, cout = _groups(draw)
    padding = draw(st.sampled_from(["int", "tuple", "valid", "same"]))
    if padding == "same":
        stride = (1,) * nd
        pad = "same"
    elif padding == "valid":
        pad = "valid"
    elif padding == "int":
        pad = draw(st.integers(0, 2))
    else:
        pad = tuple(draw(st.integers(0, 1)) for _ in range(nd))
    # large enough for the dilated kernel even without padding
    spatial = tuple(d * (k - 1) + 1 + draw(st.integers(0, 3)) for k, d in zip(kernel, dilation))
    n = draw(st.integers(1, 2))
    x = values(draw, (n, cin, *spatial))
    w = values(draw, (cout, cin // groups, *kernel))
    conv = F.conv2d if nd == 2 else F.conv1d
    if draw(st.booleans()):
        b = values(draw, (cout,))
        return (lambda x, w, b: conv(x, w, b, stride, pad, dilation, groups)), (x, w, b)
    return (lambda x, w: conv(x, w, None, stride, pad, dilation, groups)), (x, w)


@case("conv_transpose2d")
def _conv_transpose(draw):
    nd = draw(st.sampled_from([1, 2]))
    kernel, stride, dilation = _geometry(draw, nd)
    groups, cin, cout = _groups(draw)
    padding = tuple(draw(st.integers(0, (d * (k - 1)) // 2)) for k, d in zip(kernel, dilation))
    output_padding = tuple(draw(st.integers(0, max(s, d) - 1)) for s, d in zip(stride, dilation))
    spatial = tuple(draw(st.integers(1, 3)) for _ in range(nd))
    x = values(draw, (draw(st.integers(1, 2)), cin, *spatial))
    w = values(draw, (cin, cout // groups, *kernel))
    conv = F.conv_transpose2d if nd == 2 else F.conv_transpose1d
    b = values(draw, (cout,))
    return (lambda x, w, b: conv(x, w, b, stride, padding, output_padding, groups, dilation)), (x, w, b)


@case("unfold")
def _unfold(draw):
    kernel, stride, dilation = _geometry(draw, 2)
    padding = draw(st.integers(0, 1))
    spatial = tuple(d * (k - 1) + 1 + draw(st.integers(0, 2)) for k, d in zip(kernel, dilation))
    x = values(draw, (1, draw(st.integers(1, 2)), *spatial))
    return (lambda x: F.unfold(x, kernel, dilation, padding, stride)), (x,)


@case("fold")
def _fold(draw):
    kernel, stride, dilation = _geometry(draw, 2)
    padding = draw(st.integers(0, 1))
    size = tuple(d * (k - 1) + 1 + draw(st.integers(0, 2)) for k, d in zip(kernel, dilation))
    windows = [
        (n + 2 * padding - d * (k - 1) - 1) // s + 1 for n, k, s, d in zip(size, kernel, stride, dilation)
    ]
    c = draw(st.integers(1, 2))
    cols = values(draw, (1, c * kernel[0] * kernel[1], windows[0] * windows[1]))
    return (lambda c: F.fold(c, size, kernel, dilation, padding, stride)), (cols,)


@case("conv2d")
def _conv_padding_modes(draw):
    """Every padding_mode: the module's path, F.pad (reflect / replicate / circular / zeros) then an
    unpadded convolution, differentiated as one function."""
    mode = draw(st.sampled_from(["zeros", "reflect", "replicate", "circular"]))
    nd = draw(st.sampled_from([1, 2]))
    kernel = tuple(draw(st.integers(1, 3)) for _ in range(nd))
    pad = tuple(draw(st.integers(0, 1)) for _ in range(nd))
    spatial = tuple(
        max(k, p + 1) + draw(st.integers(0, 2)) for k, p in zip(kernel, pad)
    )  # reflect: pad < size
    x = values(draw, (1, 2, *spatial))
    w = values(draw, (2, 2, *kernel))
    pairs = tuple(v for p in reversed(pad) for v in (p, p))  # F.pad order: last dim first
    conv = F.conv2d if nd == 2 else F.conv1d
    f_mode = "constant" if mode == "zeros" else mode
    return (lambda x, w: conv(F.pad(x, pairs, mode=f_mode), w)), (x, w)
