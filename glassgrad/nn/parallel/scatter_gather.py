"""``torch.nn.parallel.scatter_gather``: ``scatter``, ``scatter_kwargs`` and ``gather``, importable as PyTorch's
submodule (``parallel_functions.py``), with its helpers ``is_namedtuple``/``_is_namedtuple``."""

import warnings
from typing import Any

from glassgrad.nn.parallel._functions import Gather, Scatter
from glassgrad.nn.parallel_functions import _is_namedtuple, gather, scatter, scatter_kwargs

__all__ = ["scatter", "scatter_kwargs", "gather", "Gather", "Scatter", "is_namedtuple"]


def is_namedtuple(obj: Any) -> bool:
    """Whether ``obj`` is an instance of a ``collections.namedtuple``/``typing.NamedTuple`` type
    (deprecated in PyTorch, which warns with a ``FutureWarning``; so does this)."""
    warnings.warn(
        "`is_namedtuple` is deprecated, please use the python checks instead", FutureWarning, stacklevel=2
    )
    return _is_namedtuple(obj)
