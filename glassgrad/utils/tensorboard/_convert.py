"""Turning what a user logs (glassgrad Tensors, NumPy arrays, Python numbers, matplotlib figures)
into NumPy arrays and PNG bytes for the summaries.

Nothing here imports ``tensorboard``; Pillow (a dependency of ``tensorboard``) encodes the PNGs.
"""

from __future__ import annotations

import io
import math
from typing import Any

import numpy as np

from glassgrad.errors import ShapeError

__all__ = ["figure_to_image", "grid_nchw", "encode_png", "to_hwc", "to_numpy", "to_uint8"]


def to_numpy(x: Any, op: str = "SummaryWriter") -> np.ndarray:
    """``x`` as a NumPy array: a Tensor is detached (as PyTorch does for one requiring grad), a NumPy
    array is kept, a Python or NumPy scalar (a string too, as ``np.isscalar``) becomes a one-element
    array. Anything else (a list, a tuple, None) raises ``NotImplementedError``, as PyTorch's
    ``make_np`` does: loggers catch that one to skip values they cannot log (skorch's TensorBoard).

    >>> import glassgrad as gg
    >>> to_numpy(gg.tensor([1.0, 2.0], requires_grad=True)).tolist()
    [1.0, 2.0]
    >>> to_numpy(3).tolist()
    [3]
    """
    if isinstance(x, np.ndarray):
        return x
    if np.isscalar(x):
        return np.array([x])
    detach = getattr(x, "detach", None)
    if detach is not None:  # a glassgrad Tensor (or a torch one: anything with detach().numpy())
        d = detach()
        cpu = getattr(d, "cpu", None)
        if cpu is not None:
            d = cpu()
        return np.asarray(d.numpy())
    raise NotImplementedError(
        f"{op}: expected a Tensor, a NumPy array or a Python number, got {type(x).__name__}"
    )


def grid_nchw(images: np.ndarray, ncols: int = 8, op: str = "add_images") -> np.ndarray:
    """Tile ``(N, C, H, W)`` images (C in 1, 3, 4; one channel is repeated to RGB) row by row into one
    ``(C, rows*H, ncols*W)`` canvas, the empty cells black.

    >>> grid_nchw(np.ones((3, 1, 2, 2)), ncols=2).shape
    (3, 4, 4)
    """
    if images.ndim != 4 or images.shape[1] not in (1, 3, 4):
        raise ShapeError(
            f"{op}: expected images of shape (N, C, H, W) with C in 1, 3 or 4, got {tuple(images.shape)}"
        )
    if images.shape[1] == 1:
        images = np.concatenate([images] * 3, axis=1)  # (N, 1, H, W) -> (N, 3, H, W)
    n, c, h, w = images.shape
    ncols = max(1, min(n, ncols))
    nrows = math.ceil(n / ncols)
    canvas = np.zeros((c, nrows * h, ncols * w), dtype=images.dtype)
    for i in range(n):
        r, k = divmod(i, ncols)
        canvas[:, r * h : (r + 1) * h, k * w : (k + 1) * w] = images[i]
    return canvas


def to_hwc(img: np.ndarray, dataformats: str, op: str = "add_image") -> np.ndarray:
    """Reorder an image laid out as ``dataformats`` (a permutation of some of N, C, H, W) into
    ``(H, W, C)``: a batch (N) is tiled into a grid of 8 columns, a grey image becomes RGB.

    >>> to_hwc(np.zeros((3, 4, 5)), "CHW").shape
    (4, 5, 3)
    >>> to_hwc(np.zeros((2, 3, 4, 5)), "NCHW").shape
    (4, 10, 3)
    """
    if not isinstance(dataformats, str):
        raise TypeError(
            f"{op}: expected dataformats as a string such as 'CHW', got {type(dataformats).__name__}"
        )
    fmt = dataformats.upper()
    allowed = {4: "NCHW", 3: "HWC", 2: "HW"}
    if len(set(fmt)) != len(fmt) or len(fmt) not in allowed or set(fmt) - set("NCHW"):
        raise ValueError(
            f"{op}: expected dataformats to be a permutation of NCHW, CHW/HWC or HW, got {dataformats!r}"
        )
    want = allowed[len(fmt)]
    if set(fmt) != set(want):
        raise ValueError(f"{op}: expected dataformats with the letters of {want!r}, got {dataformats!r}")
    if img.ndim != len(fmt):
        raise ShapeError(
            f"{op}: expected a {len(fmt)}-D image for dataformats={dataformats!r}, got shape {tuple(img.shape)}"
        )
    if len(fmt) == 4:
        nchw = img.transpose([fmt.index(ch) for ch in "NCHW"])  # -> (N, C, H, W)
        chw = grid_nchw(nchw, op=op)  # (N, C, H, W) -> (C, H', W')
        hwc = chw.transpose(1, 2, 0)  # (C, H, W) -> (H, W, C)
    elif len(fmt) == 3:
        hwc = img.transpose([fmt.index(ch) for ch in "HWC"])  # -> (H, W, C)
        if hwc.shape[2] == 1:
            hwc = np.concatenate([hwc] * 3, axis=2)  # (H, W, 1) -> (H, W, 3)
    else:
        hw = img.transpose([fmt.index(ch) for ch in "HW"])
        hwc = np.stack([hw] * 3, axis=2)  # (H, W) -> (H, W, 3)
    if hwc.shape[2] not in (3, 4):
        raise ShapeError(
            f"{op}: expected 1, 3 or 4 channels (C) for dataformats={dataformats!r}, got shape {tuple(img.shape)}"
        )
    return hwc


def to_uint8(hwc: np.ndarray) -> np.ndarray:
    """Pixels as bytes: ``uint8`` is kept; anything else is taken to be in [0, 1] and scaled by 255,
    clipped, and truncated (as PyTorch does)."""
    if hwc.dtype == np.uint8:
        return hwc
    scaled = hwc.astype(np.float32) * 255.0
    return np.clip(scaled, 0, 255).astype(np.uint8)


def encode_png(hwc_uint8: np.ndarray, rescale: float = 1) -> tuple[bytes, int, int, int]:
    """PNG bytes of an ``(H, W, C)`` uint8 image, with its height, width and channels. Uses Pillow."""
    from PIL import Image  # a dependency of the tensorboard package

    h, w, c = hwc_uint8.shape
    im = Image.fromarray(np.ascontiguousarray(hwc_uint8))
    if rescale != 1:
        h, w = int(h * rescale), int(w * rescale)
        im = im.resize((w, h), Image.LANCZOS)
    buf = io.BytesIO()
    im.save(buf, format="PNG")
    return buf.getvalue(), h, w, c


def figure_to_image(figures: Any, close: bool = True) -> np.ndarray:
    """Render a matplotlib figure (or a list of them) to a ``(3, H, W)`` (or ``(N, 3, H, W)``) uint8
    array through the Agg canvas; each figure is closed afterwards when ``close``."""
    import matplotlib.pyplot as plt
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    def render(fig: Any) -> np.ndarray:
        canvas = FigureCanvasAgg(fig)
        canvas.draw()
        rgba = np.asarray(canvas.buffer_rgba(), dtype=np.uint8)  # (H, W, 4)
        chw = rgba[:, :, :3].transpose(2, 0, 1).copy()  # (H, W, 3) -> (3, H, W)
        if close:
            plt.close(fig)
        return chw

    if isinstance(figures, (list, tuple)):
        return np.stack([render(f) for f in figures])  # (N, 3, H, W)
    return render(figures)
