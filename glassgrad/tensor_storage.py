"""``Tensor.storage()`` and ``Tensor.untyped_storage()``: the flat memory under a tensor and its views
(Deep Learning with PyTorch, ch. 3: ``points.storage()[0] = 2.0`` changes ``points``).

glassgrad's memory is the NumPy array that owns a tensor's data (the ``.base`` chain's end), laid out
flat in memory order: a transpose or a row of ``points`` shows the same six numbers as ``points``, as
PyTorch's shared storage does, and writing an element writes the tensors viewing it. ``storage()``
gives PyTorch's deprecation ``UserWarning`` once per process, as PyTorch does.
"""

from __future__ import annotations

import copy
import numbers
import warnings
from typing import Any

import numpy as np

from glassgrad import dtypes
from glassgrad.ops import stale_views as _stale
from glassgrad.ops.as_strided import as_strided, memory_root
from glassgrad.tensor import Tensor
from glassgrad.user_frames import user_stacklevel

__all__ = ["METHODS", "TypedStorage", "UntypedStorage"]

_WARNED = [False]
_DEPRECATION = (
    "TypedStorage is deprecated. It will be removed in the future and UntypedStorage will be the only"
    " storage class. This should only matter to you if you are using storages directly.  To access"
    " UntypedStorage directly, use tensor.untyped_storage() instead of tensor.storage()"
)


def _flat_memory(t: Tensor, op: str) -> np.ndarray:
    """The 1-D array over all the memory of ``t``'s owning array, in memory order (a view: writes
    reach ``t``)."""
    a = t._data
    if not isinstance(a, np.ndarray):
        raise RuntimeError(f"{op}: a tensor on the meta device has no data to show (got {type(a).__name__})")
    root = memory_root(a)  # through stride-trick views too (diagonal, unfold), to the whole block
    if root.flags.c_contiguous:
        flat = root.reshape(-1)
    elif root.flags.f_contiguous:
        flat = root.reshape(-1, order="F")
    else:
        flat = root.ravel(order="K")  # memory not one block (rare): a copy, so writes do not reach t
    if flat.dtype != a.dtype and flat.nbytes % a.itemsize == 0:
        # the owner holds another dtype (a complex tensor made over a float array, view_as_real's
        # floats over complex memory): the storage's elements are t's dtype, as PyTorch's (its
        # storage()[0] of a complex tensor was the real part of element 0, a float)
        flat = flat.view(a.dtype)
    return flat


class _Storage:
    """Shared by both kinds: a 1-D NumPy array ``_flat`` read and written element by element.
    A write is an in-place change of the tensor's memory: it bumps the tensor's version counter
    ``_vc``, so that a graph that saved the old values refuses at backward instead of giving a
    wrong gradient."""

    _flat: np.ndarray
    _vc: list

    def _written(self) -> None:
        self._vc[0] += 1
        _stale.changed(self._vc, "a write through storage()")

    def __len__(self) -> int:
        return int(self._flat.shape[0])

    def size(self) -> int:
        return len(self)

    def _index(self, idx: Any) -> int:
        n = len(self)
        if not isinstance(idx, numbers.Integral) or not -n <= idx < n:
            raise IndexError(f"index {idx} out of range for storage of size {n}")
        return int(idx) % n if n else 0

    def __getitem__(self, idx: Any) -> Any:
        return self._flat[self._index(idx)].item()

    def __setitem__(self, idx: Any, value: Any) -> None:
        if isinstance(value, Tensor) and isinstance(idx, slice):
            # PyTorch writes a tensor into a slice of a storage (``s[2:5] = t``), through a tensor
            # view of those elements: t is cast to the storage's dtype and broadcast to the slice
            value = value.detach().numpy(force=True)
        elif not isinstance(value, (numbers.Number, np.generic)):
            raise TypeError(f"can't assign a {type(value).__name__} to a storage of {self._flat.dtype}")
        # a slice (``s[:] = 0``, ``s[2:7] = 1``) writes every element it names, as PyTorch's
        self._flat[idx if isinstance(idx, slice) else self._index(idx)] = value
        self._written()

    def __iter__(self):
        return iter(self.tolist())

    def tolist(self) -> list:
        return self._flat.tolist()

    def data_ptr(self) -> int:
        if self._flat.nbytes == 0:  # PyTorch allocates nothing for no bytes: the address is 0
            return 0
        return int(self._flat.__array_interface__["data"][0])

    def nbytes(self) -> int:
        return int(self._flat.nbytes)

    # PyTorch's object header in bytes (TypedStorage; UntypedStorage's C object holds 8 more)
    _HEADER = 24

    def __sizeof__(self) -> int:
        # PyTorch's ``__sizeof__``: the object plus the bytes it holds, so that ``sys.getsizeof``
        # of a storage (torchinfo's "Input size") counts the data, as PyTorch's does
        return self._HEADER + self.nbytes()

    def copy_(self, source: _Storage, non_blocking: bool = False) -> _Storage:
        """The bytes of ``source`` (a storage of the same number of bytes), as PyTorch's."""
        if not isinstance(source, _Storage):
            raise TypeError(f"copy_: expected a storage as source, got {type(source).__name__}")
        if source.nbytes() != self.nbytes():
            raise RuntimeError(
                f"copy_: size does not match, self was {self.nbytes()} bytes but src was {source.nbytes()} bytes"
            )
        self._flat.view(np.uint8)[...] = source._flat.view(np.uint8)
        self._written()
        return self

    def clone(self) -> _Storage:
        """A storage of the same kind over a copy of the memory (a new version counter)."""
        out = copy.copy(self)
        out._flat, out._vc = self._flat.copy(), [0, True]  # [count, shared], as legacy_storage._typed
        return out

    def __deepcopy__(self, memo: dict) -> _Storage:
        """A storage over a copy of the memory, shared through ``memo`` with the tensors deep-copied
        in the same call (``deepcopy([t, t.storage()])``: a write to the copied t shows in the copied
        storage, as PyTorch's), and with their version counter."""
        out = copy.copy(self)
        flat = self._flat
        root = memory_root(flat)
        if root is flat or not (root.flags.c_contiguous or root.flags.f_contiguous):
            out._flat = copy.deepcopy(flat, memo)
        else:
            owner = copy.deepcopy(root, memo)  # the copy a deep-copied tensor over root also gets
            offset = flat.__array_interface__["data"][0] - root.__array_interface__["data"][0]
            out._flat = np.ndarray(flat.shape, flat.dtype, buffer=owner, offset=offset, strides=flat.strides)
        out._vc = copy.deepcopy(self._vc, memo)
        return out

    def is_pinned(self, device: Any = "cuda") -> bool:
        return False  # CPU-only: nothing is page-locked

    def is_shared(self) -> bool:
        return False

    def fill_(self, value: Any) -> _Storage:
        self._flat[...] = value
        self._written()
        return self

    @property
    def device(self):
        from glassgrad.device import device

        return device("cpu")

    def _info(self) -> str:
        raise NotImplementedError

    def __repr__(self) -> str:
        # PyTorch's layout: one element a line, each after a space, then the kind and size
        body = " " + "\n ".join(str(v) for v in self.tolist())
        return f"{body}\n{self._info()}"

    __str__ = __repr__


class TypedStorage(_Storage):
    """The elements of a tensor's memory in its dtype (``tensor.storage()``)."""

    def __init__(self, flat: np.ndarray, dtype: Any, vc: list):
        self._flat, self.dtype, self._vc = flat, dtype, vc

    def element_size(self) -> int:
        return int(self._flat.itemsize)

    def untyped(self) -> UntypedStorage:
        """The same memory as bytes (``tensor.storage().untyped()``), sharing writes and version."""
        return UntypedStorage._over(self._flat, self._vc)

    def _to(self, dtype: Any) -> TypedStorage:
        """A new storage of ``dtype`` holding these elements converted as ``Tensor.to`` converts
        them (a copy even for the same dtype, as PyTorch's ``TypedStorage._to``)."""
        values = Tensor(self._flat, _wrap=True).to(dtype, copy=True)._data
        return TypedStorage(values, dtype, [0, True])

    def byte(self) -> TypedStorage:
        return self._to(dtypes.uint8)

    def char(self) -> TypedStorage:
        return self._to(dtypes.int8)

    def short(self) -> TypedStorage:
        return self._to(dtypes.int16)

    def int(self) -> TypedStorage:
        return self._to(dtypes.int32)

    def long(self) -> TypedStorage:
        return self._to(dtypes.int64)

    def half(self) -> TypedStorage:
        return self._to(dtypes.float16)

    def float(self) -> TypedStorage:
        return self._to(dtypes.float32)

    def double(self) -> TypedStorage:
        return self._to(dtypes.float64)

    def bool(self) -> TypedStorage:
        return self._to(dtypes.bool)

    def complex_float(self) -> TypedStorage:
        return self._to(dtypes.complex64)

    def complex_double(self) -> TypedStorage:
        return self._to(dtypes.complex128)

    def type(self, dtype: Any = None) -> Any:
        """``'torch.FloatStorage'`` without an argument (PyTorch's legacy name); with a legacy
        storage class (``glassgrad.DoubleStorage``), a converted copy."""
        if dtype is None:
            from glassgrad.legacy import legacy_type_name  # legacy imports this module

            return legacy_type_name(self._flat.dtype).replace("Tensor", "Storage")
        np_dtype = getattr(dtype, "np_dtype", None)
        if np_dtype is None:
            raise TypeError(
                f"TypedStorage.type: expected a legacy storage class (FloatStorage ...), got {dtype!r}"
            )
        return self._to(dtypes.from_np_dtype(np_dtype))

    @property
    def is_cuda(self) -> bool:
        return False

    def __getitem__(self, idx: Any) -> Any:
        if isinstance(idx, slice):  # PyTorch's TypedStorage reads one element at a time
            raise RuntimeError("slices are only supported in UntypedStorage.__getitem__")
        return super().__getitem__(idx)

    def _info(self) -> str:
        return f"[glassgrad.storage.TypedStorage(dtype={self.dtype}, device=cpu) of size {len(self)}]"


class UntypedStorage(_Storage):
    """The bytes of a tensor's memory (``tensor.untyped_storage()``), of a file
    (:meth:`from_file`), or new ones: ``UntypedStorage(nbytes)`` (zeros) or
    ``UntypedStorage([1, 2, 3])``. ``storage[a:b]`` is a storage over the same bytes, and
    ``glassgrad.asarray(storage, dtype=...)`` a tensor over them (safetensors' ``load_file``
    reads a file this way)."""

    def __init__(self, data: Any = 0, *, device: Any = None):
        from glassgrad.device import check_device

        check_device(device, "UntypedStorage")
        if isinstance(data, numbers.Integral):
            flat = np.zeros(int(data), np.uint8)
        else:
            values = np.asarray(list(data))
            if values.size and values.dtype.kind not in "biu":
                raise RuntimeError(
                    f"UntypedStorage: expected a sequence of ints (bytes), got {values.dtype} values"
                )
            # each int is taken modulo 256, as PyTorch's conversion to uint8 (-1 is 255, 300 is 44)
            flat = (values.astype(np.int64) % 256).astype(np.uint8)
        self._flat, self._vc = flat, [0, True]  # [count, shared]: a tensor over it must not swap it away

    @classmethod
    def _over(cls, flat: np.ndarray, vc: list) -> UntypedStorage:
        """A storage over ``flat``'s bytes (no copy), counting writes in ``vc``."""
        out = cls.__new__(cls)
        out._flat, out._vc = flat.view(np.uint8), vc
        return out

    @classmethod
    def from_file(cls, filename: Any, shared: bool = False, nbytes: int = 0) -> UntypedStorage:
        """The first ``nbytes`` bytes of ``filename``, mapped into memory. ``shared=False``: the
        file must hold them, and writes stay in this process (copy on write); ``shared=True``:
        the file is made (or grown) to ``nbytes`` and writes reach it."""
        import os

        op, name = "UntypedStorage.from_file", os.fspath(filename)
        if shared:
            with open(name, "ab") as f:  # creates the file; never shortens it
                if f.tell() < nbytes:
                    f.truncate(nbytes)
        elif not os.path.isfile(name):
            raise RuntimeError(f"{op}: no file {name!r} to map (shared=False reads, never creates)")
        size = os.path.getsize(name)
        if size < nbytes:
            raise RuntimeError(f"{op}: {name!r} holds {size} bytes, fewer than nbytes={nbytes}")
        if nbytes == 0:
            return cls._over(np.zeros(0, np.uint8), [0, True])  # NumPy cannot map zero bytes
        mapped = np.memmap(name, dtype=np.uint8, mode="r+" if shared else "c", shape=(int(nbytes),))
        return cls._over(mapped.view(np.ndarray), [0, True])

    _HEADER = 32

    def untyped(self) -> UntypedStorage:
        return self

    def __getitem__(self, idx: Any) -> Any:
        if not isinstance(idx, slice):
            return super().__getitem__(idx)
        start, stop, step = idx.indices(len(self))
        if step != 1:
            raise RuntimeError(f"UntypedStorage[{idx}]: a slice of a storage takes step 1, got step {step}")
        return UntypedStorage._over(self._flat[start:stop], self._vc)

    def element_size(self) -> int:
        return 1

    def _info(self) -> str:
        return f"[glassgrad.storage.UntypedStorage(device=cpu) of size {len(self)}]"


def storage(self: Tensor) -> TypedStorage:
    """``tensor.storage()``: the flat memory under ``self`` (and its views), in ``self``'s dtype."""
    if not _WARNED[0]:
        _WARNED[0] = True
        warnings.warn(_DEPRECATION, UserWarning, stacklevel=user_stacklevel())
    return TypedStorage(_flat_memory(self, "storage"), self.dtype, self._vc)


def untyped_storage(self: Tensor) -> UntypedStorage:
    """``tensor.untyped_storage()``: the bytes of the memory under ``self``."""
    return UntypedStorage._over(_flat_memory(self, "untyped_storage"), self._vc)


METHODS = {"storage": storage, "untyped_storage": untyped_storage, "as_strided": as_strided}
