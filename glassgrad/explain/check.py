"""Check a student's hand-computed values and gradients against autograd and finite differences.

>>> from glassgrad.explain import check
>>> report = check("q = x + y; f = q * z", {"x": -2, "y": 5, "z": -4},
...                answers={"df/dz": 3, "df/dq": 4, "df/dx": -4})
>>> report.ok
False
>>> print(report.first_wrong.message())
df/dq: you have 4, autograd gives -4 (finite differences -4)
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

import glassgrad as gg
from glassgrad.explain.names import get_name, set_name
from glassgrad.explain.parse import Program, parse
from glassgrad.explain.table import fmt_value
from glassgrad.explain.trace import Trace, trace

__all__ = ["check", "CheckReport", "CheckItem", "run_expression"]

_EPS = 1e-6


@dataclass
class CheckItem:
    """One answer: ``key`` (``"q"`` for a value, ``"df/dq"`` for a gradient) and the three numbers."""

    key: str
    given: Any
    autograd: Any
    numeric: Any
    ok: bool

    def message(self) -> str:
        num = "" if self.numeric is None else f" (finite differences {fmt_value(self.numeric)})"
        verdict = (
            "correct"
            if self.ok
            else f"you have {fmt_value(self.given)}, autograd gives {fmt_value(self.autograd)}"
        )
        return f"{self.key}: {verdict}{num}"


@dataclass
class CheckReport:
    """The verdict: ``ok``, every item in checking order, and the first wrong one (or None)."""

    items: list[CheckItem]
    trace: Trace | None = None
    first_wrong: CheckItem | None = field(default=None)

    @property
    def ok(self) -> bool:
        return self.first_wrong is None

    def __str__(self) -> str:
        lines = [it.message() for it in self.items]
        if self.first_wrong is None:
            lines.append("all answers agree with autograd")
        else:
            lines.append(f"first divergence (in backward order): {self.first_wrong.message()}")
        return "\n".join(lines)


def run_expression(
    expr_or_fn: str | Program | Callable, inputs: dict[str, Any]
) -> tuple[Trace, Any, Any, dict]:
    """Build float64 leaves from ``inputs``, run forward and backward under a trace.

    Returns (trace, output tensor, program or None, leaves by name).
    """
    program = parse(expr_or_fn) if isinstance(expr_or_fn, str) else expr_or_fn
    leaves = {
        k: set_name(gg.tensor(np.asarray(v, dtype=np.float64), requires_grad=True), k)
        for k, v in inputs.items()
    }
    with trace() as tr:
        if isinstance(program, Program):
            out, _ = program.evaluate(leaves)
        else:
            out = program(**leaves)
            if get_name(out) is None:
                set_name(out, "f")
        if out._data.size != 1:
            raise ValueError(f"check: expected a scalar output, got shape {tuple(out.shape)}")
        out.backward()
    return tr, out, program if isinstance(program, Program) else None, leaves


def _numeric(program: Any, inputs: dict[str, Any], name: str, kind: str, env_values: dict) -> Any:
    """Central differences of the output w.r.t. an input or (programs only) a named intermediate."""
    base = {k: np.asarray(v, dtype=np.float64) for k, v in inputs.items()}

    def run(values: dict, overrides: dict | None = None) -> float:
        with gg.no_grad():
            ts = {k: gg.tensor(v, dtype=gg.float64) for k, v in values.items()}
            if isinstance(program, Program):
                out, _ = program.evaluate(ts, overrides)
            else:
                out = program(**ts)
        return float(out._data.reshape(-1)[0])

    if kind == "input":
        x = base[name]
        grad = np.zeros_like(x)
        for i in np.ndindex(x.shape):
            plus, minus = dict(base), dict(base)
            plus[name], minus[name] = x.copy(), x.copy()
            plus[name][i] += _EPS
            minus[name][i] -= _EPS
            grad[i] = (run(plus) - run(minus)) / (2 * _EPS)
        return grad
    if not isinstance(program, Program):
        return None
    v = np.asarray(env_values[name], dtype=np.float64)
    grad = np.zeros_like(v)
    for i in np.ndindex(v.shape):
        vp, vm = v.copy(), v.copy()
        vp[i] += _EPS
        vm[i] -= _EPS
        p = gg.tensor(vp, dtype=gg.float64)
        m = gg.tensor(vm, dtype=gg.float64)
        grad[i] = (run(base, {name: p}) - run(base, {name: m})) / (2 * _EPS)
    return grad


def check(
    expr_or_fn: str | Callable,
    inputs: dict[str, Any],
    answers: dict[str, Any],
    tol: float = 1e-3,
) -> CheckReport:
    """Compare hand answers with autograd (and finite differences).

    Args:
        expr_or_fn: an expression program (``"q = x + y; f = q * z"``, see :mod:`parse`) or a
            function of keyword tensors returning a scalar tensor.
        inputs: input values by name (numbers or arrays).
        answers: ``{"df/dx": -4, "df/dq": -4, "q": 3, ...}``: gradients of the output w.r.t. any
            named node (inputs, assigned intermediates, auto names ``f1, f2 ...``) and forward values.
        tol: absolute plus relative tolerance of the comparison.

    Returns:
        a :class:`CheckReport`; forward values are checked first (forward order), then gradients in
        backward order, and ``first_wrong`` is the first that disagrees.
    """
    tr, _out, program, _ = run_expression(expr_or_fn, inputs)
    numeric_src = program if program is not None else expr_or_fn
    rows = tr.rows()
    by_name = {r.name: r for r in rows}
    out_name = rows[-1].name
    values = {r.name: r.value for r in rows}
    unknown, other_out = [], []
    for key in answers:
        name = _grad_target(key)
        if (name if name is not None else key) not in by_name:
            unknown.append(key)
        elif name is not None and key[1 : -len(name) - 2] != out_name:
            other_out.append(key)  # dq/dx is not df/dx: it must not be checked as if it were
    if other_out:
        raise KeyError(
            f"check: gradients are of the output {out_name}: expected d{out_name}/d<node>, got {other_out}"
        )
    if unknown:
        known = ", ".join(r.name for r in rows)
        raise KeyError(
            f"check: no node named in {unknown}; the nodes are {known} (gradients as d{out_name}/d<node>)"
        )
    items: list[CheckItem] = []
    for r in rows:  # forward values, forward order
        if r.name in answers:
            items.append(_item(r.name, answers[r.name], r.value, None, tol))
    for r in reversed(rows):  # gradients, backward order
        for key, given in answers.items():
            if _grad_target(key) == r.name:
                kind = "input" if r.is_leaf else "node"
                num = _numeric(numeric_src, inputs, r.name, kind, values)
                grad = r.grad if r.grad is not None else np.zeros_like(np.asarray(r.value, dtype=float))
                items.append(_item(key, given, grad, num, tol))
    first = next((it for it in items if not it.ok), None)
    return CheckReport(items, tr, first)


def _grad_target(key: str) -> str | None:
    """``"df/dq"`` -> ``"q"``; None for a plain value key."""
    if key.startswith("d") and "/d" in key:
        return key.split("/d", 1)[1]
    return None


def _item(key: str, given: Any, truth: Any, numeric: Any, tol: float) -> CheckItem:
    g = np.asarray(given, dtype=np.float64)
    t = np.asarray(truth, dtype=np.float64)
    ok = g.shape == t.shape or g.size == t.size == 1
    ok = ok and bool(np.allclose(g.reshape(t.shape) if g.size == t.size else g, t, atol=tol, rtol=tol))
    return CheckItem(key, given, truth, numeric, ok)
