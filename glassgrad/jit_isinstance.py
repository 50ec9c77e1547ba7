"""``torch.jit.isinstance``: ``isinstance`` that also checks the contents of typed containers
(``List[int]``, ``Dict[str, Tensor]``, ``Tuple[int, str]``, ``Optional[T]``/``Union``), as
TorchScript's refinement does; in eager mode it walks the container, as PyTorch's does.

>>> from typing import Dict, List
>>> import glassgrad as gg
>>> jit_isinstance([1, 2], List[int]), jit_isinstance({"a": gg.ones(1)}, Dict[str, gg.Tensor])
(True, True)
"""

from __future__ import annotations

import builtins
import collections.abc
import types
import typing
import warnings
from typing import Any, get_args, get_origin

__all__ = ["jit_isinstance"]

# bare container types: TorchScript needs their contained types
_RAW = {
    dict: "dict",
    list: "list",
    tuple: "tuple",
    typing.Dict: "Dict",  # noqa: UP006
    typing.List: "List",  # noqa: UP006
    typing.Optional: "Optional",
    typing.Tuple: "Tuple",  # noqa: UP006
}


def _check_args(target_type: Any) -> None:
    try:
        name = _RAW.get(target_type)
    except TypeError:  # an unhashable target
        return
    if name is None:
        return
    example = f"{name}[int, int]" if name.endswith("ict") else f"{name}[int]"
    raise RuntimeError(
        f"torch.jit.isinstance: expected {name} with its contained types, e.g. {example}, got {name} "
        "without them"
    )


def _warn_if_empty(obj: Any) -> None:
    if obj == [] or obj == {} or obj == ():
        warnings.warn(
            "torch.jit.isinstance: the inner type of an empty container is lost in eager mode (List[int] "
            "becomes list, so an empty list matches List[float] or List[str] too)",
            stacklevel=4,
        )


def _matches(obj: Any, t: Any) -> bool:
    return _container(obj, t) if get_origin(t) else builtins.isinstance(obj, t)


def _container(obj: Any, target_type: Any) -> bool:
    origin = get_origin(target_type)
    _check_args(target_type)
    args = get_args(target_type)
    if origin is list:
        _warn_if_empty(obj)
        return builtins.isinstance(obj, list) and all(_matches(el, args[0]) for el in obj)
    if origin is dict:
        _warn_if_empty(obj)
        return builtins.isinstance(obj, dict) and all(
            builtins.isinstance(k, args[0]) and _matches(v, args[1]) for k, v in obj.items()
        )
    if origin is tuple:
        _warn_if_empty(obj)
        return (
            builtins.isinstance(obj, tuple)
            and len(obj) == len(args)
            and all(_matches(el, t) for el, t in zip(obj, args))
        )
    if origin is typing.Union or origin is types.UnionType:  # Optional[T] too
        return obj is None or any(_matches(obj, t) for t in args)
    return False


def jit_isinstance(obj: Any, target_type: Any) -> bool:
    """Whether ``obj`` is of ``target_type``: a class, a typed container (checked element by
    element), ``Optional``/``Union``, or a tuple of those (any one matching).

    Raises ``RuntimeError`` (as PyTorch's) for a bare container type (``List``, ``list``, ``Dict``)
    or a second argument that is a container other than a tuple.
    """
    if builtins.isinstance(target_type, collections.abc.Container):
        if not builtins.isinstance(target_type, tuple):
            raise RuntimeError(
                "torch.jit.isinstance: expected the second argument to be a type or a tuple of types, "
                f"got {type(target_type).__name__}"
            )
        return any(jit_isinstance(obj, t) for t in target_type)
    if get_origin(target_type):
        return _container(obj, target_type)
    _check_args(target_type)
    return builtins.isinstance(obj, target_type)
