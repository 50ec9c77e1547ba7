"""What tracing knows about itself: ``is_fx_tracing()`` (true while ``Tracer.trace`` runs, as
PyTorch's ``torch.fx._symbolic_trace.is_fx_tracing``), ``ProxyableClassMeta`` (a class whose
construction from Proxies is recorded as one ``call_function`` node) and the user's stack for
``Tracer.record_stack_traces``."""

from __future__ import annotations

import os
import traceback
from typing import Any

from glassgrad.fx.node import map_aggregate

__all__ = ["ProxyableClassMeta", "is_fx_tracing"]

_is_fx_tracing_flag = False
# Classes made with ProxyableClassMeta: an instance met as an argument is kept on the root.
_proxyable_classes: dict[type, None] = {}
# Frames inside glassgrad's fx package are the tracer's, not the user's program.
_FX_DIR = os.path.dirname(os.path.abspath(__file__))
_GG_DIR = os.path.dirname(_FX_DIR)


def is_fx_tracing() -> bool:
    """Whether a symbolic trace is running (a model may branch on it, as PyTorch models do)."""
    return _is_fx_tracing_flag


def set_fx_tracing(flag: bool) -> bool:
    """Set the flag; return its old value (``Tracer.trace`` restores it, so traces may nest)."""
    global _is_fx_tracing_flag
    old, _is_fx_tracing_flag = _is_fx_tracing_flag, flag
    return old


def user_stack_trace() -> str | None:
    """The traced program's stack as PyTorch records it in ``node.stack_trace`` under
    ``record_stack_traces``: from the first frame named ``forward`` on (None without one, as for
    a traced plain function), glassgrad's own frames left out."""
    stack = traceback.extract_stack()[:-1]
    start = next((i for i, f in enumerate(stack) if f.name == "forward"), None)
    if start is None:
        return None
    frames = [f for f in stack[start:] if not os.path.abspath(f.filename).startswith(_GG_DIR + os.sep)]
    return "".join(traceback.format_list(frames)).strip() or None


class ProxyableClassMeta(type):
    """``class C(metaclass=ProxyableClassMeta)``: while tracing, ``C(...)`` with a Proxy among its
    arguments records a ``call_function`` node of ``C`` (its ``__init__`` may not run on Proxies);
    otherwise the instance is built as usual."""

    def __init__(cls, name: str, bases: tuple, attrs: dict) -> None:
        _proxyable_classes[cls] = None
        super().__init__(name, bases, attrs)

    def __call__(cls, *args: Any, **kwargs: Any) -> Any:
        from glassgrad.fx.proxy import Proxy

        found: list[Proxy] = []

        def check(a: Any) -> Any:
            if isinstance(a, Proxy):
                found.append(a)
            return a

        if is_fx_tracing():
            map_aggregate(args, check)
            map_aggregate(kwargs, check)
        if found:
            return found[0].tracer.create_proxy("call_function", cls, args, kwargs)
        return super().__call__(*args, **kwargs)
