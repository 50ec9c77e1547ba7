"""Sampling functions: ``gumbel_softmax`` (differentiable discrete samples), ``affine_grid`` and
``grid_sample`` (spatial transformers), as ``torch.nn.functional``.

``gumbel_softmax`` and ``affine_grid`` are composites (a softmax of noisy logits; one matmul of a
fixed base grid with ``theta``); ``grid_sample`` is the fused primitive of ``glassgrad.ops.grid_sample``.
"""

from __future__ import annotations

import warnings
from typing import Any

from glassgrad.backend import array_module
from glassgrad.errors import DTypeError, ShapeError, kernel_dtype_error
from glassgrad.linspace_kernel import linspace_values
from glassgrad.meta_array import valued
from glassgrad.nn.functional.activation import softmax
from glassgrad.ops.grid_sample import GridSample
from glassgrad.ops.matmul import matmul
from glassgrad.random import get_generator
from glassgrad.tensor import Tensor
from glassgrad.user_frames import user_stacklevel

__all__ = ["gumbel_softmax", "affine_grid", "grid_sample"]


def gumbel_softmax(
    logits: Tensor, tau: float = 1, hard: bool = False, eps: float = 1e-10, dim: int = -1
) -> Tensor:
    """A sample from the Gumbel-softmax (Concrete) distribution over ``dim``.

    ``y = softmax((logits + G) / tau)`` with ``G = -log(E)``, ``E ~ Exponential(1)`` (Gumbel
    noise). With ``hard=True`` the result is the one-hot vector of ``argmax y`` in the forward
    pass, while the gradient is that of the soft ``y`` (straight-through: ``y_hard - y.detach() + y``).
    ``eps`` is unused, as in PyTorch. The noise comes from glassgrad's generator (``manual_seed``).

    Shape:
        logits ``(*)``; returns ``(*)``, summing to 1 over ``dim``.

    >>> import glassgrad as gg
    >>> y = gumbel_softmax(gg.zeros(2, 5), tau=0.5, hard=True)
    >>> y.sum(-1).tolist()
    [1.0, 1.0]
    """
    if logits._data.dtype.kind != "f":
        raise DTypeError(f"gumbel_softmax: expected floating-point logits, got {logits.dtype}")
    xp = array_module(logits._data)
    if valued(logits._data):
        noise = xp.asarray(get_generator().exponential(size=logits.shape)).astype(logits._data.dtype)
    else:  # meta: nothing to draw (the generator is not advanced)
        noise = xp.ones(logits.shape, dtype=logits._data.dtype)
    gumbels = Tensor(-xp.log(noise), _wrap=True)
    y = softmax((logits + gumbels) / tau, dim=dim)
    if not hard:
        return y
    if y.ndim == 0:  # one class: the sample is 1
        return Tensor(xp.ones_like(y._data), _wrap=True) - y.detach() + y
    d = dim % y.ndim
    onehot = xp.zeros_like(y._data)
    xp.put_along_axis(onehot, xp.expand_dims(y._data.argmax(axis=d), d), 1.0, axis=d)
    return Tensor(onehot, _wrap=True) - y.detach() + y


def _linspace(xp: Any, n: int, align_corners: bool, dtype: Any) -> Any:
    """The normalised coordinates of ``n`` pixel centres (corners with ``align_corners``); 0 for one.
    PyTorch's values bit for bit: its ``linspace(-1, 1, n)``, times ``n - 1`` and over ``n`` in the
    grid's dtype (a 1-ulp difference moves a sample point across a nearest-neighbour tie)."""
    if n <= 1:
        return xp.zeros(max(n, 0), dtype=dtype)
    dt = xp.dtype(dtype)
    steps = xp.asarray(linspace_values(-1.0, 1.0, n, dt))
    return steps if align_corners else steps * dt.type(n - 1) / dt.type(n)


def affine_grid(theta: Tensor, size: Any, align_corners: bool | None = None) -> Tensor:
    """The sampling grid of an affine map, for ``grid_sample``: ``grid[n, i, j] = theta[n] @ (x_j, y_i, 1)``.

    ``x_j, y_i`` are the normalised coordinates of the output pixels (``-1`` and ``1`` are the
    corner pixels' centres with ``align_corners=True``, the image's edges otherwise). One matmul of
    the fixed base grid with ``theta``, so ``theta`` gets its gradient from matmul's.

    Shape:
        theta ``(N, 2, 3)`` with size ``(N, C, H, W)`` -> ``(N, H, W, 2)``; theta ``(N, 3, 4)`` with
        size ``(N, C, D, H, W)`` -> ``(N, D, H, W, 3)``.

    >>> import glassgrad as gg
    >>> affine_grid(gg.tensor([[[1.0, 0, 0], [0, 1, 0]]]), (1, 1, 2, 2), align_corners=True).tolist()
    [[[[-1.0, -1.0], [1.0, -1.0]], [[-1.0, 1.0], [1.0, 1.0]]]]
    """
    if align_corners is None:
        warnings.warn(
            "affine_grid: the default align_corners is False; pass align_corners explicitly "
            "(PyTorch's behaviour changed to False in 1.3)",
            UserWarning,
            stacklevel=user_stacklevel(),
        )
        align_corners = False
    if theta._data.dtype.kind != "f":
        raise ValueError(f"affine_grid: Expected theta to have floating point type, but got {theta.dtype}")
    size = tuple(int(s) for s in size)
    if len(size) not in (4, 5):
        raise NotImplementedError(
            f"affine_grid only supports 4D and 5D sizes, for 2D and 3D affine transforms, respectively. Got size {size}."
        )
    nd = len(size) - 2
    if theta.ndim != 3 or tuple(theta.shape[1:]) != (nd, nd + 1) or theta.shape[0] != size[0]:
        raise ShapeError(
            f"affine_grid: expected theta of shape ({size[0]}, {nd}, {nd + 1}) for size {size}, got {tuple(theta.shape)}"
        )
    if align_corners and min(size[2:]) == 1:
        # PyTorch's warning: a unit-size axis has no corners to align, so its one point sits at 0
        warnings.warn(
            "Since version 1.3.0, affine_grid behavior has changed for unit-size grids when "
            "align_corners=True. This is not an intended use case of affine_grid. See the "
            "documentation of affine_grid for details.",
            UserWarning,
            stacklevel=user_stacklevel(),
        )
    if min(size) <= 0:
        raise ValueError(f"affine_grid: expected non-zero, positive output size, got {size}")
    xp = array_module(theta._data)
    axes = [_linspace(xp, s, align_corners, theta._data.dtype) for s in size[2:]]  # (D,) H, W
    mesh = xp.meshgrid(*axes, indexing="ij")  # each (D,) H, W
    base = xp.stack([*reversed(mesh), xp.ones_like(mesh[0])], axis=-1)  # (..., x, y, (z,) 1)
    base = Tensor(base.reshape(1, -1, nd + 1), _wrap=True)  # (1, L, nd + 1)
    grid = matmul(base, theta.transpose(1, 2))  # (1, L, nd + 1) @ (N, nd + 1, nd) -> (N, L, nd)
    return grid.reshape(size[0], *size[2:], nd)


_MODES = ("bilinear", "nearest", "bicubic")
_PADDING = ("zeros", "border", "reflection")
# PyTorch's public tables of the two modes (the numbers its kernels take)
GRID_SAMPLE_INTERPOLATION_MODES = {m: i for i, m in enumerate(_MODES)}
GRID_SAMPLE_PADDING_MODES = {m: i for i, m in enumerate(_PADDING)}


def grid_sample(
    input: Tensor,  # noqa: A002
    grid: Tensor,
    mode: str = "bilinear",
    padding_mode: str = "zeros",
    align_corners: bool | None = None,
) -> Tensor:
    """Sample ``input`` at the points of ``grid`` (normalised ``(x, y[, z])`` in ``[-1, 1]``).

    Args:
        mode: ``"bilinear"`` (the 4 neighbours weighted; 8, trilinear, for 5-D input),
            ``"nearest"`` (no gradient to grid) or ``"bicubic"`` (the 4 x 4 neighbours, 4-D only).
        padding_mode: points outside the image read ``"zeros"``, the ``"border"`` pixels, or the
            image folded back (``"reflection"``).
        align_corners: whether -1 and 1 are the centres of the corner pixels (True) or the image's
            outer edges (False, the default).

    Gradients flow to ``input`` and (bilinear, bicubic) to ``grid``, as PyTorch's.

    Shape:
        input ``(N, C, H, W)``, grid ``(N, Ho, Wo, 2)`` -> ``(N, C, Ho, Wo)``; input
        ``(N, C, D, H, W)``, grid ``(N, Do, Ho, Wo, 3)`` -> ``(N, C, Do, Ho, Wo)``.

    >>> import glassgrad as gg
    >>> img = gg.arange(4.0).reshape(1, 1, 2, 2)
    >>> grid_sample(img, gg.zeros(1, 1, 1, 2), align_corners=True).item()  # the centre: the mean
    1.5
    """
    if mode not in _MODES:
        raise ValueError(f"grid_sample: expected mode 'bilinear', 'nearest' or 'bicubic', got {mode!r}")
    if padding_mode not in _PADDING:
        raise ValueError(
            f"grid_sample: expected padding_mode 'zeros', 'border' or 'reflection', got {padding_mode!r}"
        )
    if align_corners is None:
        warnings.warn(
            "grid_sample: the default align_corners is False; pass align_corners explicitly "
            "(PyTorch's behaviour changed to False in 1.3)",
            UserWarning,
            stacklevel=user_stacklevel(),
        )
        align_corners = False
    nd = input.ndim - 2
    if nd not in (2, 3) or grid.ndim != nd + 2 or grid.shape[-1] != nd or grid.shape[0] != input.shape[0]:
        raise ShapeError(
            f"grid_sample: expected input (N, C, H, W) with grid (N, Ho, Wo, 2), or input (N, C, D, H, W) "
            f"with grid (N, Do, Ho, Wo, 3), with the same N; got input {tuple(input.shape)} and grid "
            f"{tuple(grid.shape)}"
        )
    if mode == "bicubic" and nd == 3:
        raise ShapeError(f"grid_sample: mode 'bicubic' takes 4-D input only, got input {tuple(input.shape)}")
    if input._data.dtype.kind != "f":  # PyTorch's kernels have floating dtypes only, whatever the grid's
        kernel = "grid_sampler_2d_cpu_kernel_impl" if nd == 2 else "grid_sampler3d_cpu"
        raise kernel_dtype_error("grid_sample", kernel, input._data.dtype)
    if input._data.dtype != grid._data.dtype:
        raise DTypeError(
            f"grid_sample: expected floating-point input and grid of one dtype, got {input.dtype} and {grid.dtype}"
        )
    if min(input.shape[2:]) < 1:
        raise ShapeError(f"grid_sample: expected non-empty spatial dims, got input {tuple(input.shape)}")
    return GridSample.apply(
        input, grid, mode=mode, padding_mode=padding_mode, align_corners=bool(align_corners)
    )
