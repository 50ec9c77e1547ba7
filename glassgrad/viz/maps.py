"""Heat maps: attention per head with token labels, the positional-encoding table, conv filters
and feature maps."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from glassgrad.nn.positional import sinusoidal_table  # the table nn.SinusoidalPositionalEncoding adds
from glassgrad.viz._common import to_numpy

__all__ = [
    "plot_attention",
    "plot_positional_encoding",
    "sinusoidal_table",
    "plot_conv_filters",
    "plot_feature_maps",
]


def _grid(n: int, cols: int | None = None, size: float = 2.2) -> tuple[Any, Any]:
    import matplotlib.pyplot as plt

    cols = cols or min(n, 8)
    rows = math.ceil(n / cols)
    fig, axes = plt.subplots(rows, cols, figsize=(size * cols, size * rows), squeeze=False)
    for ax in axes.ravel()[n:]:
        ax.axis("off")
    return fig, axes.ravel()


def plot_attention(
    weights: Any,
    tokens_q: Sequence[str] | None = None,
    tokens_k: Sequence[str] | None = None,
    title: str = "",
) -> Any:
    """One heat map per head: row i is how query token i spreads its attention over the keys.

    Shape:
        weights: (L, S) or (h, L, S) (one batch item; ``AttentionInspector`` gives (N, h, L, S)).
    """
    w = to_numpy(weights)
    if w.ndim == 2:
        w = w[None]  # (L, S) -> (1, L, S)
    fig, axes = _grid(w.shape[0], size=2.6)
    if title:  # once over the grid: a long module path repeated per head would overlap
        fig.suptitle(title, fontsize=9)
    for h, ax in enumerate(axes[: w.shape[0]]):
        ax.imshow(w[h], cmap="viridis", vmin=0, vmax=max(float(w.max()), 1e-9))
        ax.set_title(f"head {h}", fontsize=8)
        if tokens_k is not None:
            ax.set_xticks(range(len(tokens_k)))
            ax.set_xticklabels(tokens_k, rotation=90, fontsize=7)
        if tokens_q is not None:
            ax.set_yticks(range(len(tokens_q)))
            ax.set_yticklabels(tokens_q, fontsize=7)
    fig.tight_layout()
    return fig


def plot_positional_encoding(table: Any = None, max_len: int = 64, d_model: int = 64) -> Any:
    """The positional-encoding table as a heat map (positions down, dimensions across).

    Shape:
        table: (L, d_model); the sinusoidal table of ``max_len`` x ``d_model`` when None.
    """
    import matplotlib.pyplot as plt

    pe = sinusoidal_table(max_len, d_model) if table is None else to_numpy(table)
    fig, ax = plt.subplots(figsize=(6, 4))
    im = ax.imshow(pe, aspect="auto", cmap="RdBu", vmin=-1, vmax=1)
    ax.set_xlabel("dimension")
    ax.set_ylabel("position")
    fig.colorbar(im, ax=ax)
    return fig


def plot_conv_filters(weight: Any, max_filters: int = 32) -> Any:
    """Each output channel's kernel as a small image (input channels averaged; RGB when 3).

    Shape:
        weight: (C_out, C_in, kH, kW), e.g. ``conv.weight``.
    """
    w = to_numpy(weight)[:max_filters]
    fig, axes = _grid(w.shape[0], size=1.2)
    for k, ax in enumerate(axes[: w.shape[0]]):
        f = w[k]
        if f.shape[0] == 3:
            img = np.transpose(f, (1, 2, 0))  # (3, kH, kW) -> (kH, kW, 3)
            img = (img - img.min()) / (np.ptp(img) + 1e-12)
            ax.imshow(img)
        else:
            ax.imshow(f.mean(0), cmap="gray")
        ax.set_xticks([])
        ax.set_yticks([])
        ax.set_title(str(k), fontsize=7)
    fig.tight_layout()
    return fig


def plot_feature_maps(maps: Any, max_maps: int = 32) -> Any:
    """Each channel of one feature map (the first batch item when 4-D).

    Shape:
        maps: (C, H, W) or (N, C, H, W).
    """
    m = to_numpy(maps)
    if m.ndim == 4:
        m = m[0]  # (N, C, H, W) -> (C, H, W)
    m = m[:max_maps]
    fig, axes = _grid(m.shape[0], size=1.3)
    for k, ax in enumerate(axes[: m.shape[0]]):
        ax.imshow(m[k], cmap="magma")
        ax.set_xticks([])
        ax.set_yticks([])
        ax.set_title(f"ch {k}", fontsize=7)
    fig.tight_layout()
    return fig
