"""Dtype and device conversion of a module's parameters and buffers: ``to``, ``cpu``, ``half``,
``float``, ``double``, ``type``, ``to_empty``, and the ``device=`` keyword of module constructors.

The devices are the CPU and meta (shapes and dtypes without data): ``to("meta")`` drops the
values, ``to_empty(device="cpu")`` gives a meta module fresh (zero) storage to initialise or load,
``to("cpu")`` of a meta module raises as PyTorch does. glassgrad's own modules whose ``__init__``
takes ``device`` build their parameters on meta when given ``device="meta"``; a program's own
subclass keeps its ``__init__`` as written (PyTorch's: it forwards ``device`` where it wants it).

``Module`` inherits these from :class:`Conversion`. They change each array in place of the same
Parameter object (and its ``.grad``), so optimizers that already hold the parameters keep
working, as in PyTorch; a buffer that changes is replaced by a new tensor, as PyTorch's
``_buffers[key] = fn(buf)``: another reference to the old one keeps the old dtype and device. As PyTorch's, each goes through ``self._apply(fn)``, which calls every
child's ``_apply``: a subclass that overrides ``_apply`` to convert tensors of its own (a
torchmetrics ``Metric``'s states) sees every ``to``/``cpu``/``type``/``float``/``double``/``half``.
``fn`` is named as PyTorch's (``Module.to.<locals>.convert``, ``Module.double.<locals>.<lambda>``
...), which such overrides read to tell a dtype cast from a move.
"""

from __future__ import annotations

import functools
import inspect
import itertools
import warnings
from collections.abc import Callable
from typing import Any, Self

import numpy as np

from glassgrad import __future__ as _future
from glassgrad import dtypes
from glassgrad.autograd.grad_mode import no_grad
from glassgrad.device import (
    MODULE_TO_KEYWORDS,
    check_accelerator,
    check_to_keywords,
    is_meta_device,
    wants_meta,
)
from glassgrad.device import device as _device
from glassgrad.errors import DTypeError
from glassgrad.half_rounding import half_source
from glassgrad.legacy import legacy_dtype
from glassgrad.memory_formats import cast_preserving, check_format, preserve_format, suggest_format, to_format
from glassgrad.meta_array import MetaArray, meta_array, no_data
from glassgrad.nn.parameter import Parameter, is_lazy
from glassgrad.tensor import Tensor
from glassgrad.user_frames import user_stacklevel

__all__ = ["Conversion"]

# PyTorch's Module.to warning for a complex dtype, in its words (programs filter on them)
_COMPLEX_MODULES = (
    "Complex modules are a new feature under active development whose design may change, and some modules "
    "might not work as expected when using complex tensors as parameters or buffers. Please file an issue at "
    "https://github.com/pytorch/pytorch/issues/new?template=bug-report.yml if a complex module does not work "
    "as expected."
)


def _with_device(init: Callable) -> Callable:
    """Wrap a module's ``__init__`` that takes ``device``: with ``device="meta"`` it runs inside
    ``with device("meta")``, so the factories it calls make meta parameters and buffers."""

    @functools.wraps(init)
    def init_on_device(self: Any, *args: Any, **kwargs: Any) -> None:
        where = kwargs.get("device")
        if where is not None and is_meta_device(where):
            with _device("meta"):
                return init(self, *args, **kwargs)
        return init(self, *args, **kwargs)

    init_on_device._takes_device = True  # type: ignore[attr-defined]
    return init_on_device


class _ArrayConversion:
    """The tensor function a conversion passes to ``Module._apply``: called on a tensor (by an
    overriding ``_apply``, on a state of its own) it returns a new tensor of the converted array,
    or the tensor itself when nothing changes, as ``Tensor.to``; ``Module._apply`` itself calls
    ``convert_in_place`` instead. Its ``__qualname__`` is PyTorch's name for the function."""

    def __init__(self, convert: Callable[[np.ndarray], np.ndarray], bump: bool, name: str) -> None:
        self.convert, self.bump = convert, bump
        self.__qualname__ = name
        self.__name__ = name.rsplit(".", 1)[-1]

    def __call__(self, t: Tensor) -> Tensor:
        a = self.convert(t._data)
        return t if a is t._data else Tensor(a, _wrap=True)

    def replace(self, t: Tensor) -> Tensor:
        """A buffer's conversion, as PyTorch's ``self._buffers[key] = fn(buf)``: the same tensor when
        nothing changes, else a new one of ``t``'s class (``requires_grad`` kept), so that another
        reference to the old buffer (gpytorch's priors keep their ``loc`` twice) keeps its dtype."""
        new = self(t)
        if new is t:
            return t
        if is_lazy(t):  # a lazy layer's placeholder has no storage to view: a new one of the new dtype
            return t.__class__(t.requires_grad, dtype=new._data.dtype)
        if t.__class__ is not Tensor:
            new = new.as_subclass(t.__class__)
        if t.requires_grad:  # (a layout change or to_empty: a leaf that keeps requires_grad)
            new.requires_grad_(True)
        return new

    def replace_buffer(self, t: Tensor) -> Tensor:
        """``replace`` for ``Module._apply``'s buffers, which PyTorch converts outside ``no_grad``
        with ``Tensor.to``: a buffer that requires grad (a Parameter registered as a buffer, as
        LlamaGen's ``codebook_used``) and changes dtype comes back ``t.to(dtype)``, a
        ``ToCopyBackward0`` non-leaf (a plain Tensor for a Parameter) that in-place writes may
        change, or a tensor without grad under ``no_grad``."""
        if t.requires_grad and not is_lazy(t):
            a = self.convert(t._data)
            if a is not t._data and a.dtype != t._data.dtype:
                return t.to(a.dtype)
        return self.replace(t)

    def new_parameter(self, p: Tensor) -> Tensor:
        """``p`` converted as PyTorch's ``_apply`` does under
        ``__future__.set_overwrite_module_params_on_conversion(True)``: a new Parameter over the
        converted array (over ``p``'s own when nothing changes) with ``p``'s ``requires_grad``, its
        gradient converted into the new one's ``.grad``."""
        new = Parameter(self.replace(p), p.requires_grad)
        if p._grad is not None:
            new.grad = self(p._grad)
        return new

    def convert_in_place(self, t: Tensor) -> None:
        t._data = self.convert(t._data)
        if self.bump:
            t._vc[0] += 1
        if t._grad is not None:  # (._grad: a buffer may be a non-leaf, whose .grad warns)
            t._grad._data = self.convert(t._grad._data)

    def __repr__(self) -> str:
        return f"<function {self.__qualname__} at {id(self):#x}>"


def _is_dtype(a: Any) -> bool:
    return (
        isinstance(a, dtypes.DType | np.dtype)
        or a is float
        or (isinstance(a, type) and issubclass(a, np.generic))
    )


def _check_to_positions(args: tuple, kwargs: dict) -> None:
    """PyTorch's ``Module.to`` signatures: ``(device=None, dtype=None, non_blocking=False)``,
    ``(dtype, non_blocking=False)``, ``(tensor, non_blocking=False)``. Any ``copy`` (positional
    after non_blocking, or keyword) raises RuntimeError, as PyTorch's; a bool where the dtype
    goes (``to(device, True)``) or an extra argument raises TypeError instead of being skipped."""
    first = args[0] if args else None
    lead = 1 if isinstance(first, Tensor) or _is_dtype(first) else 2  # arguments before non_blocking
    rest = args[lead:]
    if "copy" in kwargs or len(rest) > 1:
        if len(rest) <= 2 and all(isinstance(a, bool) for a in rest):
            raise RuntimeError(".to() does not accept copy argument")
    bad = len(rest) > 2 or any(not isinstance(a, bool) for a in rest)
    if lead == 2 and len(args) > 1 and not (args[1] is None or _is_dtype(args[1])):
        bad = True
    if bad:
        got = ", ".join(type(a).__name__ for a in args)
        raise TypeError(
            f"Module.to: received an invalid combination of arguments - got ({got}), but expected one of "
            "(device=None, dtype=None, non_blocking=False), (dtype, non_blocking=False), "
            "(tensor, non_blocking=False)"
        )


class Conversion:
    """The dtype and device half of ``Module``: converting every parameter and buffer of the
    module tree."""

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        init = cls.__dict__.get("__init__")
        if init is None or getattr(init, "_takes_device", False):
            return
        # only glassgrad's own layers, whose factories ignore ``device``: wrapping a program's
        # class would make its ``__init__`` another function (dreamerv3 patches
        # ``MLP.__init__.__defaults__``) and put on meta what its ``__init__`` makes without ``device``
        if not cls.__module__.startswith("glassgrad."):
            return
        try:
            takes = "device" in inspect.signature(init).parameters
        except (TypeError, ValueError):
            return
        if takes:
            cls.__init__ = _with_device(init)

    def _tensors(self, recurse: bool = True) -> Any:
        modules = self.modules() if recurse else (self,)
        for module in modules:
            for t in itertools.chain(module._parameters.values(), module._buffers.values()):
                if t is not None:
                    yield t

    def _to_device(self, meta: bool, op: str) -> Self:
        """Move every parameter and buffer to meta (``meta=True``: drop the values) or refuse to
        leave meta for the CPU, as PyTorch does (there are no values to copy)."""
        if not meta:
            if any(t._data.__class__ is MetaArray for t in self._tensors()):
                raise NotImplementedError(
                    f"{no_data(op)}; use Module.to_empty(device=...) to give a meta module new "
                    "storage, then initialise it or load a state dict"
                )
            return self
        return self._apply_arrays(lambda a: meta_array(a.shape, a.dtype), name="Module.to.<locals>.convert")

    def to_empty(self, *, device: Any = None, recurse: bool = True) -> Self:
        """Give every parameter and buffer new storage on ``device`` (``"cpu"`` or ``"meta"``;
        None keeps each tensor's device), with its shape and dtype, as PyTorch's ``to_empty``:
        the way out of the meta device (the values are zeros here, uninitialised in PyTorch;
        initialise them with ``reset_parameters()`` or load a state dict). The Parameter objects
        are kept (PyTorch makes new ones when the device changes)."""
        meta = None if device is None else wants_meta(device, "Module.to_empty")

        def fresh(a: np.ndarray) -> np.ndarray:
            on_meta = a.__class__ is MetaArray if meta is None else meta
            return meta_array(a.shape, a.dtype) if on_meta else np.zeros(a.shape, dtype=a.dtype)

        return self._apply_arrays(fresh, recurse, bump=True, name="Module.to_empty.<locals>.<lambda>")

    def _apply_arrays(
        self,
        convert: Callable[[np.ndarray], np.ndarray],
        recurse: bool = True,
        bump: bool = False,
        name: str = "Module._apply.<locals>.<lambda>",
    ) -> Self:
        """``convert`` every parameter's and buffer's array and its gradient's, through
        ``self._apply`` (and so every overriding ``_apply`` in the tree) with a tensor function
        named ``name``; ``bump`` marks new storage (to_empty) in the version counters, so a graph
        that saved the old values refuses."""
        fn = _ArrayConversion(convert, bump, name)
        # fn alone, as PyTorch calls it (an override may take other positional parameters)
        return self._apply(fn) if recurse else self._apply(fn, recurse=False)

    def _cast_floating(self, dtype: Any, kinds: str = "f", name: str = "Module.to.<locals>.convert") -> Self:
        """Cast the tensors of ``kinds`` (floating; ``to`` also complex ones, as PyTorch's: a complex
        buffer cast to a real dtype keeps its real part, with PyTorch's warning)."""
        dt = dtypes.to_np_dtype(dtype)
        if dt.kind not in kinds:
            raise TypeError(
                f"Module.to: expected a floating{' or complex' * (kinds == 'fc')} dtype, got {dtype!r}"
            )
        if any(t._data.dtype.kind == "c" for t in self._tensors()) and dt.kind == "f" and kinds == "fc":
            warnings.warn(
                "Casting complex values to real discards the imaginary part", stacklevel=user_stacklevel()
            )
        part = (lambda a: a.real) if dt.kind == "f" else (lambda a: a)  # (a real array's .real is itself)
        return self._apply_arrays(
            lambda a: cast_preserving(half_source(part(a), dt), a, dt) if a.dtype.kind in kinds else a,
            name=name,
        )

    def to(self, *args: Any, **kwargs: Any) -> Self:
        """``to(dtype)``, ``to("cpu")``, ``to(device, dtype)``, ``to(tensor)``: floating params and
        buffers change dtype; ``memory_format=channels_last`` lays out the 4-D ones (``channels_last_3d``
        the 5-D ones). ``non_blocking`` is accepted; another keyword raises ``TypeError``, as PyTorch."""
        _check_to_positions(args, kwargs)
        if kwargs:
            check_to_keywords("Module.to", kwargs, MODULE_TO_KEYWORDS)
        dtype, target = kwargs.get("dtype"), None
        for a in (*args, kwargs.get("device"), kwargs.get("tensor")):
            if isinstance(a, Tensor):
                dtype, target = a.dtype, a.device
            elif isinstance(a, bool):  # non_blocking, given positionally: nothing to wait for here
                continue
            elif _is_dtype(a):
                dtype = a
            elif a is not None:
                target = a
        if target is not None:
            self._to_device(wants_meta(target, "Module.to"), "Module.to")
        if kwargs.get("memory_format") is not None:
            self._to_format(check_format("Module.to", kwargs["memory_format"]))
        if dtype is None:  # (a move: an overriding _apply is told of it, as PyTorch's)
            return self._apply_arrays(lambda a: a, name="Module.to.<locals>.convert")
        if _is_dtype(dtype) and dtypes.to_np_dtype(dtype).kind == "c":
            warnings.warn(_COMPLEX_MODULES, stacklevel=user_stacklevel())  # PyTorch's, on every complex to()
        return self._cast_floating(dtype, "fc")

    def _to_format(self, fmt: Any) -> Self:
        """Lay out every 4-D and 5-D parameter and buffer (and gradient) as ``fmt``, as PyTorch; a
        rank the format does not fit raises ``RuntimeError`` (``channels_last`` on a Conv3d weight)."""
        if fmt is preserve_format:
            return self

        def convert(a: np.ndarray) -> np.ndarray:
            if a.ndim not in (4, 5) or a.__class__ is not np.ndarray:
                return a  # a meta array has no layout
            check_format("Module.to", fmt, a.ndim)
            return a if suggest_format(a) is fmt else to_format(a, fmt)

        return self._apply_arrays(convert, name="Module.to.<locals>.convert")

    def cpu(self) -> Self:
        self._to_device(False, "Module.cpu")
        return self._apply_arrays(lambda a: a, name="Module.cpu.<locals>.<lambda>")

    def cuda(self, device: Any = None) -> Self:
        check_accelerator(device, "cuda", "Module.cuda")
        return self._apply_arrays(lambda a: a, name="Module.cuda.<locals>.<lambda>")

    def xpu(self, device: Any = None) -> Self:
        check_accelerator(device, "xpu", "Module.xpu")  # DeviceError, as cuda()
        return self

    def ipu(self, device: Any = None) -> Self:
        check_accelerator(device, "ipu", "Module.ipu")
        return self

    def mtia(self, device: Any = None) -> Self:
        check_accelerator(device, "mtia", "Module.mtia")
        return self

    def _apply(self, fn: Callable[[Tensor], Tensor], recurse: bool = True) -> Self:
        """PyTorch's ``Module._apply``, which third-party code calls and overrides: each child's
        ``_apply(fn)`` first (``recurse``), then ``fn`` (tensor -> tensor) on this module's
        parameters and their gradients without recording, then on its buffers (recorded where one
        requires grad, as PyTorch's). A parameter keeps its object and takes the result as its
        ``.data``, as PyTorch's default (a new Parameter under
        ``__future__.set_overwrite_module_params_on_conversion(True)``); a buffer is replaced.
        The conversions of this class (``to``, ``double`` ...) pass an ``_ArrayConversion``,
        which changes each parameter's array in place of the same object and replaces each buffer
        that changes."""
        if recurse:
            for child in self.children():
                child._apply(fn)
        arrays = fn if isinstance(fn, _ArrayConversion) else None
        with no_grad():
            if arrays is not None:
                overwrite = _future._overwrite_module_params_on_conversion
                for key, p in self._parameters.items():
                    if p is not None and overwrite:
                        self._parameters[key] = arrays.new_parameter(p)
                    elif p is not None:
                        arrays.convert_in_place(p)
            else:
                for p in self._parameters.values():
                    if p is not None:
                        p.data = fn(p)
                        if p.grad is not None:
                            p.grad.data = fn(p.grad)
        # the buffers outside no_grad, as PyTorch's: a conversion of one that requires grad records
        for key, b in self._buffers.items():
            if b is not None:
                self._buffers[key] = arrays.replace_buffer(b) if arrays is not None else fn(b)
        return self

    def half(self) -> Self:
        return self._cast_floating(dtypes.float16, name="Module.half.<locals>.<lambda>")

    def float(self) -> Self:
        return self._cast_floating(dtypes.float32, name="Module.float.<locals>.<lambda>")

    def double(self) -> Self:
        return self._cast_floating(dtypes.float64, name="Module.double.<locals>.<lambda>")

    def bfloat16(self) -> Self:
        """Raises ``DTypeError`` as ``Tensor.bfloat16`` does: NumPy has no bfloat16 type."""
        return self._cast_floating(dtypes.bfloat16, name="Module.bfloat16.<locals>.<lambda>")

    def compile(self, *args: Any, **kwargs: Any) -> None:
        """``model.compile()``: PyTorch compiles the module's forward in place and returns None;
        glassgrad runs eagerly (``glassgrad.compile`` returns what it is given), so nothing changes."""
        return None

    def type(self, dst_type: Any) -> Self:
        """Cast every parameter and buffer to ``dst_type``: a dtype or a legacy tensor type
        (``torch.FloatTensor`` or ``"torch.DoubleTensor"``), as ``Tensor.type`` takes. An integer
        type is refused while a parameter requires grad, as in PyTorch."""
        dt = dtypes.to_np_dtype(legacy_dtype(dst_type))
        if dt.kind not in "fc":
            # a parameter that requires grad must stay floating (PyTorch refuses the same cast)
            bad = [n for n, p in self.named_parameters() if p.requires_grad]
            if bad:
                raise DTypeError(
                    f"Module.type: parameter {bad[0]!r} requires grad, so it must stay floating or "
                    f"complex; got {dst_type!r} ({dt.name})"
                )
        return self._apply_arrays(
            lambda a: cast_preserving(half_source(a, dt), a, dt), name="Module.type.<locals>.<lambda>"
        )

    def share_memory(self) -> Self:
        """Move every parameter and buffer into shared memory (``Tensor.share_memory_``), so that
        processes started afterwards with ``glassgrad.multiprocessing`` update the same weights."""
        for t in (*self.parameters(), *self.buffers()):
            t.share_memory_()
        return self
