"""``torch.fx.experimental.proxy_tensor``: ``make_fx`` exists so that code importing it imports;
calling it raises ``NotImplementedError``, saying why (glassgrad runs eagerly and records no graph).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

__all__ = ["make_fx"]


def make_fx(f: Callable[..., Any], *args: Any, **kwargs: Any) -> Callable[..., Any]:
    """Not available: glassgrad has no graph tracer (call ``f`` directly)."""
    name = getattr(f, "__name__", type(f).__name__)
    raise NotImplementedError(
        f"fx.experimental.proxy_tensor.make_fx({name}): glassgrad has no graph tracer; functions "
        "run eagerly (call the function directly)"
    )
