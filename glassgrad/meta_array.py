"""Storage for the ``meta`` device: an array with a shape and a dtype but no data.

A meta tensor's ``_data`` is a ``MetaArray``: a read-only view with every stride zero over one
0-d array, so ``glassgrad.empty(10**6, 10**6, device="meta")`` takes a few bytes whatever its
shape. What only reads metadata (``shape``, ``dtype``, ``ndim``, ``reshape``, ``copy`` ...) works on
it as on any array, and never allocates its size.

Ops reach meta tensors in two ways. ``Function.apply`` hands ops with a meta input to
``autograd/meta_apply.py``. Code that computes on ``_data`` with NumPy directly (the ops that are
not ``Function``s, such as comparisons, the optimizers' updates, ``nn.init``) meets
``MetaArray.__array_ufunc__``/``__array_function__``: the NumPy call runs on zero-strided stand-ins
(zeros that take no memory) and its array results come back as new ``MetaArray``s, so shapes,
dtypes and shape errors are NumPy's; a write into a ``MetaArray`` (``out=``, ``a[i] = v``) checks
shapes and changes nothing. What would read values raises: ``item()``, ``bool()``, ``float()``,
``tolist()``, a NumPy function that returns a Python value (``allclose``) or whose result's shape
depends on the values (``nonzero``, ``unique`` ...), as PyTorch does for them.
"""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = [
    "MetaArray", "meta_array", "meta_like", "seen", "NO_DATA", "no_data", "quiet_call", "meta_numpy", "same_device",
    "on_device_of", "valued",
]  # fmt: skip

#: What PyTorch says when data is read out of a meta tensor.
NO_DATA = "Cannot copy out of meta tensor; no data!"

#: ``[True]`` once a meta array has been made in this process: ``Function.apply`` looks for meta
#: inputs only then, so a program that never uses the meta device pays one truth test per op.
seen: list = [False]

# NumPy functions that only read metadata: run as on any array.
_METADATA = frozenset({np.shape, np.ndim, np.size, np.result_type, np.may_share_memory, np.shares_memory})
# NumPy functions whose result's shape depends on the values: refused, as PyTorch's meta kernels.
_DATA_DEPENDENT = frozenset({
    np.nonzero, np.argwhere, np.flatnonzero, np.unique, np.extract, np.compress, np.bincount,
    np.histogram, np.trim_zeros, np.array_equal, np.allclose, np.array_equiv,
})  # fmt: skip


# NumPy functions that write into their first argument: into a MetaArray they change nothing.
_WRITES = frozenset({np.put_along_axis, np.put, np.place, np.copyto, np.fill_diagonal, np.putmask})


def no_data(op: str) -> NotImplementedError:
    """The error for reading the values of a meta tensor (PyTorch's type and words)."""
    return NotImplementedError(f"{op}: {NO_DATA} (a tensor on the meta device has a shape and a dtype only)")


def same_device(op: str, *operands: Any) -> None:
    """Raise PyTorch's device mismatch when one of an op's ``operands`` (tensors, raw arrays or
    numbers) is on meta and another is a CPU one with dims (a 0-d CPU tensor or a number goes with
    any device). The first operand with a device names the expected one, as in PyTorch. For the op
    paths that are not a ``Function`` (comparisons, logical ops, ``where``'s condition, masks):
    call it only once ``seen[0]`` is set, so the CPU path pays nothing."""
    expected = None
    for x in operands:
        a = getattr(x, "_data", x)
        if a.__class__ is MetaArray:
            dev = "meta"
        elif isinstance(a, np.ndarray) and a.ndim:
            dev = "cpu"
        else:
            continue
        if expected is None:
            expected, first = dev, a
        elif dev != expected:
            raise RuntimeError(
                f"{op}: expected all tensors on one device, got a {dev} tensor of shape {tuple(a.shape)} "
                f"beside a {expected} tensor of shape {tuple(first.shape)} (Tensor on device {dev} is not "
                f"on the expected device {expected}!)"
            )


def valued(a: Any) -> bool:
    """Whether array ``a`` has values to check (it is not a ``MetaArray``): a value check (an index
    in range, a probability in [0, 1]) is skipped on meta, as PyTorch's meta kernels skip it."""
    return not (seen[0] and a.__class__ is MetaArray)


def on_device_of(ref: Any, arr: Any) -> Any:
    """``arr``, a constant an op built with NumPy, on the device of ``ref`` (an array): a
    ``MetaArray`` of its shape and dtype when ``ref`` is meta, else ``arr`` itself."""
    return meta_array(np.shape(arr), arr.dtype) if seen[0] and ref.__class__ is MetaArray else arr


def _plain(x: Any) -> Any:
    """A zero-strided stand-in (zeros taking no memory) for a MetaArray, else ``x``; into lists."""
    if isinstance(x, MetaArray):
        return x.view(np.ndarray)
    if isinstance(x, list | tuple):
        return type(x)(_plain(e) for e in x)
    return x


def _to_meta(r: Any, op: str) -> Any:
    """A NumPy result computed on stand-ins, as meta arrays (a Python value would be read data)."""
    if isinstance(r, np.ndarray | np.generic):
        return meta_array(np.shape(r), r.dtype)
    if isinstance(r, tuple | list):
        items = [_to_meta(e, op) for e in r]
        return type(r)(*items) if hasattr(r, "_fields") else type(r)(items)  # a namedtuple (SVDResult)
    if r is None:
        return None
    raise no_data(op)


class MetaArray(np.ndarray):
    """The array of a tensor on the meta device (see the module docstring). Make one with
    ``meta_array``; a copy or a cast is another ``MetaArray``, never a full-size allocation."""

    def __array_ufunc__(self, ufunc: Any, method: str, *inputs: Any, **kwargs: Any) -> Any:
        name = ufunc.__name__ if method == "__call__" else f"{ufunc.__name__}.{method}"
        out = kwargs.pop("out", None)
        if method == "at":  # np.add.at(a, idx, v): an in-place update of a
            if not isinstance(inputs[0], MetaArray):
                raise no_data(name)
            return None
        res = quiet_call(getattr(ufunc, method), *_plain(inputs), **kwargs)
        if out is None:
            return _to_meta(res, name)
        outs = out if isinstance(out, tuple) else (out,)
        for o, r in zip(outs, res if isinstance(res, tuple) else (res,)):
            if not isinstance(o, MetaArray):
                raise no_data(name)  # meta values written into a CPU array
            np.broadcast_shapes(np.shape(r), o.shape)  # a shape error as the write would give
        return out[0] if isinstance(out, tuple) and len(out) == 1 else out

    def __array_function__(self, func: Any, types: Any, args: Any, kwargs: Any) -> Any:
        if func in _METADATA:
            return super().__array_function__(func, types, args, kwargs)
        name = getattr(func, "__name__", str(func))
        if func is np.allclose:  # PyTorch's allclose reads the item() of isclose(...).all()
            raise RuntimeError("Tensor.item() cannot be called on meta tensors")
        if func in _DATA_DEPENDENT:
            raise no_data(name)
        if func in _WRITES:  # nothing to write into a meta array; meta values into a CPU one: no data
            if args and args[0].__class__ is MetaArray:
                return None
            raise no_data(name)
        if "out" in kwargs and not isinstance(kwargs["out"], MetaArray | None):
            raise no_data(name)
        kwargs = {k: v for k, v in kwargs.items() if k != "out"}
        return _to_meta(quiet_call(func, *_plain(args), **_plain(kwargs)), name)

    def __setitem__(self, key: Any, value: Any) -> None:
        self.view(np.ndarray)[key]  # an index error as the write would give; nothing to write

    def item(self, *args: Any) -> Any:
        raise RuntimeError("Tensor.item() cannot be called on meta tensors")

    def __bool__(self) -> bool:
        raise RuntimeError("Tensor.item() cannot be called on meta tensors")

    __float__ = __int__ = __index__ = __complex__ = __bool__

    def tolist(self) -> Any:
        raise no_data("tolist")

    def tobytes(self, order: str = "C") -> bytes:
        raise no_data("tobytes")

    def copy(self, order: str = "C") -> MetaArray:
        return meta_array(self.shape, self.dtype)

    def astype(self, dtype: Any, *args: Any, **kwargs: Any) -> MetaArray:
        return meta_array(self.shape, dtype)

    def __copy__(self) -> MetaArray:
        return meta_array(self.shape, self.dtype)

    def __deepcopy__(self, memo: Any) -> MetaArray:
        return meta_array(self.shape, self.dtype)

    def __reduce__(self) -> tuple:
        return (meta_array, (tuple(self.shape), self.dtype.str))

    def __repr__(self) -> str:
        return f"MetaArray(shape={tuple(self.shape)}, dtype={self.dtype})"

    __str__ = __repr__


def quiet_call(fn: Any, *args: Any, **kwargs: Any) -> Any:
    """``fn(*args, **kwargs)`` with floating-point warnings off: stand-ins are zeros (0/0 ...)."""
    with np.errstate(all="ignore"):
        return fn(*args, **kwargs)


def meta_array(shape: Any, dtype: Any) -> MetaArray:
    """A ``MetaArray`` of ``shape`` and ``dtype`` (a NumPy dtype or its name): a zero-strided,
    read-only view of one 0-d array, whatever the shape."""
    seen[0] = True
    return np.broadcast_to(np.zeros((), dtype=dtype), tuple(shape)).view(MetaArray)


def meta_like(a: Any) -> MetaArray:
    """A ``MetaArray`` with ``a``'s shape and dtype."""
    return meta_array(a.shape, a.dtype)


class _MetaNumPy:
    """The array module (``backend.array_module``) for code holding ``MetaArray``s: NumPy, except
    that ``asarray``/``array`` keep a meta array meta instead of turning it into plain zeros (every
    other NumPy function keeps it meta through ``MetaArray.__array_function__``)."""

    def __getattr__(self, name: str) -> Any:
        return getattr(np, name)

    @staticmethod
    def asarray(a: Any, dtype: Any = None, *args: Any, **kwargs: Any) -> Any:
        if isinstance(a, MetaArray):
            return a if dtype is None or np.dtype(dtype) == a.dtype else meta_array(a.shape, dtype)
        return np.asarray(a, dtype, *args, **kwargs)

    asanyarray = ascontiguousarray = asfortranarray = asarray

    @staticmethod
    def array(a: Any, dtype: Any = None, *args: Any, **kwargs: Any) -> Any:
        if isinstance(a, MetaArray):
            return meta_array(a.shape, a.dtype if dtype is None else dtype)
        return np.array(a, dtype, *args, **kwargs)


def _sized(name: str) -> Any:
    """``meta_numpy.<name>`` for NumPy's constructors (``zeros``, ``arange``, ``eye`` ...): a constant
    an op builds with the array module of a meta input is made on meta too, never on the CPU."""
    fn = getattr(np, name)

    def make(shape: Any, *args: Any, **kwargs: Any) -> MetaArray:
        if name in ("zeros", "ones", "empty"):  # no allocation, whatever the size
            dtype = kwargs.get("dtype", args[0] if args else None)
            return meta_array(shape if isinstance(shape, tuple | list) else (shape,), dtype or np.float64)
        return meta_like(np.asarray(fn(shape, *args, **kwargs)))

    make.__name__ = name
    return make


for _name in ("zeros", "ones", "empty", "full", "arange", "eye", "identity", "linspace", "tri"):
    setattr(_MetaNumPy, _name, staticmethod(_sized(_name)))

meta_numpy = _MetaNumPy()
