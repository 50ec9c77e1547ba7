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


def _type_names() -> dict:
    """Python annotation -> schema type, PyTorch's table (``int`` is ``SymInt``)."""
    import collections.abc
    import typing

    from glassgrad.device import device
    from glassgrad.dtypes import DType
    from glassgrad.tensor import Tensor
    from glassgrad.types import Number

    # PyTorch's four spellings of a list: typing.List[X] is not list[X] as a dict key
    sequences = (typing.Sequence, typing.List, collections.abc.Sequence, list)  # noqa: UP006
    names = {Tensor: "Tensor", int: "SymInt", float: "float", bool: "bool", str: "str"}
    names.update({Number: "Scalar", DType: "ScalarType", device: "Device"})
    table = {}
    for py, name in names.items():
        table[py] = name
        table[py | None] = name + "?"  # equal to Optional[py], and hashed alike
        if py in (Tensor, int, float, bool, Number):
            for seq in sequences:
                table[seq[py]] = name + "[]"
                if py in (int, float, bool):  # PyTorch takes no optional list of tensors or scalars
                    table[seq[py] | None] = name + "[]?"
    for seq in sequences:
        table[seq[Tensor | None]] = "Tensor?[]"
    return table


def _render(value: object) -> str:
    from glassgrad.dtypes import DType

    if isinstance(value, str):
        return f'"{value}"'
    if isinstance(value, DType):
        return str(value).split(".")[-1]  # PyTorch's schema names the dtype alone: float32
    return repr(value)


def _return_type(ann: object, table: dict, where: str) -> str:
    import typing

    if ann is None or ann is type(None):
        return "()"
    if typing.get_origin(ann) is tuple:
        return "(" + ", ".join(_return_type(a, table, where) for a in typing.get_args(ann)) + ")"
    if ann not in table or table[ann].endswith("?"):
        raise ValueError(f"{where}: Return has unsupported type {ann}")
    return table[ann]


def infer_schema(prototype_function: object, /, *, mutates_args: object, op_name: str | None = None) -> str:
    """``torch.library.infer_schema``: the schema of a function from its type annotations, e.g.
    ``(Tensor x, SymInt n=2) -> Tensor``; ``mutates_args`` names the tensors it changes in place
    (``"unknown"``: all of them), written ``Tensor(a0!)``.

    >>> import glassgrad as gg
    >>> def f(x: gg.Tensor, n: int = 2, *, mode: str = "a") -> gg.Tensor: ...
    >>> infer_schema(f, mutates_args=())
    '(Tensor x, SymInt n=2, *, str mode="a") -> Tensor'
    """
    from glassgrad.device import device
    from glassgrad.dtypes import DType

    where = "infer_schema(func)"
    try:
        sig = inspect.signature(prototype_function, eval_str=True)
    except (NameError, TypeError) as e:
        raise ValueError(f"{where}: could not read the function's signature and annotations ({e})") from None
    table, params, kw_started = _type_names(), [], False
    unknown = mutates_args == "unknown"
    names = set(sig.parameters)
    if not unknown:
        if isinstance(mutates_args, str) or not all(isinstance(a, str) for a in mutates_args):
            raise ValueError(f"{where}: mutates_args must be a tuple of argument names or 'unknown'")
        missing = set(mutates_args) - names
        if missing:
            raise ValueError(
                f"{where}: {missing} in mutates_args were not found in the custom op's signature"
            )
    for name, p in sig.parameters.items():
        if p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD):
            raise ValueError(f"{where}: We do not support positional-only, *args or **kwargs (got {name})")
        if p.annotation is p.empty:
            raise ValueError(
                f"{where}: Parameter {name} must have a type annotation. Got func with signature {sig})"
            )
        if p.annotation not in table:
            raise ValueError(f"{where}: Parameter {name} has unsupported type {p.annotation}")
        kind = table[p.annotation]
        if kind.startswith("Tensor") and (unknown or name in mutates_args):
            kind = kind.replace("Tensor", f"Tensor(a{len(params) - kw_started}!)", 1)  # by position
        if p.default is not p.empty and not isinstance(
            p.default, (type(None), bool, int, float, str, DType, device)
        ):
            raise ValueError(
                f"{where}: Parameter {name} has an unsupported default value type {type(p.default)}"
            )
        if p.kind is p.KEYWORD_ONLY and not kw_started:
            params.append("*")
            kw_started = True
        params.append(f"{kind} {name}" + ("" if p.default is p.empty else f"={_render(p.default)}"))
    result = _return_type(
        sig.return_annotation if sig.return_annotation is not sig.empty else None, table, where
    )
    return f"{op_name or ''}({', '.join(params)}) -> {result}"
