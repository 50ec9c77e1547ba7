"""Top-level runtime helpers of ``torch`` (round 50): ``get_device_module``, ``from_file``,
``init_num_threads``, ``resize_as_`` in function form, ``to_dlpack`` and the ``_C`` switches
``DisableTorchFunction``/``DisableTorchFunctionSubclass`` at PyTorch's top-level names, and the
``sym_sum``/``sym_ite``/``sym_sqrt`` helpers (plain numbers here: glassgrad has no symbolic shapes).

``from_file(filename, shared=None, size=0, *, dtype=None, ...)``: the file's first ``size``
elements of ``dtype`` (the default dtype when None) as a 1-D tensor. ``shared=True`` maps the
file (created, or grown, to ``size`` elements when shorter), so writes into the tensor change the
file; otherwise the tensor holds a copy and the file must already hold ``size`` elements.
"""

from __future__ import annotations

import builtins
import math
import os
import warnings
from typing import Any

from glassgrad._C import DisableTorchFunction, DisableTorchFunctionSubclass
from glassgrad.utils.dlpack import to_dlpack

__all__ = [
    "DisableTorchFunction",
    "DisableTorchFunctionSubclass",
    "from_file",
    "get_device_module",
    "has_lapack",
    "has_mkl",
    "has_openmp",
    "has_spectral",
    "init_num_threads",
    "resize_as_",
    "sym_ite",
    "sym_sqrt",
    "sym_sum",
    "to_dlpack",
]


def get_device_module(device: Any = None) -> Any:
    """The module of ``device``'s type (``torch.cpu`` for ``"cpu"``; the current accelerator's,
    the CPU here, for None), as ``torch.get_device_module``."""
    import glassgrad
    from glassgrad.device import device as device_cls

    if isinstance(device, device_cls):
        name = device.type
    elif isinstance(device, str):
        name = device_cls(device).type
    elif device is None:
        name = "cpu"
    else:
        raise RuntimeError(f"Invalid value of device '{device}', expect torch.device, str, or None")
    module = getattr(glassgrad, name, None)
    if module is None:
        raise RuntimeError(
            f"Device '{name}' does not have a corresponding module registered as 'torch.{name}'."
        )
    return module


def init_num_threads() -> None:
    """Set up the intra-op thread pool of the calling thread: NumPy's BLAS has its own, so nothing."""


def resize_as_(input: Any, the_template: Any, *, memory_format: Any = None) -> Any:  # noqa: A002
    """``input.resize_as_(the_template)`` in function form: ``input`` resized and returned."""
    return input.resize_as_(the_template, memory_format=memory_format)


def from_file(
    filename: str,
    shared: bool | None = None,
    size: int = 0,
    *,
    dtype: Any = None,
    layout: Any = None,
    device: Any = None,
    pin_memory: bool = False,
    requires_grad: bool = False,
) -> Any:
    """A 1-D tensor of the first ``size`` elements of ``dtype`` in file ``filename`` (see the module)."""
    import numpy as np

    from glassgrad.dtypes import get_default_dtype, to_np_dtype
    from glassgrad.tensor import Tensor

    if not isinstance(filename, str):
        where = type(filename).__module__
        kind = (
            type(filename).__name__
            if where == "builtins"
            else f"{where.split('.')[0]}.{type(filename).__name__}"
        )
        raise TypeError(f"from_file(): argument 'filename' (position 1) must be str, not {kind}")
    if not isinstance(size, int) or size < 0:
        raise RuntimeError(f"from_file: expected size to be a non-negative int, got {size!r}")
    np_dtype = np.dtype(to_np_dtype(dtype if dtype is not None else get_default_dtype()))
    need = size * np_dtype.itemsize
    if shared:
        if not os.path.exists(filename) or os.path.getsize(filename) < need:
            with open(filename, "ab") as f:  # created, or grown with zeros, as PyTorch's mapping
                f.truncate(builtins.max(need, os.path.getsize(filename)))
        data = (
            np.memmap(filename, dtype=np_dtype, mode="r+", shape=(size,)).view(np.ndarray)
            if size
            else np.empty(0, dtype=np_dtype)
        )
    else:
        if not os.path.exists(filename):
            raise RuntimeError(
                f"unable to open file <{filename}> in read-only mode: No such file or directory (2)"
            )
        have = os.path.getsize(filename)
        if have < need:
            raise RuntimeError(
                f"file <{filename}> size <{have}> is smaller than the required mapping size <{need}>"
            )
        data = np.fromfile(filename, dtype=np_dtype, count=size)
    t = Tensor(data, _wrap=True)
    if device is not None:
        t = t.to(device)
    return t.requires_grad_(requires_grad) if requires_grad else t


def sym_sum(args: Any) -> Any:
    """The sum of ``args`` (one n-ary add in PyTorch's tracer), as ``torch.sym_sum``."""
    return builtins.sum(args)


def sym_ite(b: Any, t: Any, f: Any) -> Any:
    """``t if b else f`` for a bool ``b`` and ``t``, ``f`` of one type, as ``torch.sym_ite``."""
    if not isinstance(b, bool):
        raise AssertionError(f"expected SymBool or bool, got {type(b)}")
    if type(t) is not type(f):
        raise AssertionError(f"type mismatch: {type(t)} vs {type(f)}")
    return t if b else f


def sym_sqrt(a: Any) -> float:
    """``math.sqrt(a)``, as ``torch.sym_sqrt``."""
    if hasattr(a, "__sym_sqrt__"):
        return a.__sym_sqrt__()
    return math.sqrt(a)


# PyTorch's build flags, as plain module attributes: NumPy brings LAPACK and FFTs, not MKL
has_lapack, has_spectral, has_openmp, has_mkl = True, True, True, False

# PyTorch's deprecated build flags, read through its module ``__getattr__`` with a warning that
# names the replacement (``torch.has_mps`` in scripts that pick a device: hkproj's train.py, round 61)
_DEPRECATED_FLAGS = {
    "has_mps": ("mps", "is_built"),
    "has_cuda": ("cuda", "is_built"),
    "has_cudnn": ("cudnn", "is_available"),
    "has_mkldnn": ("mkldnn", "is_available"),
}


def module_getattr(name: str) -> Any:
    """``torch.<name>`` for the names PyTorch's module ``__getattr__`` serves: the deprecated
    ``has_mps``/``has_cuda``/``has_cudnn``/``has_mkldnn`` (with PyTorch's UserWarning)."""
    flag = _DEPRECATED_FLAGS.get(name)
    if flag is None:
        raise AttributeError(f"module 'glassgrad' has no attribute '{name}'")
    from glassgrad import backends

    backend, query = flag
    warnings.warn(f"'{name}' is deprecated, please use 'torch.backends.{backend}.{query}()'", stacklevel=2)
    return getattr(getattr(backends, backend), query)()
