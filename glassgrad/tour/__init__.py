"""``glassgrad tour``: the course end to end in a few minutes, written to one report page.

Each act is a function ``act(report, quick)`` in this package that trains something small, adds a
section (text, headline numbers, figures) to the :class:`~glassgrad.tour.report.Report`, and
records its numbers in ``numbers.json`` beside ``index.html``. An act whose capability is missing
(an optional dependency not installed) is reported as skipped and the tour goes on.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable
from pathlib import Path

__all__ = ["ACTS", "run"]


def _acts() -> list[tuple[str, Callable]]:
    from glassgrad.tour.basics import perceptron_act, trace_act, xor_act
    from glassgrad.tour.digits import digits_act
    from glassgrad.tour.sequences import gradient_flow_act
    from glassgrad.tour.transformers import gpt_act, translate_act

    return [
        ("perceptron", perceptron_act),
        ("xor", xor_act),
        ("trace", trace_act),
        ("digits", digits_act),
        ("gradient flow", gradient_flow_act),
        ("translation", translate_act),
        ("gpt", gpt_act),
    ]


ACTS = ("perceptron", "xor", "trace", "digits", "gradient flow", "translation", "gpt")


def run(out: str | os.PathLike = "report", quick: bool = False, seed: int = 0) -> Path:
    """Run every act and write ``out/index.html``; returns its path."""
    from glassgrad.recipes import RecipeError, _writable

    out = Path(out)
    _writable(out)
    try:
        import matplotlib

        matplotlib.use("Agg")
    except ImportError:
        raise RecipeError("the tour draws its figures with matplotlib: pip install glassgrad[viz]") from None
    import glassgrad as gg
    from glassgrad.recipes.tasks import progress
    from glassgrad.tour.report import Report

    report = Report(
        "glassgrad: a tour of the course",
        "Every number and picture below was computed by glassgrad on this machine"
        + (" (--quick: smaller models, fewer steps)." if quick else "."),
    )
    start, seconds = time.perf_counter(), {}
    bar = progress(_acts(), "tour", quiet=False)
    for name, act in bar:
        if hasattr(bar, "set_description"):
            bar.set_description(f"tour: {name}")
        gg.manual_seed(seed)
        t0 = time.perf_counter()
        try:
            act(report, quick)
        except ImportError as e:  # an optional dependency (scikit-learn for digits ...)
            report.section(name).skipped(f"needs {e.name or e}")
            print(f"  {name}: skipped: needs {e.name or e}", file=sys.stderr)
            continue
        seconds[name] = round(time.perf_counter() - t0, 1)
        done = report.sections[-1]
        line = ", ".join(f"{k} {v:.3g}" for k, v in done.numbers.items())
        (getattr(bar, "write", None) or print)(
            f"{done.title} ({seconds[name]} s){': ' + line if line else ''}"
        )
    timing = report.section("Timing")
    timing.table(["act", "seconds"], [[k, v] for k, v in seconds.items()])
    timing.number("tour_seconds", "whole tour, seconds", time.perf_counter() - start, "{:.1f}")
    path = report.write(out)
    print(f"report: {path.resolve()}")
    return path
