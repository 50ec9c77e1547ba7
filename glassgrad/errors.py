"""Error types. Messages follow "op: expected ..., got ..." with full shapes and dtypes."""

from __future__ import annotations

import contextlib
import numbers
import pickle
from collections.abc import Iterator

__all__ = [
    "ShapeError", "IndexOutOfRangeError", "DTypeError", "IndexDTypeError", "GraphError", "CheckpointError",
    "UnsafeGlobalError", "CorruptCheckpointError", "LinAlgError", "DeviceError", "OutOfMemoryError", "ArgumentError",
    "SizeTypeError", "IntegerDivisionError", "KernelDTypeError", "ConversionOverflowError", "TransformArgumentError",
    "AttentionMaskShapeError", "ArgumentTypeError", "ArgumentAssertionError",
]  # fmt: skip


class ShapeError(ValueError, RuntimeError):
    """An op was given shapes it cannot combine; a ``RuntimeError`` too, as PyTorch raises (so
    ``except RuntimeError`` around a shape mismatch catches it)."""


class SizeTypeError(ShapeError, TypeError):
    """A size that is not an integer (``randn(None, 4)``, ``zeros(2.5)``); a ``TypeError`` too, as
    PyTorch raises (pytorch-forecasting retries ``sample(n_samples=None)`` on ``except TypeError``)."""


def size_error(op: str, size: tuple, bad: object) -> ShapeError:
    """The error for a bad element ``bad`` of the size ``size`` given to ``op``: a non-integer is a
    ``SizeTypeError`` (a ``TypeError`` too), a negative integer a ``ShapeError``, as PyTorch's."""
    kind = ShapeError if isinstance(bad, numbers.Integral) and not isinstance(bad, bool) else SizeTypeError
    return kind(
        f"{op}: expected non-negative integer sizes, got {size} (an element of type {type(bad).__name__})"
    )


def size_mismatch(shapes: list) -> str:
    """PyTorch's sentence for operands that do not broadcast ("; The size of tensor a (5) must match
    the size of tensor b (4) at non-singleton dimension 0", to end a message; programs match it:
    torchtune's KV-cache test), or "" when ``shapes`` broadcast: the shapes broadcast one after the other, as
    PyTorch's TensorIterator does, and the first pair that fails names its rightmost clash, counted
    in that pair's broadcast dims. Ops glassgrad composes from others (lerp, addcmul) name their
    inner op's operands."""
    acc: tuple = ()
    for shape in (tuple(s) for s in shapes):
        n = max(len(acc), len(shape))
        a, b = (1,) * (n - len(acc)) + acc, (1,) * (n - len(shape)) + shape
        for i in range(n - 1, -1, -1):
            if a[i] != b[i] and a[i] != 1 and b[i] != 1:
                return (
                    f"; The size of tensor a ({a[i]}) must match the size of tensor b ({b[i]}) at "
                    f"non-singleton dimension {i}"
                )
        acc = tuple(x if y == 1 else y for x, y in zip(a, b, strict=True))
    return ""


class AttentionMaskShapeError(ShapeError, AssertionError):
    """A mask, or query/key/value or static key/value, of the wrong rank or shape for
    ``MultiheadAttention`` where PyTorch's shape checks (``_mha_shape_check``,
    ``_check_key_padding_mask``, the static_k asserts) raise ``AssertionError``."""


class IndexOutOfRangeError(ShapeError, IndexError):
    """An index or dim outside the tensor; an ``IndexError`` too, as PyTorch raises."""


class IndexShapeError(ShapeError, IndexError):
    """An index op's index or source of the wrong rank or length where PyTorch raises ``IndexError``
    (``index_copy_``: "Number of indices (2) should be equal to source.size(dim) (3)"; a 2-D index
    of ``index_add_``): a script's ``except IndexError`` catches it, ``except ShapeError`` too."""


class DTypeError(TypeError, RuntimeError):
    """An op was given a dtype it cannot take; a ``RuntimeError`` too, as PyTorch raises for a dtype
    mismatch ("Input type (unsigned char) and bias type (float) should be the same"), so a script's
    ``except RuntimeError`` catches it as there."""


class KernelDTypeError(DTypeError, NotImplementedError):
    """PyTorch has no kernel of an op for a dtype and raises ``NotImplementedError`` ("\"histogram_cpu\"
    not implemented for 'Long'"): a script's ``except NotImplementedError`` catches this one, and
    glassgrad's ``except DTypeError`` too."""


class KernelRankError(ShapeError, NotImplementedError):
    """PyTorch has no kernel of an op for an input's number of dims and raises
    ``NotImplementedError`` (``interpolate`` of a 2-D input: "Only 3D, 4D and 5D input Tensors
    supported"): a script's ``except NotImplementedError`` catches this one, ``except ShapeError`` too."""


#: PyTorch's ScalarType names, as its "not implemented for" messages spell them
_SCALAR_TYPE_NAMES = {
    "bool": "Bool", "uint8": "Byte", "int8": "Char", "int16": "Short", "int32": "Int", "int64": "Long",
    "uint16": "UInt16", "uint32": "UInt32", "uint64": "UInt64", "float16": "Half", "float32": "Float",
    "float64": "Double", "complex64": "ComplexFloat", "complex128": "ComplexDouble",
}  # fmt: skip


def kernel_dtype_error(op: str, kernel: str, np_dtype: object) -> KernelDTypeError:
    """The error for ``op`` given a dtype its PyTorch kernel ``kernel`` has no code for, in PyTorch's
    words (``histc: "histogram_cpu" not implemented for 'Long'``)."""
    name = str(np_dtype)
    return KernelDTypeError(f"{op}: \"{kernel}\" not implemented for '{_SCALAR_TYPE_NAMES.get(name, name)}'")


class IndexDTypeError(DTypeError, IndexError):
    """An indexing key of a kind that cannot index (a float tensor, a float); an ``IndexError`` too,
    as PyTorch raises ("tensors used as indices must be long, int, byte or bool tensors")."""


class ArgumentError(ValueError, RuntimeError):
    """A setting was given a value it cannot take (a thread count below 1); a ``RuntimeError`` too,
    as PyTorch raises, so a script's ``except RuntimeError`` catches it as there."""


class ArgumentTypeError(TypeError, RuntimeError):
    """An argument of a kind an op cannot take where PyTorch's check raises ``RuntimeError``
    (``pad_sequence(5)``: "Expected iterable for input sequences"); a ``TypeError`` too."""


class ArgumentAssertionError(ValueError, AssertionError):
    """A constructor argument out of range where PyTorch checks it with ``assert`` (``Embedding``'s
    ``padding_idx``, ``MultiheadAttention``'s ``embed_dim`` not divisible by ``num_heads``): an
    ``AssertionError`` as there, and a ``ValueError`` as glassgrad raised before."""


class TransformArgumentError(TypeError, ValueError, RuntimeError):
    """A ``glassgrad.func`` transform was given, or its function returned, something other than
    Tensors where it takes Tensors (None, a number, a list for argnums or primals). PyTorch raises
    ``ValueError`` for a differentiated input ("Thing passed to transform API must be Tensor") and
    ``RuntimeError`` for the rest: a script's ``except`` of either catches this one, and a
    ``TypeError`` as glassgrad raised before."""


class IntegerDivisionError(ZeroDivisionError, RuntimeError):
    """An integer division, remainder or fmod by 0: PyTorch raises ``RuntimeError("ZeroDivisionError")``
    (``except RuntimeError`` catches it); a ``ZeroDivisionError`` too, as Python's ``7 // 0``."""


class ConversionOverflowError(OverflowError, ValueError, RuntimeError):
    """A number that the tensor's dtype cannot hold (``tensor(300, dtype=uint8)``, ``tensor(2**63)``).
    PyTorch raises ``RuntimeError`` ("value cannot be converted to type uint8 without overflow") or,
    for a Python int past int64, ``ValueError`` ("Overflow when unpacking long long"): a script's
    ``except`` of either (or of ``OverflowError``) catches this one."""


class GraphError(RuntimeError):
    """The autograd graph cannot do what was asked (freed buffers, in-place on a recorded tensor)."""


class LinAlgError(RuntimeError):
    """A linear-algebra op met a matrix it cannot handle (a singular matrix for ``solve``/``inv``, one
    that is not positive-definite for ``cholesky_ex``); ``torch.linalg.LinAlgError`` in PyTorch."""


class DeviceError(RuntimeError, AssertionError):
    """A device other than the CPU (and meta) was asked for. PyTorch's CPU build raises
    ``AssertionError`` for CUDA ("not compiled with CUDA"), other builds a ``RuntimeError``: a
    script's ``except`` of either catches this one."""


class CheckpointError(ValueError):
    """A checkpoint file is missing, truncated, corrupted or of the wrong format."""


class UnsafeGlobalError(CheckpointError, pickle.UnpicklingError):
    """A checkpoint names a tensor class that weights-only loading may not make: not on the
    ``add_safe_globals`` list. PyTorch raises ``pickle.UnpicklingError``: a script's ``except`` of
    that (or of ``CheckpointError``) catches this one."""


class CorruptCheckpointError(CheckpointError, RuntimeError):
    """A checkpoint file that is truncated, corrupted or not a checkpoint at all (not a missing or
    unreadable one, nor a refused class): a ``RuntimeError`` too, as PyTorch's reader raises for a
    damaged file ("PytorchStreamReader failed reading zip archive"), so that a script's ``except
    (RuntimeError, EOFError)`` around ``torch.load``, which skips or deletes a corrupted checkpoint
    or cache file, catches it."""


class OutOfMemoryError(RuntimeError):
    """``torch.OutOfMemoryError`` (also ``torch.cuda.OutOfMemoryError``): raised by PyTorch when a
    device allocation fails. glassgrad has no device memory to run out of and never raises it; it
    exists so that ``except torch.cuda.OutOfMemoryError:`` clauses (U-Net's train.py) evaluate."""


_RUNTIME_OS_ERRORS: dict[type, type] = {}


def runtime_os_error(e: OSError, where: str) -> OSError:
    """``e`` as an error of its own kind that is also a ``RuntimeError``, its message led by ``where``.

    PyTorch's ``save`` raises ``RuntimeError`` for a path it cannot write (a missing folder, a
    folder, a read-only file), and scripts catch that; code written for plain Python catches the
    ``OSError`` kind (``FileNotFoundError``, ``IsADirectoryError``): the error returned is both.
    """
    kind = type(e)
    cls = _RUNTIME_OS_ERRORS.get(kind)
    if cls is None:
        doc = (
            f"A ``{kind.__name__}`` that is also a ``RuntimeError``, as PyTorch raises for the same failure."
        )
        # Named as its kind in messages; found by pickle (a DataLoader worker's error) under a module name.
        qual = f"_Runtime{kind.__name__}"
        cls = type(
            kind.__name__,
            (kind, RuntimeError),
            {"__module__": __name__, "__qualname__": qual, "__doc__": doc},
        )
        _RUNTIME_OS_ERRORS[kind] = globals()[qual] = cls
    text = str(e)
    out = cls(text if text.startswith(where) else f"{where}: {e.strerror or text}")
    out.errno = e.errno  # (strerror/filename would make str() the bare OS text, without ``where``)
    return out


@contextlib.contextmanager
def corrupt_file_errors() -> Iterator[None]:
    """Raise a damaged file's ``CheckpointError`` inside the block as a ``CorruptCheckpointError``
    (also a ``RuntimeError``, PyTorch's kind); the other kinds (missing, unreadable, a refused
    class) go out as they are."""
    try:
        yield
    except CheckpointError as e:
        if type(e) is not CheckpointError:
            raise
        raise CorruptCheckpointError(*e.args).with_traceback(e.__traceback__) from None
