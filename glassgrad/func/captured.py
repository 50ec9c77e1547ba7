"""The tensors a transformed function reaches without being given them (a closure's, a global's,
a module's parameters and buffers, a ``functools.partial``'s), and PyTorch's rule for them: a
``torch.func`` transform's function may write its arguments in place, never what it captured.

PyTorch raises at the write ("... would mutate a captured Tensor"); glassgrad checks the
captured tensors' versions when the function returns, so the write has happened once when it
raises. ``vmap`` checks the same tensors (it also refuses ``.grad`` changes, ``vmap.py``).
"""

from __future__ import annotations

import contextlib
import functools
import types
from typing import Any, Callable

from glassgrad.errors import GraphError
from glassgrad.tensor import Tensor
from glassgrad.utils._pytree import tree_flatten

__all__ = ["captured", "check_captured", "watch_captured"]


def captured(func: Callable) -> list:
    """The tensors ``func`` reaches without being given them: its closure's and globals' (a tensor,
    a module's parameters and buffers, a list/tuple/dict of them), a bound module, a partial's;
    and those of the functions it reaches so (``grad(lambda a: f(a).sum())``: ``f``'s), to a
    depth of ``_DEPTH`` (glassgrad's own functions capture nothing of the caller's)."""
    from glassgrad.nn.modules.module import Module

    found: list = []
    take = functools.partial(_take, found, Module)  # (not a closure calling itself: a ref cycle)
    todo, seen = [(func, 0)], set()
    while todo:
        func, depth = todo.pop()
        while isinstance(func, functools.partial):
            for v in (*func.args, *func.keywords.values()):
                take(v)
            func = func.func
        if id(func) in seen:
            continue
        seen.add(id(func))
        take(getattr(func, "__self__", None))
        if isinstance(func, Module):
            take(func)
        func = getattr(func, "__func__", func)  # a bound method's function
        code = getattr(func, "__code__", None)
        values = []
        for cell in getattr(func, "__closure__", None) or ():
            with contextlib.suppress(ValueError):  # a cell not yet filled
                values.append(cell.cell_contents)
        if code is not None:
            glob = getattr(func, "__globals__", {})
            values += [glob.get(name) for name in code.co_names]
        for v in values:
            take(v)
            if depth < _DEPTH and _user_function(v):
                todo.append((v, depth + 1))
    return found


#: how many calls deep ``captured`` follows the functions a function reaches
_DEPTH = 2


def _user_function(v: Any) -> bool:
    return isinstance(v, types.FunctionType | functools.partial) and not getattr(
        v, "__module__", ""
    ).startswith("glassgrad.")


def _take(found: list, module_cls: type, v: Any, depth: int = 0) -> None:
    """Append to ``found`` the tensors ``v`` holds: itself, a module's parameters and buffers, a
    list/tuple/dict's (one level down)."""
    if isinstance(v, Tensor):
        found.append(v)
    elif isinstance(v, module_cls):
        found.extend(v.parameters())
        found.extend(v.buffers())
    elif depth == 0 and isinstance(v, list | tuple):
        for x in v:
            _take(found, module_cls, x, 1)
    elif depth == 0 and isinstance(v, dict):
        for x in v.values():
            _take(found, module_cls, x, 1)


def watch_captured(func: Callable, given: Any) -> list:
    """``[(tensor, version)]`` for what ``func`` captured, less what shares memory with a tensor
    in ``given`` (its arguments: PyTorch lets ``func`` write those, and a captured alias of one
    cannot be told from it here)."""
    own = {id(t._vc) for t in tree_flatten(given)[0] if isinstance(t, Tensor)}
    return [(t, t._version) for t in captured(func) if id(t._vc) not in own]


def check_captured(op: str, watched: list) -> None:
    """Raise PyTorch's error if a watched tensor was changed in place (``watch_captured``)."""
    for t, version in watched:
        if t._version != version:
            raise GraphError(
                f"During a grad (vjp, jvp, grad, etc) transform ({op}), the function provided changed "
                f"in place a captured Tensor (shape {tuple(t.shape)}): this is not supported, as in "
                "PyTorch ('would mutate a captured Tensor'); please rewrite the function being "
                "transformed to explicitly accept the mutated Tensor(s) as inputs"
            )
