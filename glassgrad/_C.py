# ruff: noqa: N999 - PyTorch's module name
"""``torch._C``: PyTorch's compiled extension. glassgrad has none; this module holds only the few
private hooks that published model code calls directly, as no-ops with PyTorch's return values.

torchvision's model constructors call ``torch._C._log_api_usage_once("torchvision.models...")``
(PyTorch's opt-in usage telemetry); here nothing is recorded.
"""

from __future__ import annotations

import sys
from typing import Any


def _log_api_usage_once(event: str) -> None:
    """Records nothing (glassgrad has no usage logging); returns None, as PyTorch's does."""
    if not isinstance(event, str):
        raise TypeError(f"_C._log_api_usage_once: expected an event name (str), got {type(event).__name__}")


def _get_tracing_state() -> None:
    """None: code under glassgrad is never traced (``torch.jit.is_tracing()`` is False)."""
    return None


def _is_tracing() -> bool:
    """False, as PyTorch's outside ``torch.jit.trace``: glassgrad never traces (asteroid-filterbanks'
    own ``script_if_tracing`` copy calls ``torch._C._is_tracing()`` on every filterbank call)."""
    return False


# TorchScript's profiling and autocast switches: glassgrad runs everything eagerly, so the flags are
# only remembered. SpeechBrain turns both profiling ones off when it is imported (utils/quirks.py).
_jit_profiling = {"executor": True, "mode": True, "autocast": True}


def _jit_set_profiling(op: str, key: str, flag: Any) -> bool:
    if not isinstance(flag, bool):
        raise TypeError(f"_C.{op}: expected a bool, got {type(flag).__name__}")
    old, _jit_profiling[key] = _jit_profiling[key], flag
    return old


def _jit_set_profiling_executor(flag: bool) -> bool:
    """Sets TorchScript's profiling executor flag; returns the previous one (True at start)."""
    return _jit_set_profiling("_jit_set_profiling_executor", "executor", flag)


def _jit_set_profiling_mode(flag: bool) -> bool:
    """Sets TorchScript's profiling mode flag; returns the previous one (True at start)."""
    return _jit_set_profiling("_jit_set_profiling_mode", "mode", flag)


def _jit_set_autocast_mode(flag: bool) -> bool:
    """Sets TorchScript's autocast flag; returns the previous one (True at start). NVIDIA's WaveGlow
    turns it off when its model module is imported."""
    return _jit_set_profiling("_jit_set_autocast_mode", "autocast", flag)


# __torch_function__'s switches and checks (torch_function.py, overrides.py)
from glassgrad.torch_function import (  # noqa: E402, F401 - torch._C's names
    DisableTorchFunction,
    DisableTorchFunctionSubclass,
    _disabled_torch_function_impl,
)


def _is_torch_function_enabled() -> bool:
    """False inside ``DisableTorchFunction`` or ``DisableTorchFunctionSubclass``."""
    from glassgrad.torch_function import state

    return not (state.all_off or state.subclass_off)


def _is_torch_function_all_disabled() -> bool:
    from glassgrad.torch_function import state

    return bool(state.all_off)


def _has_torch_function(args: Any) -> bool:
    from glassgrad.overrides import has_torch_function

    return has_torch_function(args)


def _has_torch_function_unary(arg: Any) -> bool:
    from glassgrad.overrides import has_torch_function

    return has_torch_function((arg,))


def _has_torch_function_variadic(*args: Any) -> bool:
    from glassgrad.overrides import has_torch_function

    return has_torch_function(args)


def _len_torch_function_stack() -> int:
    from glassgrad.torch_function import state

    return len(state.modes)


def _push_on_torch_function_stack(mode: Any) -> None:
    from glassgrad.overrides import _push_mode

    _push_mode(mode)


def _pop_torch_function_stack() -> Any:
    from glassgrad.overrides import _pop_mode

    return _pop_mode()


def _get_function_stack_at(i: int) -> Any:
    from glassgrad.torch_function import state

    return state.modes[i]


def _dispatch_find_schema_or_throw(name: str, overload_name: str) -> Any:
    """The operator ``name`` (``"ns::op"``) of overload ``overload_name`` (``""``: the unnamed one)
    when ``glassgrad.library`` defined it; RuntimeError with PyTorch's message otherwise. gsplat asks
    it at import whether its compiled ops exist before attaching their autograd. glassgrad has no
    ATen registry, so ``aten::`` names are reported missing too."""
    if not isinstance(name, str) or not isinstance(overload_name, str):
        raise TypeError(
            "_dispatch_find_schema_or_throw(): incompatible function arguments: expected (str, str), got "
            f"({type(name).__name__}, {type(overload_name).__name__})"
        )
    from glassgrad import _ops

    found = _ops.CUSTOM_OPS.get(name)
    overloads = getattr(found, "_overloads", None)
    if overloads is not None:  # a Library.define'd packet: its unnamed overload is kept as "default"
        key = overload_name or "default"
        chosen = overloads.get(key) if overload_name != "default" else None
        if chosen is not None and chosen._schema is not None:
            return chosen
    elif found is not None and overload_name == "":  # a custom_op: one unnamed overload
        return found
    raise RuntimeError(f"Could not find schema for {name}.{overload_name}")


def __getattr__(name: str) -> Any:
    if name.startswith("__"):
        raise AttributeError(name)
    raise AttributeError(
        f"module 'glassgrad._C' has no attribute {name!r}: glassgrad has no compiled extension, "
        "only _log_api_usage_once, _get_tracing_state, _is_tracing, the jit profiling and autocast "
        "switches, __torch_function__'s switches, _dispatch_find_schema_or_throw, _TensorMeta, _nn._parse_to, "
        "_distributed_c10d, Graph, Value, Tag and the error classes "
        "(_LinAlgError, OutOfMemoryError, _DistError, _DistStoreError, _DistNetworkError)"
    )


# the exception classes PyTorch defines in C++: the same classes as their public names
# (torch.linalg.LinAlgError ...). torchdiffeq's implicit Runge-Kutta step catches
# ``torch._C._LinAlgError`` around ``linalg.solve`` to stop its Broyden iteration on a singular Jacobian
from glassgrad.distributed.store import DistError as _DistError  # noqa: E402, F401
from glassgrad.distributed.store import DistNetworkError as _DistNetworkError  # noqa: E402, F401
from glassgrad.distributed.store import DistStoreError as _DistStoreError  # noqa: E402, F401
from glassgrad.errors import LinAlgError as _LinAlgError  # noqa: E402, F401
from glassgrad.errors import OutOfMemoryError  # noqa: E402, F401

# torch.library's low-level API: an Autograd kernel's Function.forward calls the op again inside this
from glassgrad.library_ops import Tag, _AutoDispatchBelowAutograd  # noqa: E402, F401

# the metaclass of Tensor, as torch._C._TensorMeta (Lightning's lazy loader subclasses it)
from glassgrad.tensor import Tensor as _Tensor  # noqa: E402

_TensorMeta = type(_Tensor)

# torch._C._distributed_c10d: torch.distributed's classes (c10d_names.py);
# torch._C._nn: its ``_parse_to`` (the argument reader of ``to``)
from glassgrad import c10d_names as _distributed_c10d  # noqa: E402
from glassgrad import parse_to as _nn  # noqa: E402, F401

# registered so that ``from torch._C._distributed_c10d import ProcessGroup`` finds it (this module
# is no package, so the import system looks for the submodule in sys.modules only)
sys.modules[f"{__name__}._distributed_c10d"] = _distributed_c10d


class Value:
    """``torch._C.Value``, a value in a TorchScript graph: glassgrad builds no TorchScript graphs, so
    there are none (snntorch's losses import the name and never use it). As PyTorch's, the class has
    no constructor."""

    def __new__(cls, *args: Any, **kwargs: Any) -> Value:
        raise TypeError("torch._C.Value: No constructor defined!")


class Graph:
    """``torch._C.Graph`` (``torch.Graph``), a TorchScript graph: glassgrad builds none, so one made
    here stays empty (``repr`` as PyTorch's empty graph). Model code names it in the annotations of
    its ONNX symbolic functions (physicsnemo's ``fft.py``: ``def _contrib_rfft(g: torch.Graph, ...)``)."""

    def __repr__(self) -> str:
        return "graph():\n  return ()\n"
