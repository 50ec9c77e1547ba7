"""The tour's report: one self-contained HTML page (figures inlined as base64 PNG, no scripts).

A :class:`Report` collects sections; each holds paragraphs, headline numbers, tables, preformatted
text and figures. ``write`` renders the page and a ``numbers.json`` beside it with every headline.
"""

from __future__ import annotations

import base64
import html
import io
import json
from pathlib import Path
from typing import Any

__all__ = ["Report", "Section"]

_CSS = """body{font-family:system-ui,sans-serif;max-width:980px;margin:2em auto;padding:0 1em;color:#222}
h1{margin-bottom:0}section{border-top:1px solid #ddd;margin-top:2em}
table{border-collapse:collapse;margin:.6em 0}td,th{border:1px solid #ccc;padding:.2em .6em;text-align:left}
.num{font-size:1.1em}.num b{font-family:monospace}img{max-width:100%;margin:.4em 0}
pre{background:#f6f6f6;padding:.6em;overflow-x:auto;font-size:.85em}.skip{color:#a60}"""


class Section:
    """One act of the tour."""

    def __init__(self, title: str) -> None:
        self.title, self.parts, self.numbers = title, [], {}

    def text(self, s: str) -> None:
        self.parts.append(f"<p>{html.escape(s)}</p>")

    def skipped(self, why: str) -> None:
        self.parts.append(f'<p class="skip">skipped: {html.escape(why)}</p>')

    def number(self, key: str, label: str, value: float, fmt: str = "{:.3f}") -> None:
        """A headline number: shown as ``label: value`` and recorded in numbers.json as ``key``."""
        self.numbers[key] = value
        self.parts.append(
            f'<p class="num" data-key="{html.escape(key)}">{html.escape(label)}: <b>{fmt.format(value)}</b></p>'
        )

    def table(self, header: list[str], rows: list[list[Any]]) -> None:
        head = "".join(f"<th>{html.escape(str(h))}</th>" for h in header)
        body = "".join("<tr>" + "".join(f"<td>{html.escape(str(c))}</td>" for c in r) + "</tr>" for r in rows)
        self.parts.append(f"<table><tr>{head}</tr>{body}</table>")

    def pre(self, s: str) -> None:
        self.parts.append(f"<pre>{html.escape(s)}</pre>")

    def figure(self, fig: Any, alt: str) -> None:
        """A matplotlib figure (or Axes), embedded as a PNG data URI and closed."""
        import matplotlib.pyplot as plt

        fig = getattr(fig, "figure", fig)
        buf = io.BytesIO()
        fig.savefig(buf, format="png", dpi=80, bbox_inches="tight")
        plt.close(fig)
        data = base64.b64encode(buf.getvalue()).decode("ascii")
        self.parts.append(f'<img alt="{html.escape(alt)}" src="data:image/png;base64,{data}">')

    def render(self) -> str:
        return f"<section><h2>{html.escape(self.title)}</h2>{''.join(self.parts)}</section>"


class Report:
    """The whole page."""

    def __init__(self, title: str, intro: str) -> None:
        self.title, self.intro, self.sections = title, intro, []

    def section(self, title: str) -> Section:
        s = Section(title)
        self.sections.append(s)
        return s

    @property
    def numbers(self) -> dict[str, float]:
        return {k: v for s in self.sections for k, v in s.numbers.items()}

    def write(self, out: Path) -> Path:
        page = (
            f"<!doctype html><html><head><meta charset='utf-8'><title>{html.escape(self.title)}</title>"
            f"<style>{_CSS}</style></head><body><h1>{html.escape(self.title)}</h1>"
            f"<p>{html.escape(self.intro)}</p>{''.join(s.render() for s in self.sections)}</body></html>"
        )
        path = out / "index.html"
        path.write_text(page, encoding="utf-8")
        (out / "numbers.json").write_text(json.dumps(self.numbers, indent=1))
        return path
