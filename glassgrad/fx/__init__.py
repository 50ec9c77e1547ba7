"""``torch.fx``: the names model code touches at import time. glassgrad has no graph tracer
(models run eagerly, as ``jit`` and ``compile`` do here), so ``wrap`` only records the function as a
leaf for a tracer and returns it unchanged, with PyTorch's checks: the argument must be a callable or
a name, and the call must sit at the top level of a module. ``symbolic_trace`` raises
``NotImplementedError``, saying why. ``Graph``, ``GraphModule``, ``Node``, ``Proxy`` and ``Tracer``
exist so that code importing them (for annotations, ``isinstance`` checks or to subclass ``Tracer``)
imports; making one raises ``NotImplementedError``, saying why.

>>> import glassgrad.fx
>>> def _leaf(x):
...     return x
>>> glassgrad.fx.wrap(_leaf) is _leaf  # each example runs as a module's top level
True
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

__all__ = ["Graph", "GraphModule", "Node", "Proxy", "Tracer", "symbolic_trace", "wrap"]

# (id of the calling module's globals, function name): the leaves a tracer would keep whole
_wrapped: dict[tuple[int, str], dict[str, Any]] = {}


def wrap(fn_or_name: Callable[..., Any] | str) -> Callable[..., Any] | str:
    """Mark a module-level function as a leaf for graph tracing and return it unchanged.

    Raises ``RuntimeError`` for an argument that is neither callable nor a string and
    ``NotImplementedError`` when called anywhere but a module's top level, as PyTorch does.
    """
    if callable(fn_or_name):
        name = fn_or_name.__name__
    elif isinstance(fn_or_name, str):
        name = fn_or_name
    else:
        raise RuntimeError(
            f"fx.wrap: expected a function or the name of a module-level function, got "
            f"{type(fn_or_name).__name__}"
        )
    caller = inspect.currentframe().f_back  # type: ignore[union-attr]
    if caller is None or caller.f_code.co_name != "<module>":
        raise NotImplementedError(
            f"fx.wrap({name!r}): only supported at the top level of a module, not inside a function"
        )
    _wrapped[(id(caller.f_globals), name)] = caller.f_globals
    return fn_or_name


def symbolic_trace(root: Any, concrete_args: dict[str, Any] | None = None) -> Any:
    """Not available: glassgrad runs models eagerly and records no graph to trace."""
    raise NotImplementedError(
        f"fx.symbolic_trace({type(root).__name__}): glassgrad has no graph tracer; models run "
        "eagerly (call the module directly)"
    )


class _NoTracer:
    """Base of the ``torch.fx`` graph classes: importable, subclassable, never constructed."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        raise NotImplementedError(
            f"fx.{type(self).__name__}: glassgrad has no graph tracer; models run eagerly "
            "(call the module directly)"
        )


class Graph(_NoTracer):
    """``torch.fx.Graph``: not available (no graph tracer)."""


class GraphModule(_NoTracer):
    """``torch.fx.GraphModule``: not available (no graph tracer)."""


class Node(_NoTracer):
    """``torch.fx.Node``: not available (no graph tracer)."""


class Proxy(_NoTracer):
    """``torch.fx.Proxy``: not available (no graph tracer)."""


class Tracer(_NoTracer):
    """``torch.fx.Tracer``: not available (no graph tracer); subclasses fail when constructed."""
