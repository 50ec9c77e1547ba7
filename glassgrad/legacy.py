"""Names that old and new PyTorch scripts reach for at the top level and that are not ops:
the legacy constructor's rules (``Tensor(3, 4)``, ``Tensor(data)``, ``t.type("torch.LongTensor")``),
the legacy typed constructors (``LongTensor``, ``FloatTensor`` ...), ``finfo``/``iinfo`` (from
``dtype_info``),
``set_printoptions``, ``initial_seed``, ``compile`` (a no-op here) and the number constants.

>>> import glassgrad as gg
>>> gg.LongTensor([1, 2]), gg.FloatTensor(2, 3).shape
(tensor([1, 2]), glassgrad.Size([2, 3]))
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from glassgrad import dtypes, printing
from glassgrad.autograd.grad_mode import state as _grad_state
from glassgrad.device import check_device
from glassgrad.device import device as _Device
from glassgrad.dtype_info import finfo, iinfo
from glassgrad.errors import GraphError
from glassgrad.factories import _float, _size, as_array, empty, from_numpy
from glassgrad.inference import check_numpy_source, warn_ndarray_list
from glassgrad.memory_formats import contiguous_format, legacy_contiguous_format, preserve_format
from glassgrad.tensor import _NO_DATA, Size, Tensor
from glassgrad.tensor_storage import _Storage

__all__ = [
    "FloatTensor", "DoubleTensor", "HalfTensor", "LongTensor", "IntTensor", "ShortTensor",
    "CharTensor", "ByteTensor", "BoolTensor", "BFloat16Tensor", "finfo", "iinfo", "set_printoptions",
    "compile", "inf", "nan", "pi", "e", "strided", "contiguous_format", "legacy_contiguous_format",
    "preserve_format", "legacy_data", "legacy_dtype", "legacy_type_name", "legacy_new", "typename",
    "_assert", "_assert_async",
]  # fmt: skip

inf, nan, pi, e = math.inf, math.nan, math.pi, math.e
strided = "strided"


def _assert(condition: Any, message: str) -> None:
    """PyTorch's ``torch._assert``: an assert written as a call (StyleGAN's and EDM's
    ``misc.assert_shape``, torchvision's models), so tracing can keep it. ``condition`` is a bool or
    a one-element tensor; a false one raises ``AssertionError(message)``. Unlike the statement it
    also checks under ``python -O`` (the library never uses bare asserts). A ``condition`` whose
    type implements ``__torch_function__`` (an fx ``Proxy``) is handed to it, as PyTorch's, so a
    tracer records the assert instead of asking the proxy for a bool."""
    from glassgrad import torch_function as tf

    if tf.state.on and type(condition) is not Tensor:
        found = tf.overloaded_args((condition,), None)
        if found or (tf.state.modes and not tf.state.all_off):
            return tf.dispatch(_assert, found, (condition, message), None)
    if not condition:
        raise AssertionError(message)


def _assert_async(tensor: Tensor, assert_msg: str | None = None) -> None:
    """PyTorch's ``torch._assert_async``: raise ``RuntimeError`` when the one-element ``tensor`` is
    zero (False). On the CPU the check is immediate (kornia's ``adjust_gamma``/``adjust_contrast``)."""
    if not isinstance(tensor, Tensor):
        raise TypeError(f"_assert_async: expected a one-element Tensor, got {type(tensor).__name__}")
    if not bool(tensor):  # bool() refuses zero or several elements, as PyTorch's does
        raise RuntimeError(assert_msg or "_assert_async: the tensor's single value is zero (False)")


# ------------------------------------------------------------------ the legacy constructor, torch.Tensor(...)
_LEGACY = {
    "FloatTensor": np.float32, "DoubleTensor": np.float64, "HalfTensor": np.float16,
    "LongTensor": np.int64, "IntTensor": np.int32, "ShortTensor": np.int16, "CharTensor": np.int8,
    "ByteTensor": np.uint8, "BoolTensor": np.bool_,
}  # fmt: skip
# every type name: the legacy constructors' and two without one (Tensor.type() answers them,
# t.type(name) takes them)
_TYPE_NAMES = {**_LEGACY, "ComplexFloatTensor": np.complex64, "ComplexDoubleTensor": np.complex128}


def legacy_data(owner: Tensor, data: Any, sizes: tuple, dtype: Any, device: Any) -> np.ndarray:
    """The array for ``Tensor(...)`` called as PyTorch's legacy constructor (see ``Tensor``)."""
    check_device(device, "Tensor")
    dt = _float(dtype)
    if data is _NO_DATA:
        return np.zeros((0,), dtype=dt)
    if (
        isinstance(data, Size)
        or (isinstance(data, int | np.integer) and not isinstance(data, bool))
        or (sizes and isinstance(data, Tensor) and data._data.size == 1 and data._data.dtype.kind in "iu")
    ):  # sizes: ints, or one-element integer tensors among several arguments (fairseq's noising:
        # LongTensor(lengths.max(), n)), as PyTorch's size parser reads them
        shape = tuple(data) if isinstance(data, Size) else (data, *sizes)
        return np.zeros(_size(shape, "Tensor"), dtype=dt)
    if sizes:
        raise TypeError(
            f"Tensor: expected sizes (ints) or one data argument, got {type(data).__name__} and {sizes!r}; "
            "use glassgrad.tensor(data) to make a tensor from data"
        )
    if isinstance(data, Tensor):
        if dtype is not None:
            return data._data.astype(dt)  # a copy: its own memory and version counter
        if data.requires_grad and _grad_state.enabled:
            # PyTorch's alias is recorded (AliasBackward0) and passes gradients back to t; a
            # constructor cannot record one here, and an alias cut from the graph would drop them
            raise GraphError(
                "Tensor(t): t requires grad, and the legacy constructor's alias cannot carry its "
                "gradient here; use t itself or t.view_as(t) (or detach it, or call this under no_grad)"
            )
        owner._vc = data._vc  # Tensor(t) is an alias of t, as in PyTorch
        data._vc[1] = True
        return data._data
    if isinstance(data, _Storage):  # over the storage's memory, as ByteTensor(storage)
        from glassgrad.legacy_storage import tensor_over_storage

        over = tensor_over_storage("Tensor", np.dtype(dt), data)
        owner._vc = over._vc
        return over._data
    if isinstance(data, str | bytes | bytearray):  # PyTorch's TypeError; NumPy read bytes as numbers
        raise TypeError(f"new(): invalid data type '{type(data).__name__}'")
    if data is None or isinstance(data, float | complex | bool | np.generic | dict | set | frozenset):
        # one number is no size and no data: Tensor(3.0) was tensor(3.), Tensor(None) tensor(nan)
        raise TypeError(
            f"new(): data must be a sequence (got {type(data).__name__}); glassgrad.tensor(x) makes a 0-d tensor"
        )
    warn_ndarray_list(data)  # PyTorch's, as tensor() gives it
    check_numpy_source(data)
    if isinstance(data, np.ndarray) and data.dtype == dt:
        # PyTorch's legacy constructor shares an array of its own dtype, as from_numpy (one of
        # another dtype is converted): a write through either shows in the other, resize_ is refused
        owner._vc = from_numpy(data)._vc
        return data
    return np.array(as_array(data, dt), copy=True)


def legacy_new(self: Tensor, *args: Any, device: Any = None) -> Tensor:
    """PyTorch's legacy ``x.new(...)``: ``Tensor(...)``'s rules (sizes, a ``Size``, data or nothing)
    in x's dtype and on x's device (a ``device`` must be x's); ``x.new(t)`` of a tensor of x's
    dtype and device is an alias of t (a view of all of it, ``_base`` t, in t's graph), as
    PyTorch's."""
    own = self.device.type
    if device is not None and _device_type(device) != own:
        raise RuntimeError(
            f"new: legacy constructor expects device type: {own} but device type: {_device_type(device)} "
            "was passed (the device of the tensor new is called on)"
        )
    if len(args) == 1 and isinstance(args[0], Tensor):
        t = args[0]
        if t.dtype != self.dtype or t.device.type != own:
            raise TypeError(
                f"new: expected a tensor of dtype {self.dtype} on {own}, got one of {t.dtype} on {t.device.type}"
            )
        return t.view_as(t)
    if own != "meta":
        return Tensor(*args, dtype=self.dtype)
    if args and all(isinstance(a, int | np.integer) and not isinstance(a, bool) for a in args):
        return empty(*args, dtype=self.dtype, device="meta")  # sizes: nothing allocated
    if len(args) == 1 and isinstance(args[0], Size):
        return empty(args[0], dtype=self.dtype, device="meta")
    return Tensor(*args, dtype=self.dtype).to("meta")  # data (or nothing): its shape, on meta


def _device_type(where: Any) -> str:
    return (where if isinstance(where, _Device) else _Device(where)).type


def legacy_dtype(name: Any) -> Any:
    """A dtype, or a legacy type name such as ``"torch.LongTensor"`` (``torch.Tensor``: the default
    float dtype), as a NumPy dtype."""
    cuda = isinstance(name, str) and ".cuda." in name
    if cuda or (isinstance(name, type) and getattr(name, "__module__", "") == "glassgrad.cuda"):
        # PyTorch's CPU build raises here too; a quiet CPU tensor would hide the script's intent
        raise RuntimeError(
            f"Tensor.type: {name if cuda else 'torch.cuda.' + name.__name__} is a CUDA "
            "tensor type; glassgrad computes on the CPU only (use the CPU type or .to('cpu'))"
        )
    if name is Tensor or (isinstance(name, str) and name == "torch.Tensor"):
        # the default tensor type (nflows' `(x < 0).type(torch.Tensor)`): float64 after
        # set_default_dtype(float64), as PyTorch's default tensor type follows it
        return dtypes.get_default_dtype().np
    if name is BFloat16Tensor or (isinstance(name, str) and name.rsplit(".", 1)[-1] == "BFloat16Tensor"):
        return dtypes.bfloat16  # the cast raises bfloat16's DTypeError, saying why
    if isinstance(name, str):
        short = name.rsplit(".", 1)[-1]
        if short in _TYPE_NAMES:
            return np.dtype(_TYPE_NAMES[short])
    if isinstance(name, type) and name.__name__ in _LEGACY:
        return np.dtype(_LEGACY[name.__name__])
    if not isinstance(name, dtypes.DType):
        # int, np.float32, "float": PyTorch's ValueError (a cast would otherwise guess a dtype)
        raise ValueError(
            f"type: invalid type {getattr(name, '__name__', name)!r}: expected a dtype (glassgrad.float64) "
            "or a tensor type (glassgrad.DoubleTensor, 'torch.DoubleTensor')"
        )
    return name


def legacy_type_name(dt: np.dtype) -> str:
    """``"torch.FloatTensor"`` for float32, as ``Tensor.type()`` answers in PyTorch."""
    for k, v in _TYPE_NAMES.items():
        if np.dtype(v) == dt:
            return "torch." + k
    return f"torch.{dt.name}"


def typename(obj: Any) -> str:
    """A readable type name, as PyTorch's: ``"torch.LongTensor"`` for a tensor (``Tensor.type()``),
    ``module.QualName`` for other objects, the bare name for builtins (torchtext's legacy ``Batch``
    prints its tensors with it)."""
    if isinstance(obj, Tensor):
        return obj.type()
    module = getattr(obj, "__module__", "") or ""
    if hasattr(obj, "__qualname__"):
        qualname = obj.__qualname__
    elif hasattr(obj, "__name__"):
        qualname = obj.__name__
    else:  # an instance: its class's names
        module, qualname = obj.__class__.__module__ or "", obj.__class__.__qualname__
    return qualname if module in ("", "builtins") else f"{module}.{qualname}"


class _TypedTensor(type):
    """A legacy constructor: ``LongTensor(data)`` or ``LongTensor(2, 3)``; also usable in isinstance."""

    def __call__(cls, *args: Any, device: Any = None) -> Tensor:
        check_device(device, cls.__name__)
        if len(args) == 1 and isinstance(args[0], Tensor):
            if args[0]._data.dtype != cls.np_dtype:
                # PyTorch's TypeError: the legacy constructor aliases a tensor and never casts one
                # (ECBSR's `FloatTensor(torch.randn(...))` after set_default_dtype(float64))
                raise TypeError(
                    f"{cls.__name__}: expected a tensor of dtype {dtypes.from_np_dtype(cls.np_dtype)}, got one of "
                    f"{args[0].dtype}; the legacy constructor does not cast: use t.to(...) to convert"
                )
            return args[0]
        if len(args) == 1 and isinstance(args[0], _Storage):
            from glassgrad.legacy_storage import tensor_over_storage

            return tensor_over_storage(cls.__name__, cls.np_dtype, args[0])
        return Tensor(*args, dtype=cls.np_dtype)  # legacy_data's rules: sizes, a Size, data or nothing

    def __instancecheck__(cls, obj: Any) -> bool:
        return isinstance(obj, Tensor) and obj._data.dtype == cls.np_dtype


def _typed(name: str, dt: Any) -> type:
    # ``dtype`` as PyTorch's type objects carry it (``torch.FloatTensor.dtype is torch.float32``)
    doc = f"Legacy constructor of {np.dtype(dt)} tensors."
    return _TypedTensor(
        name, (), {"np_dtype": np.dtype(dt), "dtype": dtypes.from_np_dtype(np.dtype(dt)), "__doc__": doc}
    )


FloatTensor = _typed("FloatTensor", np.float32)
DoubleTensor = _typed("DoubleTensor", np.float64)
HalfTensor = _typed("HalfTensor", np.float16)
LongTensor = _typed("LongTensor", np.int64)
IntTensor = _typed("IntTensor", np.int32)
ShortTensor = _typed("ShortTensor", np.int16)
CharTensor = _typed("CharTensor", np.int8)
ByteTensor = _typed("ByteTensor", np.uint8)
BoolTensor = _typed("BoolTensor", np.bool_)


class _NoNumPyTypedTensor(type):
    """The legacy constructor of a dtype NumPy lacks (``BFloat16Tensor``): the name exists, so that
    ``set_default_tensor_type(torch.BFloat16Tensor)`` (hkproj/pytorch-llama's CPU path, round 61)
    and type tables reach their use, where bfloat16's ``DTypeError`` says why; nothing is one."""

    def __call__(cls, *args: Any, device: Any = None) -> Tensor:
        check_device(device, cls.__name__)
        return Tensor(*args, dtype=cls.dtype)  # raises DTypeError: NumPy has no bfloat16

    def __instancecheck__(cls, obj: Any) -> bool:
        return False


BFloat16Tensor = _NoNumPyTypedTensor(
    "BFloat16Tensor",
    (),
    {"dtype": dtypes.bfloat16, "__doc__": "Legacy constructor of bfloat16 tensors (raises)."},
)


def set_printoptions(
    precision: int | None = None, threshold: int | None = None, edgeitems: int | None = None,
    linewidth: int | None = None, profile: str | None = None, sci_mode: bool | None = None,
) -> None:  # fmt: skip
    """How tensors print, PyTorch's options: ``sci_mode`` True/False forces scientific or fixed
    notation, None (each call that leaves it out, as in PyTorch) restores the automatic choice."""
    names = ("PRECISION", "THRESHOLD", "EDGEITEMS", "LINEWIDTH")
    profiles = {"default": (4, 1000, 3, 80), "short": (2, 1000, 2, 80), "full": (4, 2**63 - 1, 3, 80)}
    # as in PyTorch: first the profile (an unknown one changes nothing), then the options given
    # with it override it; a threshold may be inf (never summarise)
    for name, value in zip(names, profiles.get(profile, (None,) * 4), strict=True):
        if value is not None:
            setattr(printing, name, value)
    for name, value in zip(names, (precision, threshold, edgeitems, linewidth), strict=True):
        if value is not None:
            setattr(printing, name, value if value == math.inf else int(value))
    printing.SCI_MODE = None if sci_mode is None else bool(sci_mode)


def compile(model: Any = None, **kwargs: Any) -> Any:  # noqa: A001 - PyTorch's name
    """``torch.compile``: nothing compiles here; a module comes back in PyTorch's wrapper
    (``_dynamo.OptimizedModule``: ``_orig_mod`` is the module, its ``state_dict`` keys are
    prefixed ``_orig_mod.``), a function as it is; with no model, a decorator doing the same."""
    if model is None:
        return lambda fn: compile(fn, **kwargs)
    from glassgrad._dynamo.optimized_module import OptimizeContext, OptimizedModule
    from glassgrad.nn.modules.module import Module

    # the wrapper's ``dynamo_ctx`` is callable, as PyTorch's (Lightning wraps the steps with it)
    return OptimizedModule(model, OptimizeContext(**kwargs)) if isinstance(model, Module) else model
