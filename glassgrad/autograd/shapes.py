"""Broadcasting helpers. ``unbroadcast`` is the one place where broadcasting is undone in backward."""

from __future__ import annotations

from glassgrad.backend import array_module
from glassgrad.errors import ShapeError, size_mismatch

__all__ = ["broadcast_shape", "unbroadcast"]


def broadcast_shape(*shapes: tuple[int, ...], op: str = "broadcast") -> tuple[int, ...]:
    """The NumPy broadcast of ``shapes``; raises ``ShapeError`` naming ``op`` when there is none."""
    ndim = max((len(s) for s in shapes), default=0)
    out = []
    for i in range(-ndim, 0):
        size = 1
        for s in shapes:
            if len(s) >= -i:
                d = s[i]
                if d != 1:
                    if size not in (1, d):
                        shown = " and ".join(str(tuple(s)) for s in shapes)
                        sizes = size_mismatch(shapes)
                        raise ShapeError(f"{op}: expected broadcastable shapes, got {shown}{sizes}")
                    size = d
        out.append(size)
    return tuple(out)


def unbroadcast(grad, shape: tuple[int, ...]):
    """Sum ``grad`` over the axes that broadcasting added or stretched, so it has ``shape``.

    Shape:
        grad: ``broadcast_shape(shape, other)``; returns ``shape``.
    """
    if grad.shape == shape:
        return grad
    xp = array_module(grad)
    extra = grad.ndim - len(shape)
    if extra < 0:
        raise ShapeError(
            f"unbroadcast: expected a gradient with at least {len(shape)} dims, got {grad.shape}"
        )
    axes = tuple(range(extra)) + tuple(
        i + extra for i, d in enumerate(shape) if d == 1 and grad.shape[i + extra] != 1
    )
    if axes:
        # float32/float16 summed in float64: NumPy adds a leading axis's rows one by one, an error
        # growing with their number (8x PyTorch's cascade sum over a batch's 2,304 tokens), which
        # made training drift several times further from float64 than PyTorch's float32 does.
        acc = xp.float64 if grad.dtype in (xp.float32, xp.float16) else None
        grad = xp.sum(grad, axis=axes, keepdims=True, dtype=acc).astype(grad.dtype, copy=False)
    if extra:
        grad = grad.reshape(grad.shape[extra:])
    if grad.shape != shape:
        raise ShapeError(f"unbroadcast: expected a gradient broadcastable to {shape}, got {grad.shape}")
    return grad
