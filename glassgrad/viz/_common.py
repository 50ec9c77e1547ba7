"""Shared helpers: arrays from Tensors, new figures, saving by suffix."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["to_numpy", "new_axes", "save"]


def to_numpy(x: Any) -> np.ndarray:
    """A NumPy array from a Tensor (detached), an ndarray or a nested list."""
    data = getattr(x, "_data", None)
    return np.asarray(data if data is not None else x)


def new_axes(ax: Any = None, figsize: tuple = (5, 3.5)) -> tuple[Any, Any]:
    """``(figure, axes)``: the given axes and its figure, or a new figure."""
    import matplotlib.pyplot as plt

    if ax is not None:
        return ax.figure, ax
    fig, ax = plt.subplots(figsize=figsize)
    return fig, ax


def save(fig: Any, path: str | Path, dpi: int = 100) -> Path:
    """Save a figure as PNG or SVG (by suffix) and close it."""
    import matplotlib.pyplot as plt

    path = Path(path)
    if path.suffix.lower() not in (".png", ".svg"):
        raise ValueError(f"viz.save: expected a .png or .svg file, got {path.name!r}")
    fig.savefig(path, dpi=dpi, bbox_inches="tight")
    plt.close(fig)
    return path
