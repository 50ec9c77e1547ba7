# ruff: noqa: N999 - PyTorch's module name
"""``torch._VF``: the module through which PyTorch's own layers reach ATen's functions
(``_VF.lstm(...)``, ``_VF.gru_cell(...)``, ``_VF.norm(...)``); older programs and hand-written
layers call it too. Here every name is the top-level function of that name (``glassgrad.lstm``)."""

from __future__ import annotations

from typing import Any


def __getattr__(name: str) -> Any:
    import glassgrad

    if name.startswith("__"):
        raise AttributeError(name)
    try:
        return getattr(glassgrad, name)
    except AttributeError:
        raise AttributeError(
            f"module 'glassgrad._VF' has no attribute {name!r} (glassgrad has no {name})"
        ) from None
