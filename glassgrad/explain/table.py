"""Render a trace as the table a student writes by hand: plain text, Markdown, LaTeX or pandas.

Columns: node, op, inputs, value, local derivative (formula = value), upstream gradient
d(out)/d(node), and the gradient delivered to each input (local x upstream, summed over the
dims where the input was broadcast). Small tensors are shown whole, large ones summarised
(shape, mean, norm, min/max).
"""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["Table", "fmt_value"]

COLUMNS = ["node", "op", "inputs", "value", "local derivative", "upstream", "delivered"]


def fmt_value(v: Any, max_elements: int = 6) -> str:
    """A number to 4 significant digits, a small array whole, a large one summarised."""
    if v is None:
        return ""
    a = np.asarray(v)
    if a.dtype.kind not in "biuf":
        return str(v)
    if a.size == 1:
        return f"{float(a.reshape(-1)[0]):.4g}"
    if a.size <= max_elements:
        return np.array2string(a.astype(float), precision=4, separator=", ", floatmode="maxprec").replace(
            "\n", ""
        )
    a = a.astype(float)
    return (
        f"shape {tuple(a.shape)} mean={a.mean():.4g} norm={np.linalg.norm(a):.4g} "
        f"min={a.min():.4g} max={a.max():.4g}"
    )


def _local_cell(text: str, value: Any, max_elements: int) -> str:
    if value is None:
        return text
    shown = fmt_value(value, max_elements)
    if text.rsplit(" = ", 1)[-1] == shown:
        return text  # a constant derivative (d(a + b)/da = 1) needs no second "= 1"
    return f"{text} = {shown}"


def _summed(row: Any, g: Any) -> str:
    # an elementwise op's local derivative has the output's shape; a smaller delivered gradient
    # is local x upstream summed where the input was broadcast, which the reader must be told
    if row.local and row.local[0][1] is not None and np.shape(g) != np.shape(row.value):
        return " (summed over broadcast dims)"
    return ""


class Table:
    """The rows of a trace, formatted on demand; ``str(table)`` is the plain-text form."""

    def __init__(self, rows: list, max_elements: int = 6) -> None:
        self.rows = rows
        self.max_elements = max_elements

    def records(self) -> list[list[str]]:
        """Each row as strings in :data:`COLUMNS` order (multi-input cells joined by ``; ``)."""
        f = self.max_elements
        out = []
        for r in self.rows:
            local = "; ".join(_local_cell(text, val, f) for text, val in r.local)
            delivered = "; ".join(f"to {n}: {fmt_value(g, f)}{_summed(r, g)}" for n, g in r.delivered)
            op = r.op if r.is_leaf else f"{r.op}: {r.expr}"
            out.append(
                [
                    r.name,
                    op,
                    ", ".join(r.inputs),
                    fmt_value(r.value, f),
                    local,
                    fmt_value(r.grad, f),
                    delivered,
                ]
            )
        return out

    def to_text(self) -> str:
        recs = self.records()
        widths = [max(len(c), *(len(r[i]) for r in recs)) if recs else len(c) for i, c in enumerate(COLUMNS)]
        line = lambda cells: "  ".join(c.ljust(w) for c, w in zip(cells, widths)).rstrip()  # noqa: E731
        rule = "  ".join("-" * w for w in widths)
        return "\n".join([line(COLUMNS), rule, *(line(r) for r in recs)])

    def to_markdown(self) -> str:
        esc = lambda s: s.replace("|", "\\|")  # noqa: E731
        lines = ["| " + " | ".join(COLUMNS) + " |", "|" + "---|" * len(COLUMNS)]
        lines += ["| " + " | ".join(esc(c) for c in r) + " |" for r in self.records()]
        return "\n".join(lines)

    def to_latex(self) -> str:
        def esc(s: str) -> str:
            for a, b in (("\\", r"\textbackslash{}"), ("&", r"\&"), ("%", r"\%"), ("_", r"\_"), ("#", r"\#")):
                s = s.replace(a, b)
            return s.replace("^", r"\^{}").replace("[", "{[}").replace("]", "{]}")

        head = " & ".join(COLUMNS) + r" \\"
        body = [" & ".join(esc(c) for c in r) + r" \\" for r in self.records()]
        return "\n".join(
            [
                r"\begin{tabular}{" + "l" * len(COLUMNS) + "}",
                r"\hline",
                head,
                r"\hline",
                *body,
                r"\hline",
                r"\end{tabular}",
            ]
        )

    def to_dataframe(self) -> Any:
        """A ``pandas.DataFrame`` of the formatted cells (needs pandas)."""
        try:
            import pandas as pd
        except ImportError as e:  # pragma: no cover - depends on the environment
            raise ImportError("Table.to_dataframe needs pandas: pip install pandas") from e
        return pd.DataFrame(self.records(), columns=COLUMNS)

    def __str__(self) -> str:
        return self.to_text()

    def _repr_markdown_(self) -> str:
        return self.to_markdown()
