"""NumPy's keyword names on ``torch.*`` functions and ``Tensor`` methods: ``axis=`` for ``dim=``
and ``keepdims=`` for ``keepdim=``, as PyTorch's argument parser accepts them on every native
function (``counts.sum(1, keepdims=True)``, ``x.max(axis=0)``, ``torch.mean(x, axis=1)``).

PyTorch does this once, in the parser, for every signature with a ``dim`` or ``keepdim``
parameter; glassgrad does it once too: ``install`` wraps each public function and each ``Tensor``
method whose signature has one of those parameters, when ``glassgrad/__init__.py`` finishes
loading. The wrapper renames the keyword and calls the function, so a call without the NumPy
names costs one ``if``. ``F.*`` functions keep PyTorch's Python signatures (no aliases there,
as in PyTorch).

Example:
    >>> import glassgrad as gg
    >>> gg.ones(2, 3).sum(1, keepdims=True).shape
    glassgrad.Size([2, 1])
    >>> gg.mean(gg.ones(2, 3), axis=0).tolist()
    [1.0, 1.0, 1.0]
"""

from __future__ import annotations

import functools
import inspect
from types import FunctionType
from typing import Any, Callable

__all__ = ["ALIASES", "accept_numpy_names", "install"]

ALIASES = {"axis": "dim", "keepdims": "keepdim"}  # NumPy's name -> PyTorch's


def _renamed(name: str, kwargs: dict[str, Any]) -> dict[str, Any]:
    out = {}
    for key, value in kwargs.items():
        new = ALIASES.get(key, key)
        if new in out or (new != key and new in kwargs):
            raise TypeError(f"{name}() got multiple values for argument '{new}' (as '{new}' and '{key}')")
        out[new] = value
    return out


def accept_numpy_names(fn: Callable, name: str | None = None) -> Callable:
    """``fn`` taking ``axis=``/``keepdims=`` as its ``dim=``/``keepdim=`` (TypeError if both
    spellings of one are given). ``inspect.signature`` of the result is ``fn``'s."""
    name = name or fn.__name__
    names = ALIASES.keys()

    @functools.wraps(fn)
    def with_numpy_names(*args: Any, **kwargs: Any) -> Any:
        if kwargs and not names.isdisjoint(kwargs):
            kwargs = _renamed(name, kwargs)
        return fn(*args, **kwargs)

    with_numpy_names.__numpy_names__ = True
    return with_numpy_names


def _wants(fn: Any) -> bool:
    """Whether ``fn`` is a plain function with a ``dim`` or ``keepdim`` parameter (and no
    ``axis``/``keepdims`` of its own), not wrapped yet."""
    if not isinstance(fn, FunctionType) or getattr(fn, "__numpy_names__", False):
        return False
    try:
        params = inspect.signature(fn).parameters
    except (TypeError, ValueError):
        return False
    if not params.keys().isdisjoint(ALIASES):
        return False
    return any(
        p in params and params[p].kind is not inspect.Parameter.POSITIONAL_ONLY for p in ALIASES.values()
    )


def install(namespace: dict[str, Any], names: list[str], cls: type) -> None:
    """Wrap the functions ``namespace[name]`` (for ``name`` in ``names``) and ``cls``'s methods
    that take ``dim``/``keepdim``, in place (see the module docstring)."""
    for name in names:
        fn = namespace.get(name)
        if _wants(fn):
            namespace[name] = accept_numpy_names(fn, name)
    for name, fn in list(vars(cls).items()):
        if not name.startswith("__") and _wants(fn):
            setattr(cls, name, accept_numpy_names(fn, name))
