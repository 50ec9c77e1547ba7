"""Image functions: resizing (``interpolate``), pixel and channel shuffles, and channel dropout.

All but the resize are composites of primitives (reshape, permute, mul). A resize is one
``ops.resample.Resample`` node per resized axis, whose backward adds each output gradient back to
the input pixels it read, weighted as in the forward.

Resizing is separable: nearest and (bi/tri)linear interpolation treat each spatial axis on its own,
so ``interpolate`` resizes one axis after another. Along one axis of ``n_in`` positions resized to
``n_out``, output position ``i`` reads source coordinate ``s(i)``:

    nearest          s = floor(i * scale)                      (one source pixel)
    nearest-exact    s = floor((i + 0.5) * scale)
    linear           s = (i + 0.5) * scale - 0.5, clamped at 0  (align_corners=False)
                     s = i * (n_in - 1) / (n_out - 1)            (align_corners=True)
                     out = (1 - l) * x[floor(s)] + l * x[floor(s) + 1],  l = s - floor(s)

with ``scale = n_in / n_out``, or ``1 / scale_factor`` when a scale factor was given (as PyTorch;
``interpolate`` also follows PyTorch's special cases for axes that keep or double their size).
"""

from __future__ import annotations

import math
import numbers
import warnings
from typing import Any

import numpy as np

from glassgrad.backend import may_share_memory
from glassgrad.errors import ConversionOverflowError, KernelRankError, ShapeError, kernel_dtype_error
from glassgrad.nn.functional.image_aa import aa_matrix
from glassgrad.nn.functional.image_taps import cubic_taps, has_nonfinite, resize_taps, taps_matrix
from glassgrad.nn.functional.image_uint8 import resize_uint8
from glassgrad.nn.functional.layers import channel_dropout, dropout, scaled_dropout, warn_dropout3d_dims
from glassgrad.nn.functional.pool3d import adaptive_avg_pool3d
from glassgrad.nn.functional.pooling import adaptive_avg_pool1d, adaptive_avg_pool2d
from glassgrad.operand_errors import int_arg, size_int
from glassgrad.ops import conversion as _K
from glassgrad.ops import resample as _R
from glassgrad.ops.layout import channels_last_if
from glassgrad.ops.matmul import matmul
from glassgrad.tensor import Tensor
from glassgrad.user_frames import user_stacklevel

__all__ = [
    "interpolate",
    "pixel_shuffle",
    "pixel_unshuffle",
    "channel_shuffle",
    "dropout1d",
    "dropout2d",
    "dropout3d",
]

_LINEAR = {"linear": 1, "bilinear": 2, "trilinear": 3}


# ------------------------------------------------------------------ interpolate
def _out_sizes(op: str, spatial: tuple, size: Any, scale_factor: Any) -> tuple[tuple, tuple]:
    """Output sizes and per-axis scale factors (None where the size was given)."""
    k = len(spatial)
    if (size is None) == (scale_factor is None):
        raise ValueError(f"{op}: expected exactly one of size and scale_factor, got {size=}, {scale_factor=}")
    if size is not None:
        sizes = [size_int(s) for s in (size if isinstance(size, list | tuple) else (size,) * k)]
        if None in sizes:  # a float, as PyTorch refuses it (int() truncated it); a 0-d tensor passes
            raise TypeError(f"{op}: expected size to be one of int or a tuple of ints, got {size!r}")
        if len(sizes) != k or any(s <= 0 for s in sizes):
            raise ShapeError(
                f"{op}: expected {k} positive output sizes for spatial shape {spatial}, got {size}"
            )
        return tuple(sizes), (None,) * k
    factors = (scale_factor,) * k if isinstance(scale_factor, numbers.Real) else tuple(scale_factor)
    if len(factors) != k:  # (a factor <= 0 is refused below, by its output size, as PyTorch)
        raise ValueError(f"{op}: expected {k} scale factors for spatial shape {spatial}, got {scale_factor}")
    prods = [n * float(f) for n, f in zip(spatial, factors)]
    if not all(abs(p) < 2.0**63 for p in prods):  # NaN too: PyTorch's RuntimeError, not NumPy's ValueError
        raise ConversionOverflowError(
            f"{op}: value cannot be converted to type int64_t without overflow (scale_factor {scale_factor})"
        )
    sizes = tuple(math.floor(p) for p in prods)
    if min(sizes) <= 0:  # area mode too: PyTorch computes an empty result there but cannot backward
        raise ShapeError(
            f"{op}: scale_factor {scale_factor} gives an empty output for spatial shape {spatial}"
        )
    return sizes, tuple(float(f) for f in factors)


def _source_coords(n_in: int, n_out: int, factor: float | None, mode: str, align_corners: bool, dt) -> Any:
    """Source coordinate of each output position along one axis (see the module docstring).

    Computed in the input's precision (float32 for float32 input), as PyTorch does, so that a
    coordinate that lands exactly on a pixel boundary rounds the same way.
    """
    i = np.arange(n_out, dtype=dt)
    if mode != "nearest-exact" and mode != "nearest" and align_corners:
        step = dt.type((n_in - 1) / (n_out - 1)) if n_out > 1 else dt.type(0)
        return i * step
    scale = dt.type(1.0 / factor) if factor is not None else dt.type(n_in) / dt.type(n_out)
    if mode == "nearest":
        return i * scale
    if mode == "nearest-exact":
        return (i + dt.type(0.5)) * scale
    return np.maximum(_half_pixel(i, scale, dt), 0)


def _half_pixel(i: Any, scale: Any, dt: Any) -> Any:
    """``(i + 0.5) * scale - 0.5`` rounded once, as the fused multiply-add PyTorch's CPU linear
    kernels (forward and backward) compile to: rounding the product first moves a float32
    coordinate by up to half an ulp of the product, ~2e-6 in the weights on a 64 -> 96 resize."""
    if dt.itemsize >= 8:
        return (i + dt.type(0.5)) * scale - dt.type(0.5)
    # a float32 product is exact in float64, and so is the sum with 0.5: one rounding at the end
    return ((i + dt.type(0.5)).astype(np.float64) * np.float64(scale) - 0.5).astype(dt)


def _resize_axis(
    x: Tensor, axis: int, n_out: int, factor: float | None, mode: str, align_corners: bool
) -> Tensor:
    """Resize one axis of ``x`` to ``n_out`` positions."""
    n_in = x.shape[axis]
    dt = x._data.dtype if x._data.dtype.itemsize >= 4 else np.dtype(np.float32)
    src = _source_coords(n_in, n_out, factor, mode, align_corners, np.dtype(dt))
    lo = np.minimum(np.floor(src).astype(np.int64), n_in - 1)  # (n_out,)
    if mode.startswith("nearest"):
        return _R.resample(x, axis, lo)
    hi = np.minimum(lo + 1, n_in - 1)
    lam = (src - lo).astype(x._data.dtype)  # the weight of the upper neighbour, in [0, 1)
    return _R.resample(x, axis, lo, hi, lam)


def _kernel(mode: str, k: int) -> str:
    """The CPU kernel PyTorch names when it has none for an input dtype (an integer one but uint8's
    modes): ``interpolate``'s refusal is its ``NotImplementedError``."""
    if mode == "area":
        return "adaptive_avg_pool3d_cpu" if k == 3 else "adaptive_avg_pool2d"
    kind = "nearest" if mode.startswith("nearest") else "cubic" if mode == "bicubic" else "linear"
    if k == 2 and kind != "cubic":
        return f"upsample_{'nearest' if kind == 'nearest' else 'bilinear'}2d_channels_last"
    return f"compute_indices_weights_{kind}"


def interpolate(
    input: Tensor,  # noqa: A002 - PyTorch's names
    size: Any = None,
    scale_factor: Any = None,
    mode: str = "nearest",
    align_corners: bool | None = None,
    recompute_scale_factor: bool | None = None,
    antialias: bool = False,
) -> Tensor:
    """Resize the spatial dims of ``input`` to ``size``, or by ``scale_factor``.

    Modes: ``"nearest"``, ``"nearest-exact"``, ``"area"`` (adaptive average pooling), ``"bicubic"``
    (2 spatial dims) and ``"linear"`` / ``"bilinear"`` / ``"trilinear"`` for 1, 2 and 3 spatial
    dims, with ``align_corners`` (default False): True lines up the centres of the corner pixels of
    input and output, False their outer edges. ``antialias=True`` (bilinear and bicubic, 4-D input)
    widens the kernel when downscaling so that every input pixel counts (PIL's resize). The backward is the true vector-Jacobian product of
    the forward; PyTorch's bicubic backward copies the gradient through unchanged when the output
    size equals the input size, even where a scale factor other than 1 moved the sampling points in
    its forward, and its anti-aliased backward resamples an axis of unchanged size that its forward
    leaves alone (ours passes it through). With a ``scale_factor`` the
    coordinates use ``1 / scale_factor`` unless ``recompute_scale_factor=True`` (then in/out sizes).

    Shape:
        input: (N, C, *S) with 1 to 3 spatial dims S; returns (N, C, *S_out).

    >>> import glassgrad as gg
    >>> import glassgrad.nn.functional as F
    >>> F.interpolate(gg.tensor([[[1.0, 2.0]]]), scale_factor=2).tolist()
    [[[1.0, 1.0, 2.0, 2.0]]]
    """
    op = "interpolate"
    if not 3 <= input.ndim <= 5:
        raise KernelRankError(f"{op}: expected input (N, C, *S) with 1 to 3 spatial dims, got {input.shape}")
    # uint8 images resize as in PyTorch (masks, torchvision's Resize of photos): see image_uint8.py
    u8 = input._data.dtype == np.uint8 and (mode.startswith("nearest") or mode in ("bilinear", "bicubic"))
    if input._data.dtype.kind != "f" and not u8:
        raise kernel_dtype_error(op, _kernel(mode, input.ndim - 2), input._data.dtype)
    if input._data.dtype == np.float16 and not mode.startswith("nearest"):
        # PyTorch's CPU kernels weigh float16 pixels in float32 and round once (both ways); float16
        # weights and a rounding after each axis put bilinear results thousands of ulps off where
        # neighbours cancel (bicubic 4x PyTorch's own error)
        out = interpolate(
            _K.cast(input, np.float32),
            size,
            scale_factor,
            mode,
            align_corners,
            recompute_scale_factor,
            antialias,
        )
        return _K.cast(out, np.float16)
    if antialias and not (mode in ("bilinear", "bicubic") and input.ndim == 4):
        raise ValueError(
            f"{op}: antialias=True is restricted to the bilinear and bicubic modes on a 4-D input "
            f"(N, C, H, W), got mode {mode!r} and input {tuple(input.shape)}"
        )
    k = input.ndim - 2
    if mode in ("nearest", "nearest-exact"):
        if align_corners is not None:
            raise ValueError(f"{op}: align_corners can only be set with the linear modes, got mode {mode!r}")
    elif mode in ("area", "bicubic"):
        if mode == "area" and align_corners is not None:
            raise ValueError(f"{op}: align_corners can only be set with the linear modes, got mode {mode!r}")
        if mode == "bicubic" and k != 2:
            raise KernelRankError(f"{op}: mode 'bicubic' expects 2 spatial dims, got input {input.shape}")
    elif mode in _LINEAR:
        if _LINEAR[mode] != k:
            raise KernelRankError(
                f"{op}: mode {mode!r} expects {_LINEAR[mode]} spatial dims, got input {input.shape}"
            )
    else:
        raise NotImplementedError(
            f"{op}: expected mode nearest, nearest-exact, linear, bilinear, bicubic, trilinear or area, "
            f"got {mode!r}"
        )
    if recompute_scale_factor and size is not None:
        raise ValueError(
            f"{op}: recompute_scale_factor is not meaningful with an explicit size, got size={size}"
        )
    sizes, factors = _out_sizes(op, tuple(input.shape[2:]), size, scale_factor)
    if recompute_scale_factor:
        factors = (None,) * k
    if mode == "area":  # PyTorch's area mode is adaptive average pooling to the output size
        return (adaptive_avg_pool1d, adaptive_avg_pool2d, adaptive_avg_pool3d)[k - 1](input, sizes)
    if u8 and not mode.startswith("nearest"):
        return resize_uint8(input, sizes, factors, bool(align_corners), mode, antialias)
    if mode == "bicubic" or antialias:  # (Ho, H) @ (N, C, H, W) @ (W, Wo): one fixed matrix per axis
        (h, w), dt = input.shape[2:], input._data.dtype
        if has_nonfinite(input):  # PyTorch's taps alone: the matmul's other, 0 weights would give 0 * inf
            return channels_last_if(
                _own(resize_taps(input, sizes, factors, align_corners, mode, antialias), input), input
            )
        if antialias:  # kernels widened by the downscale factor (image_aa.py)
            # an axis that keeps its size is skipped, as PyTorch's separable kernel skips it: its
            # identity product would spread an inf or nan pixel along the axis (0 * inf)
            out = input
            if w != sizes[1]:
                cols = aa_matrix(w, sizes[1], factors[1], bool(align_corners), mode, dt)
                out = matmul(out, Tensor(cols.T.copy(), _wrap=True))
            if h != sizes[0]:
                out = matmul(
                    Tensor(aa_matrix(h, sizes[0], factors[0], bool(align_corners), mode, dt), _wrap=True), out
                )
            return channels_last_if(_own(out, input), input)
        rows = taps_matrix(*cubic_taps(h, sizes[0], factors[0], bool(align_corners), dt), h)
        cols = taps_matrix(*cubic_taps(w, sizes[1], factors[1], bool(align_corners), dt), w)
        return channels_last_if(
            matmul(Tensor(rows, _wrap=True), matmul(input, Tensor(cols.T.copy(), _wrap=True))), input
        )
    out = input
    for axis, (n_out, f) in enumerate(zip(sizes, factors), start=2):
        n_in = input.shape[axis]
        # PyTorch's CPU kernels, followed here: a linear axis that keeps its size is left alone, and
        # 2-D nearest treats "same size" and "twice the size" exactly (i and i // 2) whatever the
        # factor; elsewhere a factor like 1.2 on 3 pixels still moves the sampling points.
        if mode in _LINEAR and n_out == n_in:
            continue
        if mode == "nearest" and k == 2 and n_out in (n_in, 2 * n_in):
            f = None
        if n_out != n_in or f not in (None, 1.0):
            out = _resize_axis(out, axis, n_out, f, mode, bool(align_corners))
    return channels_last_if(_own(out, input), input)  # a channels-last image stays channels-last (PyTorch)


def _own(out: Tensor, input: Tensor) -> Tensor:  # noqa: A002
    """``out``, copied when it is ``input`` or a view of its memory (nothing resized, a shuffle by
    1): PyTorch's resizes and shuffles always return a new tensor, so that an in-place op on the
    result (``up += skip``) never writes into the input."""
    if out is input or (out._data.size and may_share_memory(out._data, input._data)):
        return out.clone()
    return out


# ------------------------------------------------------------------ shuffles
def pixel_shuffle(input: Tensor, upscale_factor: int) -> Tensor:  # noqa: A002
    """Move blocks of r*r channels into r x r pixel blocks (sub-pixel convolution's last step).

    out[n, c, h*r + i, w*r + j] = input[n, c*r*r + i*r + j, h, w].

    Shape:
        input: (*, C*r*r, H, W); returns (*, C, H*r, W*r).
    """
    r = int_arg("pixel_shuffle", "upscale_factor", upscale_factor)
    if input.ndim < 3 or r <= 0 or input.shape[-3] % (r * r):
        raise ShapeError(
            f"pixel_shuffle: expected input (*, C*{r}*{r}, H, W) with channels divisible by {r * r}, "
            f"got {input.shape}"
        )
    *lead, c, h, w = input.shape
    x = input.reshape(*lead, c // (r * r), r, r, h, w)  # (*, C*r*r, H, W) -> (*, C, r, r, H, W)
    n = len(lead)
    x = x.permute(*range(n), n, n + 3, n + 1, n + 4, n + 2)  # -> (*, C, H, r, W, r)
    out = _own(x.reshape(*lead, c // (r * r), h * r, w * r), input)  # -> (*, C, H*r, W*r)
    return channels_last_if(out, input)  # a channels-last image stays so (PyTorch)


def pixel_unshuffle(input: Tensor, downscale_factor: int) -> Tensor:  # noqa: A002
    """The inverse of ``pixel_shuffle``: each r x r pixel block becomes r*r channels.

    Shape:
        input: (*, C, H*r, W*r); returns (*, C*r*r, H, W).
    """
    r = int_arg("pixel_unshuffle", "downscale_factor", downscale_factor)
    if input.ndim < 3 or r <= 0 or input.shape[-1] % r or input.shape[-2] % r:
        raise ShapeError(
            f"pixel_unshuffle: expected input (*, C, H*{r}, W*{r}) with H and W divisible by {r}, got {input.shape}"
        )
    *lead, c, hr, wr = input.shape
    h, w = hr // r, wr // r
    x = input.reshape(*lead, c, h, r, w, r)  # (*, C, H*r, W*r) -> (*, C, H, r, W, r)
    n = len(lead)
    x = x.permute(*range(n), n, n + 2, n + 4, n + 1, n + 3)  # -> (*, C, r, r, H, W)
    out = _own(x.reshape(*lead, c * r * r, h, w), input)  # -> (*, C*r*r, H, W)
    return channels_last_if(out, input)  # a channels-last image stays so (PyTorch)


def channel_shuffle(input: Tensor, groups: int) -> Tensor:  # noqa: A002
    """Interleave the channels of ``groups`` groups (ShuffleNet): channel g*(C/g) + k moves to k*g + g.

    Shape:
        input: (N, C, *) with C divisible by groups; returns the same shape.
    """
    g = int_arg("channel_shuffle", "groups", groups)  # a float: PyTorch's TypeError
    if input.ndim < 3 or g <= 0 or input.shape[1] % g:
        raise ShapeError(
            f"channel_shuffle: expected input (N, C, *) with C divisible by groups={g}, got {input.shape}"
        )
    n, c, *rest = input.shape
    x = input.reshape(n, g, c // g, *rest)  # (N, C, *) -> (N, g, C/g, *)
    x = x.transpose(1, 2)  # -> (N, C/g, g, *)
    return channels_last_if(_own(x.reshape(n, c, *rest), input), input)  # -> (N, C, *), layout kept


# ------------------------------------------------------------------ channel dropout
def dropout1d(input: Tensor, p: float = 0.5, training: bool = True, inplace: bool = False) -> Tensor:  # noqa: A002
    """Zero whole channels (each a length-L signal) with probability ``p``; inverted scaling.

    Shape:
        input: (N, C, L) or unbatched (C, L); returns the same shape.
    """
    if input.ndim not in (2, 3):
        raise ShapeError(f"dropout1d: expected input (N, C, L) or (C, L), got {input.shape}")
    return channel_dropout("dropout1d", input, p, training, input.ndim == 3, inplace)


def dropout2d(input: Tensor, p: float = 0.5, training: bool = True, inplace: bool = False) -> Tensor:  # noqa: A002
    """Zero whole channels (each an H x W feature map) with probability ``p``; inverted scaling.

    A 3-D input is taken as (N, C, L), one draw per (sample, channel), as PyTorch does today. A
    2-D input (deprecated in PyTorch, still used by the examples) warns and is dropped element-wise,
    as PyTorch does.

    Shape:
        input: (N, C, H, W) or (N, C, L); returns the same shape.
    """
    if input.ndim == 2:
        warnings.warn(
            "dropout2d: a 2-D input is deprecated (PyTorch will refuse it); it is dropped element-wise, "
            "as by dropout",
            UserWarning,
            stacklevel=user_stacklevel(),
        )
        return dropout(input, p, training, inplace)
    if input.ndim not in (3, 4, 5):
        raise ShapeError(f"dropout2d: expected input (N, C, H, W) or (N, C, L), got {input.shape}")
    if input.ndim == 5:  # PyTorch warns, then drops whole channels as for 4-D
        warnings.warn(
            "dropout2d: a 5-D input is deprecated (PyTorch will refuse it); each (sample, channel) "
            "is dropped whole, as dropout3d does",
            UserWarning,
            stacklevel=user_stacklevel(),
        )
    if input.ndim == 3:  # on every call, in training and in eval, as PyTorch's (its opening words too)
        warnings.warn(
            "dropout2d: Received a 3D input; it is read as (N, C, L) and each channel is dropped whole "
            "(channel-wise 1-D dropout). PyTorch plans to read a 3-D input as one unbatched (C, H, W) "
            "map; dropout1d keeps today's behaviour",
            UserWarning,
            stacklevel=user_stacklevel(),
        )
    return scaled_dropout("dropout2d", input, p, training, 2, inplace)


def dropout3d(input: Tensor, p: float = 0.5, training: bool = True, inplace: bool = False) -> Tensor:  # noqa: A002
    """Zero whole channels (each a D x H x W volume) with probability ``p``; inverted scaling.

    Any other number of dims (1 to 3) warns and is read as unbatched, as PyTorch's.

    Shape:
        input: (N, C, D, H, W) or unbatched (C, D, H, W); returns the same shape.
    """
    if input.ndim == 0:
        raise ShapeError(f"dropout3d: expected input (N, C, D, H, W) or (C, D, H, W), got {input.shape}")
    if input.ndim not in (4, 5):
        warn_dropout3d_dims(input.ndim)
    return channel_dropout("dropout3d", input, p, training, input.ndim == 5, inplace)
