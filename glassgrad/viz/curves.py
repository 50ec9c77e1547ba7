"""Training curves, decision boundaries, activation functions with their derivatives, and
gradient flow per layer and per time step."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from glassgrad.viz._common import new_axes, to_numpy

__all__ = [
    "plot_training_curves",
    "plot_decision_boundary",
    "plot_activations",
    "plot_gradient_flow",
    "plot_gradient_flow_time",
]


def plot_training_curves(history: dict[str, Sequence[float]], ax: Any = None, logy: bool = False) -> Any:
    """One line per series (``{"train loss": [...], "val loss": [...]}``) against the step."""
    fig, ax = new_axes(ax)
    for name, values in history.items():
        ax.plot(np.arange(len(values)), np.asarray(values, dtype=float), label=name)
    ax.set_xlabel("step")
    if logy:
        ax.set_yscale("log")
    ax.legend()
    ax.grid(alpha=0.3)
    return fig


def plot_decision_boundary(model: Callable, X: Any, y: Any, ax: Any = None, resolution: int = 200) -> Any:
    """The regions a 2-D classifier assigns to each class, with the data on top.

    Shape:
        X: (N, 2) points; y: (N,) labels. ``model`` maps (M, 2) float32 tensors to (M, C)
        logits, or (M,) / (M, 1) scores thresholded at 0.
    """
    import glassgrad as gg

    X, y = to_numpy(X).astype(float), to_numpy(y).reshape(-1)
    pad = 0.1 * (X.max(0) - X.min(0) + 1e-9)
    lo, hi = X.min(0) - pad, X.max(0) + pad
    xs, ys = np.linspace(lo[0], hi[0], resolution), np.linspace(lo[1], hi[1], resolution)
    gx, gy = np.meshgrid(xs, ys)
    grid = np.stack([gx.ravel(), gy.ravel()], axis=1).astype(np.float32)  # (R*R, 2)
    with gg.no_grad():
        out = to_numpy(model(gg.tensor(grid)))
    labels = out.argmax(-1) if out.ndim == 2 and out.shape[1] > 1 else (out.reshape(-1) > 0).astype(int)
    fig, ax = new_axes(ax, (4.5, 4))
    ax.contourf(gx, gy, labels.reshape(gx.shape), alpha=0.3, cmap="coolwarm")
    ax.scatter(X[:, 0], X[:, 1], c=y, cmap="coolwarm", edgecolors="k", s=18)
    ax.set_title("decision boundary")
    return fig


_ACTS: dict[str, Callable] = {
    "sigmoid": lambda t: t.sigmoid(),
    "tanh": lambda t: t.tanh(),
    "relu": lambda t: t.relu(),
}


def plot_activations(
    names: Sequence[str] = ("sigmoid", "tanh", "relu", "gelu", "leaky_relu"), lo: float = -4, hi: float = 4
) -> Any:
    """Each activation (solid) and its derivative by autograd (dashed), one panel per function."""
    import matplotlib.pyplot as plt

    import glassgrad as gg
    from glassgrad.nn import functional as F

    fig, axes = plt.subplots(1, len(names), figsize=(2.6 * len(names), 2.6), squeeze=False)
    for ax, name in zip(axes[0], names):
        fn = _ACTS.get(name) or getattr(F, name)
        x = gg.linspace(lo, hi, 401, dtype=gg.float64).requires_grad_()
        y = fn(x)
        y.sum().backward()
        xs = to_numpy(x)
        ax.plot(xs, to_numpy(y), label=name)
        ax.plot(xs, to_numpy(x.grad), "--", label=f"{name}'")
        ax.axhline(0, color="k", lw=0.5)
        ax.set_title(name)
        ax.legend(fontsize=7)
    fig.tight_layout()
    return fig


def plot_gradient_flow(layer_norms: Any, ax: Any = None) -> Any:
    """Gradient norm per layer (log scale), first layer left: a vanishing gradient is a slope.

    Takes ``{layer: norm}``, a list of such dicts (one line per record) or a ``GradientMonitor``.
    """
    records = getattr(layer_norms, "layer_norms", layer_norms)
    if isinstance(records, dict):
        records = [records]
    fig, ax = new_axes(ax, (6, 3.5))
    for k, rec in enumerate(records):
        names = list(rec)
        ax.plot(
            range(len(names)), [max(v, 1e-30) for v in rec.values()], "o-", alpha=0.8, label=f"record {k}"
        )
    names = list(records[-1])
    ax.set_xticks(range(len(names)))
    ax.set_xticklabels(names, rotation=45, ha="right", fontsize=7)
    ax.set_yscale("log")
    ax.set_xlabel("layer")
    ax.set_ylabel("gradient norm")
    ax.grid(alpha=0.3)
    return fig


def plot_gradient_flow_time(norms: Sequence[float], ax: Any = None) -> Any:
    """``||dL/dh_t||`` per time step (``explain.watch_time_steps``), log scale."""
    fig, ax = new_axes(ax, (5, 3))
    ax.plot(np.arange(len(norms)), np.maximum(np.asarray(norms, dtype=float), 1e-30), "o-")
    ax.set_yscale("log")
    ax.set_xlabel("time step t")
    ax.set_ylabel("||dL/dh_t||")
    ax.grid(alpha=0.3)
    return fig
