"""Operator schemas for ``Library.define``: ``"name.overload(Tensor x, int[2] k=[1, 1], *, bool
neg=False) -> Tensor"`` read into the name, the overload and a Python signature that checks the
arguments of a call (types are not checked: a kernel sees what the caller passed).

>>> from glassgrad.library_schema import parse_schema
>>> name, overload, sig, text = parse_schema("scale.out(Tensor x, float s=2., *, Tensor(a!) out) -> Tensor(a!)", "ns")
>>> name, overload, str(sig)
('scale', 'out', '(x, s=2.0, *, out)')
>>> text
'ns::scale.out(Tensor x, float s=2., *, Tensor(a!) out) -> Tensor(a!)'
"""

from __future__ import annotations

import ast
import inspect
import keyword
import re

__all__ = ["parse_schema"]

_HEAD = re.compile(
    r"\s*(?:\w+::)?(?P<name>\w+)(?:\.(?P<overload>\w+))?\s*\((?P<args>.*)\)\s*->\s*(?P<ret>.+?)\s*$", re.S
)


def _split_top(text: str) -> list[str]:
    """``text`` cut at the commas outside brackets and parentheses."""
    parts, depth, start = [], 0, 0
    for i, ch in enumerate(text):
        if ch in "([":
            depth += 1
        elif ch in ")]":
            depth -= 1
        elif ch == "," and depth == 0:
            parts.append(text[start:i])
            start = i + 1
    parts.append(text[start:])
    return [p.strip() for p in parts if p.strip()]


def _default(text: str) -> object:
    try:
        return ast.literal_eval(text)
    except (ValueError, SyntaxError):
        return text  # a name such as contiguous_format or Mean: kept as written


def parse_schema(schema: str, namespace: str) -> tuple[str, str, inspect.Signature | None, str]:
    """``(name, overload or "", signature, "namespace::" + schema)``; the signature is None where an
    argument's name is a Python keyword (then nothing is checked)."""
    match = _HEAD.match(schema) if isinstance(schema, str) else None
    if match is None:
        raise ValueError(f"Library.define: expected a schema 'name(Type arg, ...) -> Type', got {schema!r}")
    params, kind = [], inspect.Parameter.POSITIONAL_OR_KEYWORD
    for arg in _split_top(match["args"]):
        if arg == "*":
            kind = inspect.Parameter.KEYWORD_ONLY
            continue
        left, eq, default = arg.partition("=")
        pieces = left.split()
        if len(pieces) < 2:
            raise ValueError(
                f"Library.define: expected 'Type name' for each argument, got {arg!r} in {schema!r}"
            )
        name = pieces[-1]
        if keyword.iskeyword(name):
            params = None
            break
        value = _default(default.strip()) if eq else inspect.Parameter.empty
        params.append(inspect.Parameter(name, kind, default=value))
    signature = inspect.Signature(params) if params is not None else None
    text = f"{namespace}::{schema.strip().split('::', 1)[-1]}"
    return match["name"], match["overload"] or "", signature, text
