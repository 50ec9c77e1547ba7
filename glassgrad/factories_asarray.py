"""``asarray`` and ``frombuffer``: PyTorch's ``torch.asarray``, a tensor from ``obj`` that shares memory with it when it
can (a tensor, an ndarray or a buffer of the asked dtype) and copies only when told to or when it
must. Array libraries' generated code calls it (einx turns a Python constant into a tensor with
``torch.asarray(c, device=x.device)``).

>>> import numpy as np
>>> import glassgrad as gg
>>> a = np.array([1.0, 2.0])
>>> t = gg.asarray(a)
>>> a[0] = 5.0
>>> t
tensor([5., 2.], dtype=glassgrad.float64)
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np

from glassgrad import dtypes
from glassgrad.device import check_device
from glassgrad.factories import _shared, adopt, from_numpy, tensor
from glassgrad.half_rounding import half_source
from glassgrad.inference import check_numpy_source
from glassgrad.operand_errors import flag, with_grad
from glassgrad.tensor import Tensor
from glassgrad.tensor_storage import UntypedStorage
from glassgrad.user_frames import user_stacklevel

__all__ = ["asarray", "frombuffer"]

_requires_grad_warned = [False]
_read_only_buffer_warned = [False]


def asarray(
    obj: Any,
    *,
    dtype: Any = None,
    device: Any = None,
    copy: bool | None = None,
    requires_grad: bool | None = None,
) -> Tensor:
    """``obj`` (a tensor, ndarray, NumPy scalar, buffer, Python number or nested sequence) as a
    tensor of ``obj``'s shape; an ``UntypedStorage``'s bytes as a 1-D tensor of ``dtype``.

    ``copy=None`` shares memory when ``obj`` already holds data of ``dtype``, ``copy=True`` always
    copies and ``copy=False`` refuses a copy (a ValueError where one is needed). A tensor of the
    asked dtype comes back as itself; a cast or copy of it stays in the autograd graph unless
    ``requires_grad=False`` (which, as in PyTorch, turns the flag off on ``obj`` itself when that
    is what comes back)."""
    check_device(device, "asarray")
    want = None if dtype is None else dtypes.to_np_dtype(dtype)
    if isinstance(obj, Tensor):
        out = _from_tensor(obj, dtype, want, copy, requires_grad)
    elif isinstance(obj, np.ndarray):
        out = _from_ndarray(obj, want, copy)
    elif isinstance(obj, UntypedStorage):
        out = _from_bytes(obj, dtype, copy)
    elif isinstance(obj, bytes | bytearray | memoryview):
        arr = np.frombuffer(obj, dtype=want or dtypes.to_np_dtype(dtypes.get_default_dtype()))
        out = adopt(arr.copy()) if copy else from_numpy(arr)
    else:
        if copy is False:
            raise ValueError(
                f"asarray: copy=False cannot alias a {type(obj).__name__} (a Python number or "
                "sequence has no tensor memory to share); pass copy=None or copy=True"
            )
        out = tensor(obj, dtype=dtype)
    return _with_flag(out, requires_grad)


def _from_tensor(obj: Tensor, dtype: Any, want: Any, copy: bool | None, requires_grad: bool | None) -> Tensor:
    cast = want is not None and want != dtypes.to_np_dtype(obj.dtype)
    if cast and copy is False:
        raise ValueError(
            f"asarray: copy=False cannot alias a {obj.dtype} tensor as {dtypes.from_np_dtype(want)}; "
            "a cast needs a copy (pass copy=None or copy=True)"
        )
    if requires_grad is None and obj.requires_grad and not _requires_grad_warned[0]:
        _requires_grad_warned[0] = True  # once per process, as PyTorch
        warnings.warn(
            "torch.asarray: unspecified requires_grad follows obj.requires_grad (here True) rather "
            "than defaulting to False; pass requires_grad=False to get a tensor without a graph "
            "and to silence this warning",
            UserWarning,
            stacklevel=user_stacklevel(),
        )
    if not cast and not copy:
        return obj
    return obj.to(dtype) if cast else obj.clone()


def _with_flag(out: Tensor, requires_grad: bool | None) -> Tensor:
    """PyTorch's final ``requires_grad_``: False takes a graph result off the graph (a leaf given
    back as itself has its flag turned off), True makes a result without a graph a leaf that
    requires grad; a result on the graph stays there."""
    if requires_grad is not None and requires_grad is not False:
        flag("asarray", "requires_grad", requires_grad)
    if requires_grad is False and out.requires_grad:
        if out.is_leaf:
            return out.requires_grad_(False)
        return out.detach()
    if requires_grad and not out.requires_grad:
        return out.requires_grad_(True)
    return out


def _from_bytes(storage: UntypedStorage, dtype: Any, copy: bool | None) -> Tensor:
    """A 1-D tensor over a storage's bytes read as ``dtype`` (int64 when None, as PyTorch); a
    partial last element is left out."""
    want = dtypes.to_np_dtype(dtypes.int64 if dtype is None else dtype)
    flat = storage._flat
    arr = flat[: flat.shape[0] // want.itemsize * want.itemsize].view(want)
    return adopt(arr.copy() if copy else arr)  # a storage's memory: as resizable as the storage


def _from_ndarray(arr: np.ndarray, want: Any, copy: bool | None) -> Tensor:
    check_numpy_source(arr)  # PyTorch's refusals (dtype, negative strides, byte order), copy or not
    if want is not None and want != arr.dtype:
        if copy is False:
            raise ValueError(
                f"asarray: copy=False cannot alias an ndarray of {arr.dtype} as {dtypes.from_np_dtype(want)}; "
                "a cast needs a copy (pass copy=None or copy=True)"
            )
        return adopt(half_source(arr, want).astype(want))  # float16: through float32, as PyTorch
    # PyTorch reads a 0-d ndarray as a NumPy scalar: always a copy (copy=False too, no error),
    # so writing the array afterwards leaves the tensor as it was
    return adopt(arr.copy()) if copy or arr.ndim == 0 else from_numpy(arr)


def frombuffer(
    buffer: Any, *, dtype: Any, count: int = -1, offset: int = 0, requires_grad: bool = False
) -> Tensor:
    """A 1-D tensor of ``count`` elements of ``dtype`` (all that remain when -1) over the bytes
    of ``buffer`` (bytes, bytearray, array.array, mmap ...) after ``offset`` bytes, sharing its
    memory as ``torch.frombuffer`` does (``safetensors.torch.load`` reads tensors this way)."""
    want = dtypes.to_np_dtype(dtype)
    try:
        view = memoryview(buffer)
    except TypeError:  # PyTorch's ValueError ("object does not implement Python buffer protocol.")
        raise ValueError(
            f"frombuffer: expected an object with the buffer protocol, got {type(buffer).__name__}"
        ) from None
    size, item = view.nbytes, want.itemsize
    if size == 0 or count == 0:
        raise ValueError(f"frombuffer: the buffer ({size} bytes) and count ({count}) must both be non-zero")
    if not 0 <= offset < size:
        raise ValueError(f"frombuffer: offset {offset} bytes is outside the buffer's {size} bytes")
    left = size - offset
    if count < 0 and left % item:
        raise ValueError(
            f"frombuffer: the {left} bytes after offset {offset} are not a whole number of {dtype} "
            f"elements ({item} bytes each); pass count"
        )
    if count > 0 and count * item > left:
        raise ValueError(
            f"frombuffer: count={count} elements of {dtype} need {count * item} bytes after offset "
            f"{offset}, the buffer has {left}"
        )
    arr = np.frombuffer(view.cast("B"), dtype=want, count=count, offset=offset)
    if arr.flags.writeable:
        out = from_numpy(arr)
    else:
        if not _read_only_buffer_warned[0]:  # once per process, as PyTorch
            _read_only_buffer_warned[0] = True
            warnings.warn(
                "The given buffer is not writable: frombuffer's tensor shares its memory, so an "
                "in-place change of it raises. Copy the buffer (bytearray(b)) to get a writable "
                "tensor. This warning is shown once per program.",
                UserWarning,
                stacklevel=user_stacklevel(),
            )
        out = _shared(Tensor(arr, _wrap=True))
        from glassgrad import held_memory  # (late: it reads the ops' memory_root)

        held_memory.hold(arr)  # the buffer's memory: not resizable, as from_numpy's
    return with_grad(out, requires_grad, "frombuffer")
