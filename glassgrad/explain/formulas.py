"""Local derivatives of the elementwise ops as a student writes them: text and value.

``LOCAL[op]`` gives the op's expression template and, per input, the formula of d(out)/d(input)
and a function of (input arrays, output array) that evaluates it. Ops not listed (matmul, sum,
reshape ...) are shown with the vector-Jacobian product from their docstring instead; their
delivered gradient is still exact, it is just not a single local number.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

__all__ = ["LOCAL", "expression", "local_derivatives", "vjp_text"]


def _sig(x: Any) -> Any:
    return 1.0 / (1.0 + np.exp(-x))


_ONE = lambda a, z: np.ones_like(np.asarray(z, dtype=float))  # noqa: E731

# op -> (expression template over a, b; [(formula over a, b, z, value(a_list, z)) per input])
LOCAL: dict[str, tuple[str, list[tuple[str, Callable]]]] = {
    "add": ("{a} + {b}", [("1", _ONE), ("1", _ONE)]),
    "sub": ("{a} - {b}", [("1", _ONE), ("-1", lambda a, z: -_ONE(a, z))]),
    "mul": ("{a}*{b}", [("{b}", lambda a, z: a[1] * _ONE(a, z)), ("{a}", lambda a, z: a[0] * _ONE(a, z))]),
    "div": (
        "{a}/{b}",
        [
            ("1/{b}", lambda a, z: 1.0 / a[1] * _ONE(a, z)),
            ("-{a}/{b}^2", lambda a, z: -a[0] / a[1] ** 2 * _ONE(a, z)),
        ],
    ),
    # at a = 0 the values are PyTorch's (and the op's) limits, 0 where b = 0 and where b >= 0:
    # the gradient delivered is 0 there, and 0 * inf would show NaN beside it
    "pow": (
        "{a}^{b}",
        [
            ("{b}*{a}^({b}-1)", lambda a, z: np.where(a[1] == 0, 0.0, a[1] * np.power(a[0], a[1] - 1.0))),
            ("{a}^{b}*ln({a})", lambda a, z: np.where((a[0] == 0) & (a[1] >= 0), 0.0, z * np.log(a[0]))),
        ],
    ),
    "neg": ("-{a}", [("-1", lambda a, z: -_ONE(a, z))]),
    # ``1 / t`` records reciprocal (then a product by 1), as PyTorch: shown as the student writes it
    "reciprocal": ("1/{a}", [("-1/{a}^2", lambda a, z: -z * z)]),
    "exp": ("exp({a})", [("exp({a})", lambda a, z: z)]),
    "log": ("ln({a})", [("1/{a}", lambda a, z: 1.0 / a[0])]),
    "log1p": ("ln(1 + {a})", [("1/(1 + {a})", lambda a, z: 1.0 / (1.0 + a[0]))]),
    "sqrt": ("sqrt({a})", [("1/(2*sqrt({a}))", lambda a, z: 0.5 / z)]),
    "abs": ("|{a}|", [("sign({a})", lambda a, z: np.sign(a[0]))]),
    "sin": ("sin({a})", [("cos({a})", lambda a, z: np.cos(a[0]))]),
    "cos": ("cos({a})", [("-sin({a})", lambda a, z: -np.sin(a[0]))]),
    "tanh": ("tanh({a})", [("1 - tanh({a})^2", lambda a, z: 1.0 - z * z)]),
    "sigmoid": ("sigmoid({a})", [("sigmoid({a})*(1 - sigmoid({a}))", lambda a, z: z * (1.0 - z))]),
    "relu": ("relu({a})", [("[{a} > 0]", lambda a, z: (np.asarray(a[0]) > 0).astype(float))]),
    # a tie splits the gradient evenly, as the ops do: the text must say so, or [a > b] reads 0
    "maximum": (
        "max({a}, {b})",
        [
            ("[{a} > {b}] + [{a} = {b}]/2", lambda a, z: _tie(a[0], a[1], np.greater)),
            ("[{b} > {a}] + [{a} = {b}]/2", lambda a, z: _tie(a[1], a[0], np.greater)),
        ],
    ),
    "minimum": (
        "min({a}, {b})",
        [
            ("[{a} < {b}] + [{a} = {b}]/2", lambda a, z: _tie(a[0], a[1], np.less)),
            ("[{b} < {a}] + [{a} = {b}]/2", lambda a, z: _tie(a[1], a[0], np.less)),
        ],
    ),
}


def _tie(x: Any, y: Any, cmp: Callable) -> Any:
    # ties split the gradient evenly, as the ops do
    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    return cmp(x, y).astype(float) + 0.5 * (x == y)


def expression(op: str, names: list[str]) -> str:
    """The op written over its input names, e.g. ``q*z``; ``op(a, b)`` for unlisted ops."""
    entry = LOCAL.get(op)
    if entry is None:
        return f"{op}({', '.join(names)})"
    return entry[0].format(**_slots(names))


def _slots(names: list[str]) -> dict:
    return {"a": names[0] if names else "?", "b": names[1] if len(names) > 1 else "?"}


def local_derivatives(op: str, names: list[str], values: list[Any], out: Any) -> list[tuple[str, Any]]:
    """Per input: (``d(expr)/dname = formula``, value or None) for the listed ops, else empty."""
    entry = LOCAL.get(op)
    if entry is None:
        return []
    slots = _slots(names)
    expr = entry[0].format(**slots)
    arrays = [np.asarray(v, dtype=float) for v in values]
    res = []
    for i, (formula, fn) in enumerate(entry[1]):
        if i >= len(names):
            break
        text = f"d({expr})/d{names[i]} = {formula.format(**slots)}"
        with np.errstate(all="ignore"):
            value = fn(arrays, np.asarray(out, dtype=float))
        res.append((text, value))
    return res


def vjp_text(fn: type) -> str:
    """The 'VJP: ...' part of an op's docstring, or the op name when there is none."""
    doc = (fn.__doc__ or "").split("\n\n")[0]
    if "VJP:" in doc:
        return "VJP: " + " ".join(doc.split("VJP:", 1)[1].split())
    return f"VJP of {fn.name}"
