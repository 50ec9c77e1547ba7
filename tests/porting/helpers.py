"""Turning one script's results into plain values, so that a run on glassgrad and a run on
PyTorch can be compared whatever library made them."""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["plain", "assert_same", "tensor_of", "close_to"]


def plain(value: Any) -> Any:
    """Tensors become ``("tensor", shape, dtype name, values)``; containers are walked."""
    if hasattr(value, "detach") and hasattr(value, "numpy"):
        array = value.detach().numpy()
        return ("tensor", tuple(array.shape), str(value.dtype).split(".")[-1], array.copy())
    if type(value).__name__ in ("dtype", "DType"):  # glassgrad.float32 and torch.float32 alike
        return ("dtype", str(value).split(".")[-1])
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(plain(v) for v in value) if not hasattr(value, "numel") else tuple(value)
    return value


def assert_same(ours: Any, theirs: Any, rtol: float = 1e-5, atol: float = 1e-6, path: str = "") -> None:
    """Equal structure, shapes, dtypes and strings; numbers equal to tolerance."""
    ours, theirs = plain(ours), plain(theirs)
    if isinstance(ours, np.ndarray) or isinstance(theirs, np.ndarray):
        np.testing.assert_allclose(ours, theirs, rtol=rtol, atol=atol, err_msg=path)
    elif isinstance(ours, tuple) and ours[:1] == ("tensor",):
        assert theirs[:1] == ("tensor",), f"{path}: a tensor against {theirs!r}"
        assert ours[1:3] == theirs[1:3], f"{path}: shape/dtype {ours[1:3]} != {theirs[1:3]}"
        np.testing.assert_allclose(ours[3], theirs[3], rtol=rtol, atol=atol, err_msg=path)
    elif isinstance(ours, (list, tuple)):
        assert isinstance(theirs, (list, tuple)) and len(ours) == len(theirs), (
            f"{path}: {ours!r} != {theirs!r}"
        )
        for i, (a, b) in enumerate(zip(ours, theirs)):
            assert_same(a, b, rtol, atol, f"{path}[{i}]")
    elif isinstance(ours, dict):
        assert ours.keys() == theirs.keys(), f"{path}: keys {list(ours)} != {list(theirs)}"
        for k in ours:
            assert_same(ours[k], theirs[k], rtol, atol, f"{path}[{k!r}]")
    elif isinstance(ours, float) or isinstance(theirs, float):
        np.testing.assert_allclose(ours, theirs, rtol=rtol, atol=atol, err_msg=path)
    else:
        assert ours == theirs, f"{path}: {ours!r} != {theirs!r}"


def tensor_of(lib: Any, a: Any, grad: bool = False) -> Any:
    """``a`` (array-like) as a tensor of ``lib`` (glassgrad or torch), requiring grad if asked."""
    t = lib.tensor(np.asarray(a))
    return t.requires_grad_() if grad else t


def close_to(a: Any, b: Any, tol: float = 1e-12) -> None:
    """Tensors ``a`` (the reference) and ``b`` of one shape and dtype agree to ``tol``, relative to
    ``a``'s largest magnitude."""
    a, b = a.detach().numpy(), b.detach().numpy()
    assert a.shape == b.shape and a.dtype == b.dtype
    np.testing.assert_allclose(b, a, rtol=tol, atol=tol * (np.abs(a).max() + 1e-300))
