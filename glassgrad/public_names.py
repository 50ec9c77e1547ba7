"""Functions pickle by the name they are reached by, as PyTorch's do.

``pickle`` stores a function as ``module.qualname`` and refuses one that this name does not reach
back. Many of glassgrad's public functions are wrappers made at import time (``out=`` forms,
NumPy's ``axis=`` names, renamed aliases) that carry the wrapped function's ``__module__`` and
``__qualname__``, so ``pickle.dumps(glassgrad.sum)`` failed, and with it a
``functools.partial(glassgrad.stack, dim=0)`` collate function handed to ``DataLoader`` workers
started by spawn. ``own_names`` points each such function at its public name (``glassgrad.sum``,
``glassgrad.Tensor.sum``) and names it so (``__name__``: ``glassgrad.arctan.__name__`` is
``'arctan'``, as PyTorch's, not the ``'atan'`` it wraps); a function whose own name already
reaches it is left alone.

>>> import pickle, glassgrad
>>> pickle.loads(pickle.dumps(glassgrad.sum)) is glassgrad.sum
True
"""

from __future__ import annotations

import sys
from types import FunctionType
from typing import Any

__all__ = ["own_names", "reached"]


def reached(fn: FunctionType) -> bool:
    """Whether ``fn.__module__`` + ``fn.__qualname__`` lead back to ``fn`` (what pickle checks)."""
    obj: Any = sys.modules.get(fn.__module__)
    for part in fn.__qualname__.split("."):
        obj = getattr(obj, part, None)
    return obj is fn


def own_names(namespace: dict[str, Any], names: list[str], module: str, cls: type) -> None:
    """Name the functions ``namespace[name]`` ``module.name`` and ``cls``'s methods
    ``module.Cls.name`` where their own names do not reach them."""
    for name in names:
        fn = namespace.get(name)
        if isinstance(fn, FunctionType) and not reached(fn):
            fn.__module__, fn.__qualname__ = module, name
            # an alias made as its own wrapper (arctan over atan) is named as PyTorch's is:
            # fx names its nodes, and __torch_function__ tables key functions, by __name__
            fn.__name__ = name
    for name, fn in vars(cls).items():
        if isinstance(fn, FunctionType) and not reached(fn):
            fn.__module__, fn.__qualname__ = module, f"{cls.__name__}.{name}"
    # and the class itself, as PyTorch's prints: <class 'glassgrad.Tensor'> (still reached both ways)
    cls.__module__ = module
