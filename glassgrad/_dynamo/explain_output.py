"""``torch._dynamo.explain``: what ``torch.compile`` would make of a function. PyTorch runs the
function once under Dynamo and reports the FX graphs it captured and the graph breaks between them;
glassgrad compiles nothing (``glassgrad.compile`` returns the function as it is), so ``explain`` runs
the function once, eagerly, and reports what was compiled: no graphs, no graph breaks, no ops.
snntorch's tests ask ``explain(neuron)(x).graph_break_count == 0`` of every neuron.

>>> import glassgrad as gg
>>> out = gg._dynamo.explain(lambda x: x.sin() + 1)(gg.zeros(3))
>>> out.graph_count, out.graph_break_count, out.break_reasons
(0, 0, [])
"""

from __future__ import annotations

import dataclasses
import warnings
from collections.abc import Callable
from typing import Any

__all__ = ["ExplainOutput", "explain"]


@dataclasses.dataclass
class ExplainOutput:
    """PyTorch's result of ``explain`` (``torch._dynamo.backends.debugging.ExplainOutput``), with its
    fields; here every list is empty and every count 0."""

    graphs: list
    graph_count: int
    graph_break_count: int
    break_reasons: list
    op_count: int
    ops_per_graph: list | None = None
    out_guards: list | None = None
    compile_times: str | None = None

    def __str__(self) -> str:
        out = f"Graph Count: {self.graph_count}\nGraph Break Count: {self.graph_break_count}\n"
        out += f"Op Count: {self.op_count}\nBreak Reasons:\n"
        if self.ops_per_graph is not None:
            out += "Ops per Graph:\n"
        if self.out_guards is not None:
            out += "Out Guards:\n"
        if self.compile_times is not None:
            out += f"Compile Times: {self.compile_times}\n"
        return out


def explain(f: Callable[..., Any], *extra_args: Any, **extra_kwargs: Any) -> Any:
    """``explain(f)(*args, **kwargs)``: runs ``f`` once and returns an :class:`ExplainOutput` (nothing
    is compiled here: no graphs and no graph breaks). PyTorch's older form ``explain(f, *args)``
    returns it at once, with PyTorch's ``FutureWarning``."""
    if not callable(f):
        raise TypeError(f"_dynamo.explain: expected a function or module, got {type(f).__name__}")

    def inner(*args: Any, **kwargs: Any) -> ExplainOutput:
        f(*args, **kwargs)
        return ExplainOutput([], 0, 0, [], 0, [], [], "")

    if extra_args or extra_kwargs:
        warnings.warn(
            "explain(f, *args, **kwargs) is deprecated, use explain(f)(*args, **kwargs) instead.  "
            "If you don't migrate, we may break your explain call in the future if your user defined kwargs "
            "conflict with future kwargs added to explain(f).",
            FutureWarning,
            stacklevel=2,
        )
        return inner(*extra_args, **extra_kwargs)
    return inner
