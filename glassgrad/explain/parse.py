"""A safe parser for the small expressions students write: never ``eval``.

Grammar: statements separated by ``;`` or newlines, each ``name = expr`` or, last, a bare ``expr``
(the output, named ``f``); a name is assigned once and never to an input, so that every node the
checker asks about is one node. Expressions use names, numbers, ``+ - * / **``, unary minus, parentheses
and the whitelisted functions ``exp log tanh sigmoid relu max min sqrt abs sin cos``.

Python's ``ast`` module only *parses* the text (it runs nothing); a whitelist walker then refuses
every other construct (attribute access, subscripts, calls of anything else, lambdas, keywords,
strings, comparisons ...) with :class:`ExpressionError`, and evaluation builds glassgrad ops.

>>> p = parse("q = x + y; f = q * z")
>>> p.variables, p.output
(['x', 'y', 'z'], 'f')
>>> parse("__import__('os')")
Traceback (most recent call last):
...
glassgrad.explain.parse.ExpressionError: __import__ is not an allowed function (allowed: abs, cos, exp, log, max, min, relu, sigmoid, sin, sqrt, tanh)
"""

from __future__ import annotations

import ast
from collections.abc import Callable
from typing import Any

import glassgrad as gg
from glassgrad.explain.names import set_name
from glassgrad.tensor import Tensor

__all__ = ["ExpressionError", "Program", "parse", "FUNCTIONS"]

MAX_LENGTH = 2000  # longer sources are refused before parsing


class ExpressionError(ValueError):
    """The text is not in the expression grammar."""


def _t(x: Any) -> Tensor:
    return x if isinstance(x, Tensor) else gg.tensor(float(x), dtype=gg.float64)


def _fold(op: Callable) -> Callable:
    def f(*args: Any) -> Tensor:
        if len(args) < 2:
            raise ExpressionError("max/min: expected at least 2 arguments")
        out = _t(args[0])
        for a in args[1:]:
            out = op(out, _t(a))
        return out

    return f


FUNCTIONS: dict[str, tuple[Callable, int | None]] = {
    "exp": (lambda a: _t(a).exp(), 1),
    "log": (lambda a: _t(a).log(), 1),
    "tanh": (lambda a: _t(a).tanh(), 1),
    "sigmoid": (lambda a: _t(a).sigmoid(), 1),
    "relu": (lambda a: _t(a).relu(), 1),
    "sqrt": (lambda a: _t(a).sqrt(), 1),
    "abs": (lambda a: _t(a).abs(), 1),
    "sin": (lambda a: _t(a).sin(), 1),
    "cos": (lambda a: _t(a).cos(), 1),
    "max": (_fold(gg.maximum), None),
    "min": (_fold(gg.minimum), None),
}

_BINOPS = {
    ast.Add: lambda a, b: a + b,
    ast.Sub: lambda a, b: a - b,
    ast.Mult: lambda a, b: a * b,
    ast.Div: lambda a, b: a / b,
    ast.Pow: lambda a, b: a**b,
}
_UNARY = {ast.USub: lambda a: -a, ast.UAdd: lambda a: a}


def _where(node: ast.AST) -> str:
    col = getattr(node, "col_offset", None)
    return f" at column {col + 1}" if col is not None else ""


class Program:
    """A parsed expression program.

    Attributes:
        statements: ``(target or None, expression node)`` in order.
        variables: the free names (inputs), in order of first use.
        assigned: the names given to intermediate results, in order.
        output: the name of the result (the last target, else ``"f"``).
    """

    def __init__(
        self, source: str, statements: list[tuple[str | None, ast.AST]], variables: list[str]
    ) -> None:
        self.source = source
        self.statements = statements
        self.variables = variables
        self.assigned = [t for t, _ in statements if t is not None]
        last = statements[-1][0]
        self.output = last if last is not None else "f"

    def evaluate(
        self, inputs: dict[str, Any], overrides: dict[str, Any] | None = None
    ) -> tuple[Tensor, dict]:
        """Run the program on ``inputs`` (Tensors or numbers); returns (output, named values).

        ``overrides`` replaces named intermediates by given values (finite differences use it).
        Intermediates and the output are named (:func:`set_name`) for traces.
        """
        env: dict[str, Any] = dict(inputs)
        missing = [v for v in self.variables if v not in env]
        if missing:
            raise ExpressionError(f"no value given for {', '.join(missing)}")
        out: Any = None
        for target, expr in self.statements:
            out = self._eval(expr, env)
            name = target or self.output
            if overrides and name in overrides:
                out = overrides[name]
            out = _t(out)
            set_name(out, name)
            if target is not None:
                env[target] = out
        return out, env

    def _eval(self, node: ast.AST, env: dict) -> Any:
        if isinstance(node, ast.Constant):
            return float(node.value)
        if isinstance(node, ast.Name):
            return env[node.id]
        if isinstance(node, ast.BinOp):
            left, right = self._eval(node.left, env), self._eval(node.right, env)
            if not isinstance(left, Tensor) and not isinstance(right, Tensor):
                left = _t(left)  # NumPy overflows to inf where Python floats raise (9 ** 9 ** 9)
            return _BINOPS[type(node.op)](left, right)
        if isinstance(node, ast.UnaryOp):
            return _UNARY[type(node.op)](self._eval(node.operand, env))
        fn = FUNCTIONS[node.func.id][0]  # validated: a whitelisted Call
        return fn(*(self._eval(a, env) for a in node.args))


def parse(source: str) -> Program:
    """Parse ``source`` into a :class:`Program`, refusing anything outside the grammar."""
    if not isinstance(source, str):
        raise ExpressionError(f"expected the expression as text, got {type(source).__name__}")
    if len(source) > MAX_LENGTH:
        raise ExpressionError(f"expression too long ({len(source)} characters, at most {MAX_LENGTH})")
    try:
        tree = ast.parse("\n".join(line.strip() for line in source.splitlines()), mode="exec")
    except SyntaxError as e:
        raise ExpressionError(
            f"not a valid expression: {e.msg} (line {e.lineno}, column {e.offset})"
        ) from None
    except (ValueError, RecursionError, MemoryError) as e:
        raise ExpressionError(f"not a valid expression ({type(e).__name__})") from None
    if not tree.body:
        raise ExpressionError("empty expression")
    statements: list[tuple[str | None, ast.AST]] = []
    variables: list[str] = []
    assigned: set[str] = set()
    for stmt in tree.body:
        if isinstance(stmt, ast.Assign):
            if len(stmt.targets) != 1 or not isinstance(stmt.targets[0], ast.Name):
                raise ExpressionError(f"only 'name = expression' assignments are allowed{_where(stmt)}")
            target = stmt.targets[0].id
            _check_name(target, stmt)
            value = stmt.value
        elif isinstance(stmt, ast.Expr):
            target, value = None, stmt.value
        else:
            raise ExpressionError(f"{type(stmt).__name__} statements are not allowed{_where(stmt)}")
        try:
            _validate(value, variables, assigned)
        except RecursionError:
            raise ExpressionError("expression nested too deeply") from None
        # a node is named by its target (a bare statement by the output's name): two nodes of
        # one name would leave the checker's ``df/dq`` and its finite differences ambiguous
        if target is None and len(statements) + 1 < len(tree.body):
            raise ExpressionError(
                f"only the last statement may be a bare expression (name this one: q = ...){_where(stmt)}"
            )
        name = target if target is not None else "f"
        if name in assigned or name in variables:
            what = "an input" if name in variables else "already assigned"
            fix = f"{name} is {what}: give each node its own name"
            if target is None:
                fix = f"the output is named f, but {fix} (assign the output: g = ...)"
            raise ExpressionError(f"{fix}{_where(stmt)}")
        statements.append((target, value))
        assigned.add(name)
    return Program(source, statements, variables)


def _check_name(name: str, node: ast.AST) -> None:
    if name.startswith("_"):
        raise ExpressionError(f"names may not start with '_' ({name}){_where(node)}")
    if name in FUNCTIONS:
        raise ExpressionError(f"{name} is a function, not a variable{_where(node)}")


def _validate(node: ast.AST, variables: list[str], assigned: set[str]) -> None:
    if isinstance(node, ast.Constant):
        if type(node.value) not in (int, float):
            raise ExpressionError(f"only numbers are allowed as constants, got {node.value!r}{_where(node)}")
        return
    if isinstance(node, ast.Name):
        _check_name(node.id, node)
        if node.id not in assigned and node.id not in variables:
            variables.append(node.id)
        return
    if isinstance(node, ast.BinOp):
        if type(node.op) not in _BINOPS:
            raise ExpressionError(
                f"operator {type(node.op).__name__} is not allowed (use + - * / **){_where(node)}"
            )
        _validate(node.left, variables, assigned)
        _validate(node.right, variables, assigned)
        return
    if isinstance(node, ast.UnaryOp):
        if type(node.op) not in _UNARY:
            raise ExpressionError(f"unary {type(node.op).__name__} is not allowed{_where(node)}")
        _validate(node.operand, variables, assigned)
        return
    if isinstance(node, ast.Call):
        if not isinstance(node.func, ast.Name):
            raise ExpressionError(f"only calls of the allowed functions by name are allowed{_where(node)}")
        name = node.func.id
        if name not in FUNCTIONS:
            allowed = ", ".join(sorted(FUNCTIONS))
            raise ExpressionError(f"{name} is not an allowed function (allowed: {allowed})")
        if node.keywords or any(isinstance(a, ast.Starred) for a in node.args):
            raise ExpressionError(f"{name}: keyword and starred arguments are not allowed{_where(node)}")
        arity = FUNCTIONS[name][1]
        if arity is not None and len(node.args) != arity:
            raise ExpressionError(f"{name}: expected {arity} argument, got {len(node.args)}{_where(node)}")
        if arity is None and len(node.args) < 2:
            raise ExpressionError(
                f"{name}: expected at least 2 arguments, got {len(node.args)}{_where(node)}"
            )
        for a in node.args:
            _validate(a, variables, assigned)
        return
    raise ExpressionError(f"{type(node).__name__} is not allowed in an expression{_where(node)}")
