"""``torch._dynamo``: the compiler's front end. glassgrad has nothing to compile
(``glassgrad.compile`` runs the model as it is), so this holds the names scripts touch around
``torch.compile``: ``config`` (its common settings with PyTorch's defaults, which may be set and
change nothing here; an unknown name raises ``AttributeError`` as PyTorch's does), ``reset``,
``disable``, ``is_compiling`` (always False), ``mark_dynamic``/``mark_static`` and
``graph_break`` (no-ops), ``allow_in_graph`` (the function itself), ``explain`` (runs the function:
no graphs, no breaks; ``explain_output.py``), ``list_backends`` and
``OptimizedModule`` (what ``torch.compile(module)`` returns, as PyTorch's: a wrapper whose
``_orig_mod`` is the module; ``optimized_module.py``).

>>> import glassgrad._dynamo
>>> glassgrad._dynamo.config.suppress_errors = True
>>> glassgrad._dynamo.config.cache_size_limit, glassgrad._dynamo.is_compiling()
(8, False)
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any

from glassgrad._dynamo import config
from glassgrad._dynamo.explain_output import explain
from glassgrad._dynamo.optimized_module import OptimizedModule

__all__ = [
    "OptimizedModule",
    "config",
    "reset",
    "disable",
    "is_compiling",
    "mark_dynamic",
    "mark_static",
    "maybe_mark_dynamic",
    "graph_break",
    "list_backends",
    "allow_in_graph",
    "eval_frame",
    "assume_constant_result",
    "mark_static_address",
    "explain",
]

sys.modules[__name__ + ".config"] = config


def reset() -> None:
    """Forget compiled code: there is none."""


def disable(
    fn: Callable[..., Any] | None = None, recursive: bool = True, *, reason: str | None = None
) -> Any:
    """Run ``fn`` without compiling (it never is): ``fn`` itself, or a decorator without one."""
    if fn is None:
        return lambda f: f
    return fn


def allow_in_graph(fn: Any) -> Any:
    """Put ``fn`` into the compiled graph whole (a function or a list of them): nothing is
    compiled here, so it is ``fn`` itself, as transformers' decorated methods expect."""
    return fn


def is_compiling() -> bool:
    """False: nothing is ever being compiled here."""
    return False


def mark_dynamic(t: Any, index: Any, *, min: Any = None, max: Any = None, **kwargs: Any) -> None:  # noqa: A002
    """Hint that a dimension varies between calls: nothing to specialise here."""


def maybe_mark_dynamic(t: Any, index: Any) -> None:
    """Hint that a dimension may vary: nothing to specialise here."""


def mark_static(t: Any, index: Any = None) -> None:
    """Hint that a dimension is fixed: nothing to specialise here."""


def graph_break(msg: str = "") -> None:
    """Split the compiled graph here: there is no graph to split."""


def list_backends(exclude_tags: Any = ("debug", "experimental")) -> list[str]:
    """PyTorch's stable backend names (``torch.compile(backend=...)`` accepts any and ignores it)."""
    return ["cudagraphs", "inductor", "openxla", "tvm"]


def assume_constant_result(fn: Any) -> Any:
    """Treat ``fn``'s result as a constant while compiling: nothing is compiled here, so ``fn``
    itself (transformers 5 decorates functions with it at import time)."""
    return fn


def mark_static_address(t: Any, guard: bool = True) -> None:
    """Hint that a tensor's storage never moves (for CUDA graphs): nothing to specialise here."""


# ``torch._dynamo.eval_frame`` (where PyTorch defines OptimizedModule), reached as an attribute
from glassgrad._dynamo import eval_frame  # noqa: E402
