"""``torch._decomp``: the decomposition tables' two entry points exist so that code importing them
imports (nequip's ``utils/fx.py`` imports ``core_aten_decompositions`` beside ``make_fx``); calling
either raises ``NotImplementedError``, saying why: glassgrad has no ATen operator overloads to
decompose and no ``make_fx`` to give a table to (``fx/experimental/proxy_tensor.py``).
"""

from __future__ import annotations

from typing import Any

__all__ = ["core_aten_decompositions", "get_decompositions"]


def core_aten_decompositions() -> Any:
    """Not available: glassgrad has no ATen decomposition table (it runs eagerly)."""
    raise NotImplementedError(
        "_decomp.core_aten_decompositions(): glassgrad has no ATen decomposition table (no make_fx "
        "tracer to give it to); functions run eagerly"
    )


def get_decompositions(aten_ops: Any, type: Any = None) -> Any:  # noqa: A002
    """Not available: glassgrad has no ATen decomposition table (it runs eagerly)."""
    raise NotImplementedError(
        f"_decomp.get_decompositions({aten_ops!r}): glassgrad has no ATen decomposition table (no "
        "make_fx tracer to give it to); functions run eagerly"
    )
