"""``glassgrad explain`` and ``glassgrad check``: the trace table and the answer checker for an
expression typed on the command line.

    glassgrad explain "(x + y) * z" x=-2 y=5 z=-4 [--format text|markdown|latex] [--graph out.svg]
    glassgrad check "q = x + y; f = q * z" x=-2 y=5 z=-4 df/dx=-4 df/dq=-4 q=3 [--tol 1e-3]

Arguments after the expression are ``name=value``: a free variable of the expression is an
input; ``d<out>/d<node>=v`` is a gradient answer; an assigned name (``q=3``) is a value answer.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

__all__ = ["explain_cli", "check_cli", "explain_parser", "check_parser", "run_explain", "run_check"]


def explain_parser(parser: argparse.ArgumentParser | None = None) -> argparse.ArgumentParser:
    p = parser or argparse.ArgumentParser(
        prog="glassgrad explain", description="Trace table of an expression."
    )
    p.add_argument("expression", help='e.g. "(x + y) * z" or "q = x + y; f = q * z"')
    p.add_argument("values", nargs="*", help="inputs as name=value")
    p.add_argument("--format", choices=["text", "markdown", "latex"], default="text")
    p.add_argument("--graph", metavar="FILE", help="also write the graph (.dot, .svg or .png)")
    return p


def check_parser(parser: argparse.ArgumentParser | None = None) -> argparse.ArgumentParser:
    p = parser or argparse.ArgumentParser(prog="glassgrad check", description="Check hand-computed answers.")
    p.add_argument("expression")
    p.add_argument("values", nargs="*", help="inputs (x=-2) and answers (df/dx=-4, q=3)")
    p.add_argument("--tol", type=float, default=1e-3)
    return p


def _pairs(items: list[str]) -> dict[str, float]:
    out: dict[str, float] = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise ValueError(f"expected name=value, got {item!r}")
        try:
            out[key.strip()] = float(value)
        except ValueError:
            raise ValueError(f"{key}: expected a number, got {value!r}") from None
    return out


def _fail(msg: str) -> int:
    print(f"error: {msg}", file=sys.stderr)
    return 2


def explain_cli(argv: list[str] | None = None) -> int:
    """Print the trace table of an expression; returns the exit status."""
    return run_explain(explain_parser().parse_args(argv))


def run_explain(args: argparse.Namespace) -> int:
    """``glassgrad explain`` on parsed arguments (for a subcommand table: ``explain_parser`` declares them)."""
    from glassgrad.explain.check import run_expression
    from glassgrad.explain.parse import parse

    try:
        program = parse(args.expression)
        tr, *_ = run_expression(program, _pairs(args.values))
    except (ValueError, KeyError) as e:
        return _fail(str(e))
    table = tr.table()
    print({"text": table.to_text, "markdown": table.to_markdown, "latex": table.to_latex}[args.format]())
    if args.graph:
        tr.graph().save(args.graph)
    return 0


def check_cli(argv: list[str] | None = None) -> int:
    """Check answers; exit status 0 when all agree, 1 when one is wrong, 2 on a usage error."""
    return run_check(check_parser().parse_args(argv))


def run_check(args: argparse.Namespace) -> int:
    """``glassgrad check`` on parsed arguments (``check_parser`` declares them)."""
    from glassgrad.explain.check import check
    from glassgrad.explain.parse import parse

    try:
        program = parse(args.expression)
        pairs: dict[str, Any] = _pairs(args.values)
        inputs = {k: v for k, v in pairs.items() if k in program.variables}
        answers = {k: v for k, v in pairs.items() if k not in program.variables}
        report = check(program, inputs, answers, tol=args.tol)
    except (ValueError, KeyError) as e:
        return _fail(str(e).strip("'\""))
    print(report)
    return 0 if report.ok else 1
