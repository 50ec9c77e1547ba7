"""Tensor factories: zeros, ones, full, empty, arange, linspace, eye, rand, randn,
randint, randperm, the ``*_like``s, from_numpy and as_tensor.

Sizes are given as ``zeros(2, 3)`` or ``zeros((2, 3))``. Floating factories use the default dtype
(float32); random ones draw from the generator that ``manual_seed`` seeds (or ``generator=``).
Every factory takes PyTorch's keywords: ``dtype``, ``device`` (the CPU only; another device is a
clear error), ``requires_grad``, ``layout``/``pin_memory`` (accepted and checked), ``memory_format``
where PyTorch takes it (``empty`` and the ``*_like``s, which live in ``factories_like.py``) and
``out=`` where PyTorch has it.
"""

from __future__ import annotations

import numbers
import warnings
from collections.abc import Iterable
from typing import Any

import numpy as np

from glassgrad import dtypes
from glassgrad.arange_integral import arange_arguments, arange_array, warn_arange_resize
from glassgrad.backend import quietly
from glassgrad.deterministic import fill_uninitialized
from glassgrad.device import check_device, wants_meta
from glassgrad.errors import DTypeError, ShapeError, size_error
from glassgrad.inference import as_array, check_numpy_source, sequence_items, warn_ndarray_list
from glassgrad.linspace_kernel import linspace_dtype, linspace_values
from glassgrad.memory_formats import check_format, contiguous_format, empty_format, preserve_format, to_format
from glassgrad.meta_array import meta_array
from glassgrad.operand_errors import flag, int_arg, number_arg, with_grad
from glassgrad.tensor import Tensor
from glassgrad.user_frames import user_stacklevel

__all__ = [
    "tensor", "as_array", "zeros", "ones", "full", "empty", "arange", "linspace", "eye", "rand", "randn",
    "randint", "randperm", "zeros_like", "ones_like", "full_like", "empty_like", "rand_like",
    "randn_like", "randint_like", "from_numpy", "as_tensor", "scalar_tensor", "empty_strided",
]  # fmt: skip


# ------------------------------------------------------------------ tensor()
def tensor(
    data: Any, dtype: Any = None, device: Any = None, requires_grad: bool = False, pin_memory: bool = False
) -> Tensor:
    """Make a new tensor (a copy of ``data``), inferring the dtype as PyTorch does.

    >>> import glassgrad as gg
    >>> gg.tensor([1.0, 2.0]).dtype
    glassgrad.float32
    >>> gg.tensor(range(3))
    tensor([0, 1, 2])
    """
    meta = _check("tensor", device, None, pin_memory)
    kind = type(data).__name__  # (a storage: tensor_storage imports this module's layer)
    if kind == "TypedStorage" or (kind == "UntypedStorage" and dtype is not None):
        return with_grad(_over_storage(data, dtype), requires_grad, "tensor")
    if isinstance(data, str | bytes | dict | set) or not isinstance(  # (a Subset: the list of its items)
        data := sequence_items(data), numbers.Number | np.ndarray | np.generic | Tensor | Iterable
    ):
        raise DTypeError(f"tensor: expected a number, sequence, ndarray or Tensor, got {type(data).__name__}")
    if isinstance(data, Tensor):
        warnings.warn(
            COPY_CONSTRUCT.format("glassgrad.tensor"), UserWarning, stacklevel=user_stacklevel()
        )  # PyTorch's
    warn_ndarray_list(data)
    check_numpy_source(data)
    arr = as_array(data, dtype)
    # a copy laid out as PyTorch's clone: dense strides kept, a broadcast array's made contiguous
    t = Tensor(meta_array(arr.shape, arr.dtype) if meta else to_format(arr, preserve_format), _wrap=True)
    return with_grad(t, requires_grad, "tensor")


def _over_storage(storage: Any, dtype: Any) -> Tensor:
    """``tensor(storage, dtype=...)`` as PyTorch's: a 1-D tensor over the storage's memory (shared,
    not copied). A typed storage must hold ``dtype`` (the default dtype when None) elements; an
    untyped one's bytes are read as ``dtype`` (its values were read byte by byte, a silent
    difference)."""
    from glassgrad.legacy_storage import tensor_over_storage
    from glassgrad.tensor_storage import TypedStorage

    want = dtypes.get_default_dtype() if dtype is None else dtype
    if isinstance(storage, TypedStorage) and storage.dtype != want:
        raise RuntimeError(
            f"tensor: Expected a Storage of type {want} or an UntypedStorage, but got {storage.dtype}"
        )
    return tensor_over_storage("tensor", dtypes.to_np_dtype(want), storage)


#: PyTorch's warning for ``tensor(t)`` and ``x.new_tensor(t)`` of a Tensor (``{}``: what was called).
COPY_CONSTRUCT = (
    "To copy construct from a tensor, it is recommended to use sourceTensor.detach().clone() or "
    "sourceTensor.detach().clone().requires_grad_(True), rather than {}(sourceTensor)."
)


# ------------------------------------------------------------------ sized factories
def _size(size: tuple, op: str = "size") -> tuple[int, ...]:
    if len(size) == 1 and isinstance(size[0], tuple | list):
        size = tuple(size[0])
    # PyTorch reads any one-element integer tensor as a size (``randn(B, T, D)`` with ``T = tensor([4])``)
    size = tuple(
        int(s._data.reshape(()))
        if isinstance(s, Tensor) and s._data.size == 1 and s._data.dtype.kind in "iu"
        else s
        for s in size
    )
    for s in size:
        if not isinstance(s, int | np.integer) or isinstance(s, bool) or s < 0:
            raise size_error(op, size, s)
    return tuple(int(s) for s in size)


def _size_arg(sizes: tuple, size: Any, op: str) -> tuple[int, ...]:
    """The shape from ``zeros(2, 3)``, ``zeros((2, 3))`` or PyTorch's keyword ``zeros(size=(2, 3))``."""
    if size is not None:
        if sizes:
            raise TypeError(f"{op}: expected the size positionally or as size=, got both")
        sizes = (size,)  # _size unpacks a single tuple or list
    return _size(sizes, op)


def _float(dtype: Any) -> np.dtype:
    return dtypes.to_np_dtype(dtype) if dtype is not None else dtypes.get_default_dtype().np


def _check(
    op: str, device: Any, layout: Any = None, pin_memory: bool = False, out: Any = None, dtype: Any = None
) -> bool:
    """Check the keywords every factory takes; return whether the tensor goes on the meta device.
    A ``dtype=`` beside an ``out=`` of another dtype is refused, as PyTorch's argument parser
    refuses it (writing the result cast into ``out`` would hide the mismatch)."""
    if dtype is not None and isinstance(out, Tensor) and dtypes.to_np_dtype(dtype) != out._data.dtype:
        raise DTypeError(f"{op}: dtype {dtype} does not match dtype of out parameter ({out.dtype})")
    meta = wants_meta(device, op)
    if layout is not None and str(layout) not in ("strided", "torch.strided", "glassgrad.strided"):
        raise ValueError(f"{op}: expected layout strided (dense tensors), got {layout!r}")
    if pin_memory is not False and pin_memory is not None and flag(op, "pin_memory", pin_memory):
        raise RuntimeError(f"{op}: pin_memory needs a GPU; glassgrad computes on the CPU only")
    return meta


def _sized(meta: bool, make: Any, shape: tuple, dtype: Any) -> np.ndarray:
    """``make(shape, dtype)``, or on the meta device an array of that shape with no data."""
    return meta_array(shape, dtype) if meta else make(shape, dtype)


def out_dtype(out: Any, dtype: Any) -> Any:
    """The dtype a factory computes in: ``dtype``, else an ``out=`` tensor's own, as PyTorch's
    ``*.out`` kernels run in the out's dtype (``full((2,), 1.1, out=float64)`` is 1.1, not the
    float32 rounding of it; ``randn(n, out=float64)`` draws float64 numbers)."""
    return out.dtype if dtype is None and isinstance(out, Tensor) else dtype


def keep_out_shape(arr: Any, out: Any) -> Any:
    """``arr`` (shape ``(n,)``) in ``out``'s shape when ``out`` holds ``n`` elements: PyTorch's
    ``arange``/``range``/``linspace``/``logspace`` resize an ``out=`` only when its element count
    differs, so a ``(2, 2)`` slice of a wider tensor is written through, in its own shape."""
    if isinstance(out, Tensor) and out._data.size == arr.size and out._data.shape != arr.shape:
        return arr.reshape(out._data.shape)  # (n,) -> out's shape, C order as PyTorch's fill
    return arr


def _make(arr: np.ndarray, requires_grad: bool, out: Tensor | None = None, op: str = "") -> Tensor:
    if out is not None:
        if not isinstance(out, Tensor):
            raise TypeError(f"{op}: expected out= to be a Tensor, got {type(out).__name__}")
        dtypes.check_complex_into(op, arr.dtype, out._data.dtype)
        out._check_inplace(op)
        if arr.shape == out._data.shape:
            out._data[...] = arr  # written into its memory, so its views and base see it (PyTorch)
        else:
            out._data = arr.astype(out._data.dtype, copy=False)  # resized to the result, as PyTorch
        return out
    t = Tensor(arr, _wrap=True)
    return with_grad(t, requires_grad, op or "tensor")


def zeros(
    *sizes: Any, size: Any = None, out: Any = None, dtype: Any = None, layout: Any = None, device: Any = None,
    requires_grad: bool = False, pin_memory: bool = False,
) -> Tensor:  # fmt: skip
    meta = _check("zeros", device, layout, pin_memory, out, dtype)
    dtype = out_dtype(out, dtype)
    arr = _sized(meta, np.zeros, _size_arg(sizes, size, "zeros"), _float(dtype))
    return _make(arr, requires_grad, out, "zeros")


def ones(
    *sizes: Any, size: Any = None, out: Any = None, dtype: Any = None, layout: Any = None, device: Any = None,
    requires_grad: bool = False, pin_memory: bool = False,
) -> Tensor:  # fmt: skip
    meta = _check("ones", device, layout, pin_memory, out, dtype)
    dtype = out_dtype(out, dtype)
    return _make(
        _sized(meta, np.ones, _size_arg(sizes, size, "ones"), _float(dtype)), requires_grad, out, "ones"
    )


def empty(
    *sizes: Any, size: Any = None, out: Any = None, dtype: Any = None, layout: Any = None, device: Any = None,
    requires_grad: bool = False, pin_memory: bool = False, memory_format: Any = None,
) -> Tensor:  # fmt: skip
    """Uninitialised in PyTorch; zeros here, so that nothing depends on leftover memory.
    ``memory_format=channels_last`` (4-D) or ``channels_last_3d`` (5-D) lays it out so."""
    meta = _check("empty", device, layout, pin_memory, out, dtype)
    dtype = out_dtype(out, dtype)
    shape = _size_arg(sizes, size, "empty")
    fmt = check_format("empty", contiguous_format if memory_format is None else memory_format, len(shape))
    if fmt is preserve_format:
        raise RuntimeError("empty: unsupported memory format preserve_format (it needs a tensor to preserve)")
    arr = _sized(meta, lambda s, d: empty_format(s, d, fmt), shape, _float(dtype))
    if isinstance(out, Tensor) and dtype is None and not meta:
        arr = arr.astype(out._data.dtype)  # out's dtype, so that the fill is its NaN or largest value
    return _make(fill_uninitialized(arr), requires_grad, out, "empty")


def full(
    size: Any, fill_value: Any, *, out: Any = None, dtype: Any = None, layout: Any = None,
    device: Any = None, requires_grad: bool = False, pin_memory: bool = False,
) -> Tensor:  # fmt: skip
    """A tensor of ``size`` filled with ``fill_value`` (dtype inferred from it as PyTorch does)."""
    meta = _check("full", device, layout, pin_memory, out, dtype)
    dtype = out_dtype(out, dtype)
    if isinstance(fill_value, Tensor):
        fill_value = number_arg("full", "fill_value", fill_value, "Number")  # 0-d, no grad: PyTorch's parser
    if dtype is None:
        if isinstance(fill_value, bool):
            dtype = dtypes.bool_
        elif isinstance(fill_value, int | np.integer):  # np.int32(3) too: int64, as PyTorch
            dtype = dtypes.int64
        elif isinstance(fill_value, complex):
            dtypes.note_complex()
            dtype = dtypes.default_complex()  # the default complex dtype, as PyTorch
    shape = _size((size,) if isinstance(size, int) else tuple(size), "full")
    fill_value = dtypes.scalar_into("full", fill_value, dt := _float(dtype))  # 1j into float32: refused
    # quietly: inf fills a float16 tensor without NumPy's cast warning (a finite number past the
    # range was refused just above, as PyTorch refuses it)
    arr = _sized(meta, lambda s, d: quietly(np.full, s, fill_value, dtype=d), shape, dt)
    return _make(arr, requires_grad, out, "full")


def _number(v: Any, op: str | None = None) -> Any:
    """``v``, a tensor read as its number. With ``op`` (a ``Number`` argument of PyTorch's parser,
    as arange's), only a 0-d tensor is a number: another one is a TypeError, not ``item``'s error."""
    if not isinstance(v, Tensor):
        return v
    if op is not None and v.ndim:
        raise TypeError(f"{op}(): expected a number or a 0-d tensor, got a tensor of shape {tuple(v.shape)}")
    return v.item()


def scalar_bounds(op: str, start: Any, end: Any) -> None:
    """PyTorch's RuntimeError for a ``linspace``/``logspace`` bound that is a tensor of 1 or more dims
    (it read as ``item``'s error, naming the wrong op)."""
    if getattr(start, "ndim", 0) or getattr(end, "ndim", 0):
        raise ShapeError(
            f"{op} only supports 0-dimensional start and end tensors, but got start with "
            f"{getattr(start, 'ndim', 0)} dimension(s) and end with {getattr(end, 'ndim', 0)} dimension(s)"
        )


def arange(
    start: Any = None, end: Any = None, step: Any = None, *, out: Any = None, dtype: Any = None,
    layout: Any = None, device: Any = None, requires_grad: bool = False, pin_memory: bool = False,
) -> Tensor:  # fmt: skip
    """Values from ``start`` (default 0) up to, not including, ``end``; int64 if all are ints.
    PyTorch's forms: ``arange(end)`` (or ``end=n``), ``arange(start, end[, step])``."""
    start, end, step = arange_arguments(start, end, step)
    meta = _check("arange", device, layout, pin_memory, out, dtype)
    start, end, step = _number(start, "arange"), _number(end, "arange"), _number(step, "arange")
    if isinstance(out, Tensor):
        # PyTorch's arange.out computes in out's dtype: an integer out truncates the bounds and step
        # (arange(0, 5, 1.5, out=long) is 0..4, not the float values 0, 1.5, 3, 4.5 cast to 0, 1, 3, 4)
        dtype = out.dtype  # (a dtype= of another dtype was refused by _check)
    if dtype is None:
        ints = all(isinstance(v, int | np.integer) for v in (start, end, step))
        dtype = dtypes.int64 if ints else dtypes.get_default_dtype()
    arr = arange_array(start, end, step, dtypes.to_np_dtype(dtype))  # integer dtypes: PyTorch's truncation
    if isinstance(out, Tensor) and out._data.size == arr.size:  # PyTorch keeps such an out's shape
        arr = keep_out_shape(arr, out)
    elif isinstance(out, Tensor) and out._data.size:  # PyTorch's arange warns and resizes out to (n,)
        warn_arange_resize(tuple(out.shape), out._data.size, arr.size)
    return _make(meta_array(arr.shape, arr.dtype) if meta else arr, requires_grad, out, "arange")


def linspace(
    start: Any, end: Any, steps: int, *, out: Any = None, dtype: Any = None, layout: Any = None,
    device: Any = None, requires_grad: bool = False, pin_memory: bool = False,
) -> Tensor:  # fmt: skip
    meta = _check("linspace", device, layout, pin_memory, out, dtype)
    dtype = out_dtype(out, dtype)
    scalar_bounds("linspace", start, end)
    # PyTorch's kernel, bit for bit (linspace_kernel.py)
    values = lambda s, d: linspace_values(_number(start), _number(end), s[0], d)  # noqa: E731
    arr = _sized(meta, values, (int_arg("linspace", "steps", steps),), linspace_dtype(dtype, start, end))
    return _make(keep_out_shape(arr, out), requires_grad, out, "linspace")


def eye(
    n: int, m: int | None = None, *, out: Any = None, dtype: Any = None, layout: Any = None,
    device: Any = None, requires_grad: bool = False, pin_memory: bool = False,
) -> Tensor:  # fmt: skip
    meta = _check("eye", device, layout, pin_memory, out, dtype)
    dtype = out_dtype(out, dtype)
    shape = _size((n, n if m is None else m), "eye")  # -1: PyTorch's RuntimeError (ShapeError is one)
    return _make(
        _sized(meta, lambda s, d: np.eye(*s, dtype=d), shape, _float(dtype)), requires_grad, out, "eye"
    )


def _shared(t: Tensor) -> Tensor:
    """Mark ``t``'s memory as held elsewhere too: a recorded in-place op then raises instead of
    giving ``t`` a new array the other holder would not see."""
    t._vc[1] = True
    return t


def from_numpy(arr: np.ndarray) -> Tensor:
    """A tensor sharing memory with ``arr`` (no copy), as ``torch.from_numpy``. As PyTorch's, its
    memory is not resizable: ``resize_`` past it raises (growing would cut the tensor off ``arr``)."""
    from glassgrad import held_memory  # (late: it reads the ops' memory_root, imported after this module)

    out = adopt(arr)
    held_memory.hold(arr)
    return out


def adopt(arr: np.ndarray) -> Tensor:
    """``from_numpy``'s tensor over ``arr`` without the non-resizable mark: for an array no one
    outside glassgrad holds (a fresh copy, a ufunc's result)."""
    check_numpy_source(arr, "from_numpy")
    if arr.dtype.kind == "c":
        dtypes.note_complex()  # from now on, Function.apply checks ops for complex operands
    if not arr.flags.writeable and not _read_only_warned[0]:  # once per process, as PyTorch
        _read_only_warned[0] = True
        warnings.warn(
            "from_numpy: the given NumPy array is not writable; the tensor shares its memory, so an "
            "in-place change of it raises (PyTorch's would be undefined behavior). Copy the array, "
            "or make it writable, before converting it. This warning is shown once per program.",
            UserWarning,
            stacklevel=user_stacklevel(),
        )
    return _shared(Tensor(arr, _wrap=True))


_read_only_warned = [False]


def as_tensor(data: Any, dtype: Any = None, device: Any = None) -> Tensor:
    """``data`` as a tensor, without a copy when it already is one (or an ndarray) of the right dtype."""
    check_device(device, "as_tensor")
    if isinstance(data, Tensor):  # PyTorch's data.to(dtype): recorded (the gradient flows back to
        # data), without tensor()'s copy-construct warning and detach
        return data if dtype is None or data.dtype == dtype else data.to(dtype)
    if isinstance(data, np.ndarray) and (dtype is None or dtypes.to_np_dtype(dtype) == data.dtype):
        return from_numpy(data)  # shares memory, as torch.as_tensor does for arrays
    return tensor(data, dtype=dtype)


def scalar_tensor(
    s: Any, *, dtype: Any = None, layout: Any = None, device: Any = None, requires_grad: bool = False,
    pin_memory: bool = False,
) -> Tensor:  # fmt: skip
    """A 0-d tensor holding ``s`` (of the default float dtype unless ``dtype`` says otherwise).
    ``layout`` is taken and not used: PyTorch's scalar_tensor gives a dense tensor whatever it says."""
    meta = _check("scalar_tensor", device, None, pin_memory)
    if isinstance(s, Tensor):  # a 0-d tensor stands for its number; PyTorch refuses any other
        if s.ndim:
            raise TypeError(
                f"scalar_tensor(): argument 's' must be Number, not a Tensor of shape {tuple(s.shape)}"
            )
        s = s.item()
    dt = _float(dtype)  # s is converted as full's fill: 300 into uint8, NaN into int64 refused
    arr = np.asarray(dtypes.scalar_into("scalar_tensor", s, dt), dtype=dt)
    return _make(meta_array((), arr.dtype) if meta else arr, requires_grad)


# The random factories (factories_random.py), then the *_like ones and empty_strided
# (factories_like.py), build on the ones above.
from glassgrad.factories_like import (  # noqa: E402
    empty_like,
    empty_strided,
    full_like,
    ones_like,
    rand_like,
    randint_like,
    randn_like,
    zeros_like,
)
from glassgrad.factories_random import rand, randint, randn, randperm  # noqa: E402
