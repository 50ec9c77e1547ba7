"""``torch.utils._contextlib``: context managers that double as function decorators.

A subclass of :class:`_DecoratorContextManager` defines ``__enter__``/``__exit__``; using an instance
as ``@decorator`` runs each call of the function (each step of a generator function) inside a fresh
``clone()`` of it. :class:`_NoParamDecoratorContextManager` also allows the bare ``@decorator``
form. tensordict builds its ``set_interaction_type``/``set_lazy_legacy`` switches on these.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

from glassgrad.autograd.mode_decorator import decorate
from glassgrad.autograd.mode_decorator import wrap_generator as _wrap_generator  # noqa: F401 - PyTorch's name here

__all__ = ["_DecoratorContextManager", "_NoParamDecoratorContextManager", "context_decorator"]


def context_decorator(ctx: Any, func: Callable) -> Callable:
    """Wrap ``func`` so that each call runs inside a context manager: ``ctx`` is either one context
    manager (reused) or a callable making a fresh one per call."""
    if callable(ctx) and hasattr(ctx, "__enter__"):
        raise TypeError(
            f"context_decorator: got {type(ctx).__name__}, both a context manager and a callable; "
            "pass a context manager or a factory returning one, not both"
        )
    ctx_factory = ctx if callable(ctx) else (lambda: ctx)
    if inspect.isclass(func):
        raise RuntimeError(
            "Cannot decorate classes; it is ambiguous whether only the constructor or all methods "
            "should have the context manager applied; decorate each method individually."
        )
    return decorate(ctx_factory, func)  # (a generator function: each of its steps in the context)


class _DecoratorContextManager:
    """A context manager that is also a decorator: ``@Mode()`` wraps a function in ``Mode()``."""

    def __call__(self, orig_func: Callable) -> Callable:
        return decorate(self.clone, orig_func)

    def __enter__(self) -> None:
        raise NotImplementedError(f"{type(self).__name__} must define __enter__")

    def __exit__(self, exc_type: Any, exc_value: Any, traceback: Any) -> None:
        raise NotImplementedError(f"{type(self).__name__} must define __exit__")

    def clone(self) -> _DecoratorContextManager:
        """A fresh instance, entered by each decorated call (override when ``__init__`` takes arguments)."""
        return self.__class__()


class _NoParamDecoratorContextManager(_DecoratorContextManager):
    """Also usable without parentheses: ``@Mode`` equals ``@Mode()``."""

    def __new__(cls, orig_func: Callable | None = None) -> Any:
        if orig_func is None:
            return super().__new__(cls)
        return cls()(orig_func)
