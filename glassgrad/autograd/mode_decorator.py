"""How a mode switch (``no_grad()``, ``inference_mode()``, ``set_multithreading_enabled(m)`` ...)
decorates a function, as PyTorch's ``torch.utils._contextlib``: each call runs inside a fresh switch
made by ``ctx_factory()``.

A generator function needs more than a wrapper around the call: calling it only builds the generator
object, and its body runs later, at each ``next()``, after a plain wrapper has restored the mode. So
every resumption of the generator is run inside its own switch and the caller's mode comes back at
each ``yield`` (gpt-oss's ``@torch.inference_mode()`` ``TokenGenerator.generate`` yields tokens).

Standard library only: ``grad_mode`` and ``engine_modes`` import it while glassgrad starts.
"""

from __future__ import annotations

import functools
import inspect
import warnings
from collections.abc import Callable, Generator
from typing import Any

__all__ = ["decorate", "wrap_generator"]


def wrap_generator(ctx_factory: Callable[[], Any], func: Callable) -> Callable:
    """A generator function running every resumption of ``func``'s generator inside ``ctx_factory()``."""

    @functools.wraps(func)
    def generator_context(*args: Any, **kwargs: Any) -> Generator:
        gen = func(*args, **kwargs)
        try:
            with ctx_factory():
                response = gen.send(None)
            while True:
                try:
                    request = yield response
                except GeneratorExit:
                    with ctx_factory():
                        gen.close()
                    raise
                except BaseException as exc:  # forwarded into the generator
                    with ctx_factory():
                        response = gen.throw(exc)
                else:
                    with ctx_factory():
                        response = gen.send(request)
        except StopIteration as stop:
            return stop.value

    return generator_context


def decorate(ctx_factory: Callable[[], Any], func: Callable) -> Callable:
    """``func`` with each call (each step, for a generator function) inside ``ctx_factory()``.

    A class is accepted with PyTorch's FutureWarning: its construction runs inside the switch."""
    if inspect.isclass(func):
        warnings.warn(
            "Decorating classes is deprecated and will be disabled in future versions. You should "
            "only decorate functions or methods. To preserve the current behavior of class "
            "decoration, you can directly decorate the `__init__` method and nothing else.",
            FutureWarning,
            stacklevel=3,
        )
        cls = func
        func = lambda *args, **kwargs: cls(*args, **kwargs)  # noqa: E731
    elif inspect.isgeneratorfunction(func):
        return wrap_generator(ctx_factory, func)

    @functools.wraps(func)
    def decorate_context(*args: Any, **kwargs: Any) -> Any:
        with ctx_factory():
            return func(*args, **kwargs)

    return decorate_context
