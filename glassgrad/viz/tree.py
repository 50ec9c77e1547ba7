"""A beam-search tree: every expanded hypothesis with its token and cumulative score."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

__all__ = ["plot_beam_tree"]


def plot_beam_tree(nodes: Sequence[dict], best: Sequence[int] = ()) -> Any:
    """Draw a beam-search tree left to right, one column per step.

    Args:
        nodes: ``{"token": str, "score": float, "parent": int | None}`` per hypothesis, parents
            listed before children (the root has parent None).
        best: indices of the nodes on the returned path, drawn bold.
    """
    import matplotlib.pyplot as plt

    depth: list[int] = []
    for n in nodes:
        p = n.get("parent")
        depth.append(0 if p is None else depth[p] + 1)
    rows: dict[int, int] = {}
    pos = []
    for d in depth:
        pos.append((d, rows.get(d, 0)))
        rows[d] = rows.get(d, 0) + 1
    n_cols, n_rows = max(depth, default=0) + 1, max(rows.values(), default=1)
    fig, ax = plt.subplots(figsize=(1.8 * n_cols + 0.5, 0.6 * n_rows + 0.8))
    best = set(best)
    for i, n in enumerate(nodes):
        x, y = pos[i]
        p = n.get("parent")
        if p is not None:
            px, py = pos[p]
            on_path = i in best and p in best
            ax.plot([px, x], [py, y], color="C3" if on_path else "0.6", lw=2.2 if on_path else 1)
    for i, n in enumerate(nodes):
        x, y = pos[i]
        ax.text(
            x,
            y,
            f"{n['token']}\n{n['score']:.2f}",
            ha="center",
            va="center",
            fontsize=8,
            fontweight="bold" if i in best else "normal",
            bbox={"boxstyle": "round", "fc": "#fde2e1" if i in best else "white", "ec": "0.4"},
        )
    ax.set_xlim(-0.6, n_cols - 0.4)
    ax.set_ylim(n_rows - 0.4, -0.6)
    ax.axis("off")
    ax.set_title("beam search (token, cumulative log-prob)", fontsize=9)
    return fig
