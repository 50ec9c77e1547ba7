"""``torch._C._nn``: the one helper of PyTorch's compiled ``nn`` namespace that Python code calls,
``_parse_to``, which reads the arguments of ``Module.to``/``Tensor.to`` the way ``to`` does
(Lightning's ``DeviceDtypeModuleMixin.to`` and torchmetrics use it)."""

from __future__ import annotations

from typing import Any

from glassgrad import dtypes
from glassgrad.device import check_device
from glassgrad.device import device as _device
from glassgrad.memory_formats import memory_format as _memory_format
from glassgrad.tensor import Tensor

__all__ = ["_parse_to"]

_SIGNATURES = (
    " * (torch.device device = None, torch.dtype dtype = None, bool non_blocking = False, bool copy = False, "
    "*, torch.memory_format memory_format = None)\n"
    " * (torch.dtype dtype, bool non_blocking = False, bool copy = False, *, torch.memory_format memory_format = None)\n"
    " * (Tensor tensor, bool non_blocking = False, bool copy = False, *, torch.memory_format memory_format = None)"
)
_KEYWORDS = ("device", "dtype", "non_blocking", "copy", "memory_format", "tensor")


def _invalid(args: tuple, kwargs: dict) -> TypeError:
    got = ", ".join([type(a).__name__ for a in args] + [f"{k}={type(v).__name__}" for k, v in kwargs.items()])
    return TypeError(
        f"to() received an invalid combination of arguments - got ({got}), but expected one of:\n{_SIGNATURES}"
    )


def _as_device(where: Any, args: tuple, kwargs: dict) -> _device:
    if not isinstance(where, str | int | _device):
        raise _invalid(args, kwargs)
    check_device(where, "to")
    return where if isinstance(where, _device) else _device(where)


def _parse_to(*args: Any, **kwargs: Any) -> tuple[Any, Any, bool, Any]:
    """``(device, dtype, non_blocking, memory_format)`` from the arguments of ``to``: a device
    and/or dtype, or a tensor (its device and dtype), then ``non_blocking`` and ``copy``; what is not
    given is ``None`` (``non_blocking`` ``False``). Another argument raises PyTorch's ``TypeError``;
    ``copy``, even ``False``, its ``RuntimeError``."""
    if any(k not in _KEYWORDS for k in kwargs):
        raise _invalid(args, kwargs)
    dev, dt, flags = kwargs.get("device"), kwargs.get("dtype"), list(args)
    if flags and isinstance(flags[0], Tensor):
        t = flags.pop(0)
        dev, dt = t.device, t.dtype
    elif "tensor" in kwargs:
        dev, dt = kwargs["tensor"].device, kwargs["tensor"].dtype
    elif flags and isinstance(flags[0], dtypes.DType):
        dt = flags.pop(0)
    elif flags and not isinstance(flags[0], bool):
        dev = flags.pop(0)
        if flags and isinstance(flags[0], dtypes.DType):
            dt = flags.pop(0)
    if len(flags) > 2 or not all(isinstance(f, bool) for f in flags):
        raise _invalid(args, kwargs)
    if dt is not None and not isinstance(dt, dtypes.DType):
        raise _invalid(args, kwargs)
    fmt = kwargs.get("memory_format")
    if fmt is not None and not isinstance(fmt, _memory_format):
        raise _invalid(args, kwargs)
    if len(flags) > 1 or "copy" in kwargs:  # even copy=False, as PyTorch's
        raise RuntimeError(".to() does not accept copy argument")
    non_blocking = bool(flags[0]) if flags else bool(kwargs.get("non_blocking", False))
    return (None if dev is None else _as_device(dev, args, kwargs)), dt, non_blocking, fmt
