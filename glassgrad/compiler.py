"""``torch.compiler``: the public face of ``torch.compile``. glassgrad compiles nothing
(``glassgrad.compile`` returns the model or function as it is, see ``legacy.py``), so every code
path already runs eagerly and these names answer accordingly: ``compile`` is ``glassgrad.compile``;
the decorators that steer the compiler (``disable``, ``allow_in_graph``,
``assume_constant_result``) return the function unchanged; ``is_compiling``,
``is_dynamo_compiling`` and ``is_exporting`` are always False; ``reset`` has nothing to forget;
``list_backends`` names PyTorch's stable backends, which ``compile(backend=...)`` accepts and ignores.

>>> import glassgrad as gg
>>> @gg.compiler.disable
... def f(x):
...     return x + 1
>>> f(gg.tensor(1.0)).item(), gg.compiler.is_compiling()
(2.0, False)
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

# PyTorch loads torch._functorch (and its config) with `import torch`; scripts use it unimported
from glassgrad import _functorch  # noqa: F401
from glassgrad._dynamo import disable, is_compiling, list_backends, reset
from glassgrad.legacy import compile

__all__ = [
    "compile",
    "disable",
    "reset",
    "allow_in_graph",
    "assume_constant_result",
    "list_backends",
    "is_compiling",
    "is_dynamo_compiling",
    "is_exporting",
]

F = TypeVar("F", bound=Callable[..., Any])


def allow_in_graph(fn: F) -> F:
    """Let the compiler put ``fn`` into its graph without tracing it: ``fn`` itself (a list of
    functions is returned as is too, as PyTorch accepts one)."""
    return fn


def assume_constant_result(fn: F) -> F:
    """Let the compiler treat ``fn``'s result as a constant: ``fn`` itself, still called each time."""
    return fn


def is_dynamo_compiling() -> bool:
    """False: no code is ever being traced by a compiler here."""
    return is_compiling()


def is_exporting() -> bool:
    """False: nothing is ever being exported (``torch.export``) here."""
    return False
