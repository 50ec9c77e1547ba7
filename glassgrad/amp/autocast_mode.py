"""``glassgrad.autocast`` (PyTorch's ``torch.amp.autocast``): the mixed-precision region, as a
context manager and a decorator, with PyTorch's arguments, checks and warnings.

NumPy has no bfloat16 and no fast float16 matrix product, so glassgrad does not cast inside the
region: every op runs in its inputs' dtypes (a float32 model stays float32, at full precision and
at float32 speed). The region is kept as state (``is_autocast_enabled``, ``get_autocast_dtype``)
so that code which asks sees what PyTorch would tell it. Entering an enabled region on ``'cpu'``
warns once per process that nothing is cast, so that nobody believes they trained in bfloat16.
On ``'cuda'`` PyTorch without CUDA warns and disables the region; glassgrad does the same.

>>> import glassgrad as gg
>>> with gg.amp.autocast("cpu", enabled=False):
...     gg.amp.is_autocast_enabled("cpu")
False
"""

from __future__ import annotations

import functools
import threading
import warnings
from typing import Any, Callable

from glassgrad import dtypes
from glassgrad.user_frames import user_stacklevel

__all__ = [
    "autocast", "is_autocast_available", "custom_fwd", "custom_bwd", "is_autocast_enabled",
    "set_autocast_enabled", "get_autocast_dtype", "set_autocast_dtype", "is_autocast_cache_enabled",
    "set_autocast_cache_enabled", "clear_autocast_cache",
]  # fmt: skip

# Every device type PyTorch's device parser knows, in its order (for its error message), and those
# that PyTorch 2.13 reports autocast as available on.
_DEVICE_TYPES = (
    "cpu", "cuda", "ipu", "xpu", "mkldnn", "opengl", "opencl", "ideep", "hip", "ve", "fpga", "maia",
    "xla", "lazy", "vulkan", "mps", "meta", "hpu", "mtia", "privateuseone",
)  # fmt: skip
_AUTOCAST_DEVICES = ("cpu", "cuda", "ipu", "xpu", "maia", "xla", "mps", "hpu", "mtia", "privateuseone")

# glassgrad has no bfloat16 dtype (NumPy has none); until it has, the name stands for it.
BFLOAT16: Any = getattr(dtypes, "bfloat16", "bfloat16")
_LOW_PRECISION = ("bfloat16", "float16")

NO_CAST_WARNING = (
    "glassgrad.autocast('cpu', dtype={dtype}) runs every op in its inputs' own dtypes: NumPy has no "
    "bfloat16 and no fast float16 matrix product, so nothing is cast to {dtype} and results stay at "
    "full precision (float32 stays float32). Training numerics and speed differ from PyTorch's CPU "
    "autocast. This warning is shown once."
)


def _name(dtype: Any) -> str:
    """``'bfloat16'`` for glassgrad's stand-in, ``'float16'`` for ``glassgrad.float16`` ..."""
    return str(dtype).split(".")[-1]


class _State(threading.local):
    """PyTorch keeps the autocast state per thread; so does glassgrad."""

    def __init__(self) -> None:
        self.enabled: dict[str, bool] = {}
        self.dtype: dict[str, Any] = {}
        self.cache_enabled = True
        self.nesting = 0


_state = _State()
_warned_no_cast = False


# PyTorch 2.13's default autocast dtype is bfloat16 on these, float16 elsewhere
_BFLOAT16_DEFAULT = ("cpu", "maia", "xla", "hpu")


def _default_dtype(device_type: str) -> Any:
    return BFLOAT16 if device_type in _BFLOAT16_DEFAULT else dtypes.float16


def _type_name(value: Any) -> str:
    """``int``, ``numpy.bool`` (a NumPy bool is not a bool to PyTorch's parser either)."""
    kind = type(value)
    return kind.__qualname__ if kind.__module__ == "builtins" else f"{kind.__module__}.{kind.__qualname__}"


def _check_device_type(device_type: str) -> str:
    kind = device_type.split(":")[0]
    if kind not in _DEVICE_TYPES:
        raise RuntimeError(
            f"Expected one of {', '.join(_DEVICE_TYPES)} device type at start of device string: {device_type}"
        )
    return kind


def is_autocast_available(device_type: str) -> bool:
    """Whether ``autocast(device_type)`` may be entered (PyTorch's answers: True for 'cpu', 'cuda',
    'mps', 'xpu' ..., False for 'meta', 'lazy' ...; an unknown name raises ``RuntimeError``)."""
    return _check_device_type(device_type) in _AUTOCAST_DEVICES


def is_autocast_enabled(device_type: str = "cuda") -> bool:
    """Whether an enabled autocast region for ``device_type`` is open in this thread (PyTorch's
    ``torch.is_autocast_enabled``; without an argument, CUDA's). In glassgrad nothing is cast."""
    return _state.enabled.get(_check_device_type(device_type), False)


_MISSING: Any = object()


def set_autocast_enabled(device_type: Any, enabled: Any = _MISSING) -> None:
    """Open or close the autocast state of ``device_type`` in this thread; PyTorch's older
    one-argument form ``set_autocast_enabled(True)`` is CUDA's, as there."""
    if enabled is _MISSING:
        if not isinstance(device_type, bool):
            raise TypeError("set_autocast_enabled() missing 1 required positional argument: 'enabled'")
        device_type, enabled = "cuda", device_type
    if not isinstance(enabled, bool):  # PyTorch's parser: autocast(enabled=1) stops here too
        raise TypeError(f"set_autocast_enabled(): argument 'enabled' must be bool, not {_type_name(enabled)}")
    _state.enabled[_check_device_type(device_type)] = enabled


def get_autocast_dtype(device_type: str) -> Any:
    """The dtype an autocast region on ``device_type`` names (default ``bfloat16`` on 'cpu', 'xla',
    'hpu' and 'maia', ``float16`` elsewhere, as in PyTorch; glassgrad's ``bfloat16`` is a dtype
    without NumPy storage)."""
    kind = _check_device_type(device_type)
    return _state.dtype.get(kind, _default_dtype(kind))


def set_autocast_dtype(device_type: str, dtype: Any) -> None:
    _state.dtype[_check_device_type(device_type)] = dtype


def is_autocast_cache_enabled() -> bool:
    return _state.cache_enabled


def set_autocast_cache_enabled(enabled: bool) -> None:
    if not isinstance(enabled, bool):  # as PyTorch's binding (autocast(cache_enabled=1) too)
        raise TypeError(f"set_autocast_cache_enabled: enabled must be a bool (got {_type_name(enabled)})")
    _state.cache_enabled = enabled


def clear_autocast_cache() -> None:
    """PyTorch frees its cast-weight cache; glassgrad casts nothing, so there is none."""


def autocast_decorator(autocast_instance: autocast, func: Callable) -> Callable:
    @functools.wraps(func)
    def decorate_autocast(*args: Any, **kwargs: Any) -> Any:
        with autocast_instance:
            return func(*args, **kwargs)

    return decorate_autocast


class autocast:  # noqa: N801 - PyTorch's name
    """A mixed-precision region: ``with autocast("cpu"):`` or ``@autocast("cpu")``.

    Arguments and checks are PyTorch's: ``device_type`` must be a string naming a device type
    (``ValueError`` / ``RuntimeError`` otherwise); ``dtype`` defaults to ``bfloat16`` on 'cpu' and
    ``float16`` elsewhere; on 'cpu' a dtype other than bfloat16/float16 warns and disables the
    region; on 'cuda' (never available in glassgrad) the region warns and disables itself.

    Difference from PyTorch: inside the region glassgrad casts nothing (ops run in their inputs'
    dtypes, at full precision); entering an enabled 'cpu' region warns once saying so.
    """

    def __init__(
        self,
        device_type: str,
        dtype: Any = None,
        enabled: bool = True,
        cache_enabled: bool | None = None,
    ) -> None:
        if not isinstance(device_type, str):
            raise ValueError(f"Expected `device_type` of type `str`, got: `{type(device_type)}`")
        self.fast_dtype = get_autocast_dtype(device_type) if dtype is None else dtype
        self.device = device_type
        if not is_autocast_available(self.device):
            raise RuntimeError(f"User specified an unsupported autocast device_type '{self.device}'")
        self._cache_enabled = is_autocast_cache_enabled() if cache_enabled is None else cache_enabled
        device_name = self.device.upper()
        if enabled:
            if self.device == "cuda":
                from glassgrad import cuda

                if not cuda.is_available():
                    warnings.warn(
                        "CUDA is not available or torch_xla is imported. Disabling autocast.",
                        stacklevel=user_stacklevel(),
                    )
                    enabled = False
            elif _name(self.fast_dtype) not in _LOW_PRECISION:
                warnings.warn(
                    f"In {device_name} autocast, but the target dtype is not supported. Disabling autocast.\n"
                    f"{device_name} Autocast only supports dtypes of {_name(BFLOAT16)}, "
                    f"{dtypes.float16} currently.",
                    stacklevel=user_stacklevel(),
                )
                enabled = False
        self._enabled = enabled

    def __enter__(self) -> autocast:
        global _warned_no_cast
        if self._enabled and self.device == "cpu" and not _warned_no_cast:
            _warned_no_cast = True
            warnings.warn(
                NO_CAST_WARNING.format(dtype=_name(self.fast_dtype)),
                UserWarning,
                stacklevel=user_stacklevel(),
            )
        self.prev_cache_enabled = is_autocast_cache_enabled()
        self.prev = is_autocast_enabled(self.device)
        self.prev_fastdtype = get_autocast_dtype(self.device)
        set_autocast_enabled(self.device, self._enabled)
        set_autocast_dtype(self.device, self.fast_dtype)
        _state.nesting += 1
        set_autocast_cache_enabled(self._cache_enabled)
        return self

    def __exit__(self, exc_type: Any, exc_val: Any, exc_tb: Any) -> bool:
        _state.nesting -= 1
        if _state.nesting == 0:
            clear_autocast_cache()
        set_autocast_enabled(self.device, self.prev)
        set_autocast_dtype(self.device, self.prev_fastdtype)
        set_autocast_cache_enabled(self.prev_cache_enabled)
        return False

    def __call__(self, func: Callable) -> Callable:
        if not callable(func):
            raise TypeError(
                f"autocast()(func) requires a callable, but got {type(func).__name__}. "
                f"Did you mean to use autocast as a context manager? For example:\n"
                f"    with torch.autocast(device_type=...):\n"
                f"        output = model(input)"
            )
        return autocast_decorator(self, func)


def _cast(value: Any, device_type: str, dtype: Any) -> Any:
    """Floating tensors on ``device_type`` (not float64) cast to ``dtype``; containers walked."""
    from glassgrad.tensor import Tensor

    if isinstance(value, Tensor):
        eligible = value.is_floating_point() and value.device.type == device_type
        eligible = eligible and value.dtype != dtypes.float64 and not isinstance(dtype, str)
        return value.to(dtype) if eligible else value
    if isinstance(value, dict):
        return {_cast(k, device_type, dtype): _cast(v, device_type, dtype) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(_cast(v, device_type, dtype) for v in value)
    return value


def custom_fwd(fwd: Callable | None = None, *, device_type: str, cast_inputs: Any = None) -> Callable:
    """Decorate a custom ``Function.forward`` (PyTorch's ``torch.amp.custom_fwd``): in an enabled
    region with ``cast_inputs``, floating inputs are cast to it and forward runs with autocast off."""
    if not isinstance(device_type, str):
        raise ValueError(f"Expected `device_type` of type `str`, got: `{type(device_type)}`")
    if fwd is None:
        return functools.partial(custom_fwd, device_type=device_type, cast_inputs=cast_inputs)

    @functools.wraps(fwd)
    def decorate_fwd(*args: Any, **kwargs: Any) -> Any:
        args[0]._dtype = get_autocast_dtype(device_type)
        if cast_inputs is None:
            args[0]._fwd_used_autocast = is_autocast_enabled(device_type)
            return fwd(*args, **kwargs)
        args[0]._fwd_used_autocast = False
        if is_autocast_enabled(device_type):
            with autocast(device_type=device_type, enabled=False):
                return fwd(*_cast(args, device_type, cast_inputs), **_cast(kwargs, device_type, cast_inputs))
        return fwd(*args, **kwargs)

    return decorate_fwd


def custom_bwd(bwd: Callable | None = None, *, device_type: str) -> Callable:
    """Decorate a custom ``Function.backward``: it runs in the autocast state its forward saw."""
    if not isinstance(device_type, str):
        raise ValueError(f"Expected `device_type` of type `str`, got: `{type(device_type)}`")
    if bwd is None:
        return functools.partial(custom_bwd, device_type=device_type)

    @functools.wraps(bwd)
    def decorate_bwd(*args: Any, **kwargs: Any) -> Any:
        with autocast(device_type=device_type, enabled=args[0]._fwd_used_autocast, dtype=args[0]._dtype):
            return bwd(*args, **kwargs)

    return decorate_bwd
