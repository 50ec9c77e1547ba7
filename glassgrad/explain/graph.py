"""The traced computation graph as DOT text, hand-written SVG, or a PNG drawn with matplotlib
(no system Graphviz needed), with each node's value and gradient on it.

Layout: a node's column is its depth (leaves at 0, an op one right of its deepest input), rows
stack the nodes of a column in forward order; edges run left to right, inputs to op.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

from glassgrad.explain.table import fmt_value

__all__ = ["Graph"]

_W, _H, _GAP_X, _GAP_Y, _LINE = 170, 64, 60, 20, 14


class Graph:
    """Nodes and edges of a trace (``trace.graph()``); ``save("g.svg" | "g.png" | "g.dot")``."""

    def __init__(self, rows: list) -> None:
        self.rows = rows
        self.edges: list[tuple[int, int]] = []  # (input row, op row)
        self.depth: list[int] = []
        latest: dict[str, int] = {}
        for i, r in enumerate(rows):
            srcs = [latest[n] for n in r.inputs if n in latest]
            self.edges += [(s, i) for s in srcs]
            self.depth.append(1 + max((self.depth[s] for s in srcs), default=-1) if not r.is_leaf else 0)
            latest[r.name] = i
        self.pos: list[tuple[int, int]] = []
        per_col: dict[int, int] = {}
        for d in self.depth:
            self.pos.append((d, per_col.get(d, 0)))
            per_col[d] = per_col.get(d, 0) + 1

    def labels(self, i: int) -> list[str]:
        r = self.rows[i]
        head = r.name if r.is_leaf else f"{r.name} = {r.expr}"
        return [head, f"value {fmt_value(r.value, 3)}", f"grad {fmt_value(r.grad, 3)}"]

    # ------------------------------------------------------------------ DOT
    def to_dot(self) -> str:
        lines = ["digraph glassgrad {", "  rankdir=LR;", '  node [shape=box, fontname="Helvetica"];']
        for i, r in enumerate(self.rows):
            label = "\\n".join(s.replace('"', '\\"') for s in self.labels(i))
            style = ', style=filled, fillcolor="#e8f0fe"' if r.is_leaf else ""
            lines.append(f'  n{i} [label="{label}"{style}];')
        lines += [f"  n{a} -> n{b};" for a, b in self.edges]
        lines.append("}")
        return "\n".join(lines)

    # ------------------------------------------------------------------ SVG
    def _xy(self, i: int) -> tuple[int, int]:
        col, row = self.pos[i]
        return 10 + col * (_W + _GAP_X), 10 + row * (_H + _GAP_Y)

    def to_svg(self) -> str:
        cols = max((c for c, _ in self.pos), default=0) + 1
        rows = max((r for _, r in self.pos), default=0) + 1
        width, height = 20 + cols * (_W + _GAP_X) - _GAP_X, 20 + rows * (_H + _GAP_Y) - _GAP_Y
        out = [
            f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
            f'viewBox="0 0 {width} {height}" font-family="Helvetica, Arial, sans-serif" font-size="12">',
            '<defs><marker id="arrow" markerWidth="8" markerHeight="8" refX="8" refY="4" orient="auto">'
            '<path d="M0,0 L8,4 L0,8 z" fill="#555"/></marker></defs>',
        ]
        for a, b in self.edges:
            (xa, ya), (xb, yb) = self._xy(a), self._xy(b)
            out.append(
                f'<line x1="{xa + _W}" y1="{ya + _H // 2}" x2="{xb}" y2="{yb + _H // 2}" '
                'stroke="#555" stroke-width="1.2" marker-end="url(#arrow)"/>'
            )
        for i, r in enumerate(self.rows):
            x, y = self._xy(i)
            fill = "#e8f0fe" if r.is_leaf else "#fff7e6"
            out.append(
                f'<rect x="{x}" y="{y}" width="{_W}" height="{_H}" rx="6" fill="{fill}" stroke="#333"/>'
            )
            for k, text in enumerate(self.labels(i)):
                weight = ' font-weight="bold"' if k == 0 else ""
                out.append(f'<text x="{x + 8}" y="{y + 18 + k * 18}"{weight}>{escape(text[:28])}</text>')
        out.append("</svg>")
        return "\n".join(out)

    def _repr_svg_(self) -> str:
        return self.to_svg()

    # ------------------------------------------------------------------ matplotlib
    def figure(self) -> Any:
        """A matplotlib Figure of the graph."""
        import matplotlib.pyplot as plt
        from matplotlib.patches import FancyArrowPatch, FancyBboxPatch

        cols = max((c for c, _ in self.pos), default=0) + 1
        rows = max((r for _, r in self.pos), default=0) + 1
        fig, ax = plt.subplots(figsize=(2.4 * cols + 0.5, 1.1 * rows + 0.5))
        ax.set_xlim(-0.1, cols * 1.3)
        ax.set_ylim(rows * 1.2, -0.2)
        ax.axis("off")
        box_w, box_h = 1.0, 0.9
        xy = {i: (c * 1.3, r * 1.2) for i, (c, r) in enumerate(self.pos)}
        for a, b in self.edges:
            (xa, ya), (xb, yb) = xy[a], xy[b]
            ax.add_patch(
                FancyArrowPatch(
                    (xa + box_w, ya + box_h / 2), (xb, yb + box_h / 2), arrowstyle="-|>", mutation_scale=10
                )
            )
        for i, r in enumerate(self.rows):
            x, y = xy[i]
            ax.add_patch(
                FancyBboxPatch(
                    (x, y),
                    box_w,
                    box_h,
                    boxstyle="round,pad=0.02",
                    fc="#e8f0fe" if r.is_leaf else "#fff7e6",
                    ec="#333",
                )
            )
            ax.text(
                x + 0.05, y + box_h / 2, "\n".join(s[:22] for s in self.labels(i)), va="center", fontsize=10
            )
        fig.tight_layout()
        return fig

    def save(self, path: str | Path) -> Path:
        """Write ``.dot``, ``.svg`` (hand-written) or ``.png`` (matplotlib) by the file suffix."""
        path = Path(path)
        suffix = path.suffix.lower()
        if suffix == ".dot":
            path.write_text(self.to_dot())
        elif suffix == ".svg":
            path.write_text(self.to_svg())
        elif suffix == ".png":
            import matplotlib.pyplot as plt

            fig = self.figure()
            fig.savefig(path, dpi=100)
            plt.close(fig)
        else:
            raise ValueError(f"Graph.save: expected a .dot, .svg or .png file, got {path.name!r}")
        return path
