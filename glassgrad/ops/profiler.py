"""``torch.ops.profiler``: ``_record_function_enter``/``_record_function_exit``, the operator form
of ``record_function`` that a traced graph calls (pytorch/examples' ``fx/profiling_tracer.py``
records them as ``call_function`` nodes). An argument whose type implements
``__torch_function__`` (an fx ``Proxy``) is handed to it, as PyTorch's operators do.
"""

from __future__ import annotations

from typing import Any

__all__ = ["_record_function_enter", "_record_function_exit"]


def _asked(func: Any, args: tuple) -> tuple[bool, Any]:
    from glassgrad import torch_function as tf

    if not tf.state.on:
        return False, None
    found = tf.overloaded_args(args, None)
    if not found and not (tf.state.modes and not tf.state.all_off):
        return False, None
    return True, tf.dispatch(func, found, args, None)


def _record_function_enter(name: Any, args: Any = None) -> Any:
    """Open a ``record_function(name)`` block in the open profiles; returns its handle."""
    asked, out = _asked(_record_function_enter, (name, args))
    if asked:
        return out
    if not isinstance(name, str):
        raise TypeError(f"ops.profiler._record_function_enter: name must be a str, got {type(name).__name__}")
    from glassgrad.autograd.profiler import record_function

    return record_function(name, args).__enter__()


def _record_function_exit(handle: Any) -> None:
    """Close the block that ``_record_function_enter`` returned ``handle`` for."""
    asked, out = _asked(_record_function_exit, (handle,))
    if asked:
        return out
    from glassgrad.autograd.profiler import record_function

    if not isinstance(handle, record_function):
        raise TypeError(
            f"ops.profiler._record_function_exit: expected the handle from _record_function_enter, got {type(handle).__name__}"
        )
    handle.__exit__(None, None, None)
    return None
