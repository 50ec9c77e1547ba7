"""PyTorch's ``TypeError`` for an operand that is not a tensor: ``F.relu(np_array)``,
``torch.exp([1.0])``, ``F.linear(x, weight_list)``.

glassgrad's ops read a tensor's attributes (``x._data``, ``x.unsqueeze``) without checking first,
so a NumPy array or a list would reach the user as ``AttributeError: 'numpy.ndarray' object has
no attribute '_data'`` from deep inside an op. PyTorch's parser raises ``TypeError: relu():
argument 'input' (position 1) must be Tensor, not numpy.ndarray`` instead. The check costs
nothing on the way through: the public function's wrapper (``numpy_names``, generated with the
function's own signature) catches the ``AttributeError`` and, when the object that lacked the
attribute is one of the call's operands and the error was raised inside glassgrad, raises the
``TypeError`` naming the function and the argument.

``install`` gives that wrapper to every public function of a namespace (``glassgrad``,
``glassgrad.nn.functional``, ``glassgrad.linalg``, ``glassgrad.special``, ``glassgrad.fft``) that has
a tensor operand and no wrapper yet; a function published in two namespaces gets the same wrapper in
both.

Example:
    >>> import numpy as np
    >>> import glassgrad.nn.functional as F
    >>> F.relu(np.ones(2))
    Traceback (most recent call last):
    ...
    TypeError: relu(): expected a Tensor as argument 'input', got ndarray (glassgrad.from_numpy(a) makes one)
"""

from __future__ import annotations

import inspect
import numbers
import operator
import os
from collections.abc import Iterable
from types import FunctionType
from typing import Any, Callable

from glassgrad.errors import ArgumentError, DTypeError, ShapeError, size_mismatch

__all__ = [
    "DIM_NAMES",
    "NONE_IS_DEFAULT",
    "STRICT_FLAGS",
    "bool_dim",
    "close_operands",
    "flag",
    "install",
    "int_arg",
    "int_tuple_arg",
    "number_arg",
    "is_operand",
    "not_tensor",
    "raised_inside",
    "refuse_sequence",
    "scalar_int",
    "size_int",
    "tensor_operand",
    "with_grad",
]

_PACKAGE = os.path.dirname(os.path.abspath(__file__)) + os.sep

# Parameter names that hold a tensor operand where the annotation does not say so (``Any``).
OPERAND_NAMES = frozenset({"input", "other", "x", "a", "b", "A", "B", "tensor", "tensors", "self"})

#: (original function, with NumPy's names) -> its checked wrapper: a function published in two
#: namespaces stays one object.
_checked: dict[tuple[Callable, bool, tuple], Callable] = {}


def is_operand(p: inspect.Parameter) -> bool:
    """Whether parameter ``p`` holds a tensor: by its annotation, else by its name."""
    ann = p.annotation
    if isinstance(ann, str) and ann != "Any":
        return "Tensor" in ann
    return p.name in OPERAND_NAMES


def raised_inside(e: BaseException) -> bool:
    """Whether ``e`` was raised in glassgrad's own code (its innermost frame), not in the user's."""
    tb = e.__traceback__
    while tb is not None and tb.tb_next is not None:
        tb = tb.tb_next
    return tb is not None and tb.tb_frame.f_code.co_filename.startswith(_PACKAGE)


def not_tensor(e: AttributeError, name: str, values: tuple, names: tuple, required: int = 0) -> None:
    """Raise PyTorch's TypeError if ``e`` came from one of glassgrad's ops looking for a tensor's
    attribute on ``values[k]`` (the operand PyTorch calls ``names[k]``) and that value is not a
    tensor (a list, a NumPy array, or None for one of the first ``required`` operands, which
    have no default); else return, and the caller re-raises ``e``."""
    from glassgrad.tensor import Tensor

    obj = getattr(e, "obj", None)
    if e.name is None or isinstance(obj, Tensor) or not raised_inside(e):
        return
    pairs = list(zip(names, values, strict=True))
    for arg, value in pairs:  # an element of a sequence of tensors: torch.cat([t, [1.0]])
        if isinstance(value, (list, tuple)) and any(v is obj for v in value):
            at = next(i for i, v in enumerate(value) if v is obj)
            raise TypeError(
                f"{name}(): expected a Tensor as element {at} of argument {arg!r}, got {type(obj).__name__}"
            ) from e
    if obj is None:  # None where an operand without a default belongs (an optional bias is not one)
        pairs = pairs[:required]
    # the operand itself lacked the attribute; else a value made from it did (np_array.diagonal())
    found = [p for p in pairs if p[1] is obj] or [p for p in pairs if type(p[1]) is type(obj)]
    for arg, value in found[:1]:
        if not isinstance(value, Tensor):
            how = "glassgrad.from_numpy(a)" if type(obj).__module__ == "numpy" else "glassgrad.tensor(a)"
            hint = "" if obj is None else f" ({how} makes one)"
            kind = type(obj).__name__
            if type(obj).__module__.split(".")[0] == "torch":  # PyTorch's Tensor is not ours: say whose
                kind, hint = f"torch.{kind}", " (glassgrad.from_numpy(t.numpy()) makes one)"
            raise TypeError(f"{name}(): expected a Tensor as argument {arg!r}, got {kind}{hint}") from e


def refuse_sequence(op: str, arg: str, value: Any) -> Any:
    """``value``, or PyTorch's TypeError for a list or tuple where a tensor operand belongs: read as
    a tensor it would broadcast silently (``clamp(t, (lo, hi))`` bounded each column by one end)."""
    if isinstance(value, (list, tuple)):
        raise TypeError(f"{op}(): argument {arg!r} must be Tensor, not {type(value).__name__}")
    return value


def close_operands(op: str, input: Any, other: Any, rtol: Any, atol: Any) -> tuple[Any, Any]:  # noqa: A002
    """``isclose``/``allclose``: PyTorch's TypeError for a list or tuple ``other``, and its
    RuntimeError for two tensors of different dtypes (no promotion there: ``Float did not match
    Double``; ``total.isclose(torch.ones(1)[0])`` with a float32 ``total`` under a float64 default).
    Returns ``rtol, atol`` as its parser reads them (a tensor of several elements: TypeError)."""
    refuse_sequence(op, "other", other)
    rtol, atol = number_arg(op, "rtol", rtol), number_arg(op, "atol", atol)
    for name, tol in (("rtol", rtol), ("atol", atol)):
        # PyTorch's RuntimeError: a negative (or NaN) tolerance would make every comparison false
        if not tol >= 0:
            raise ArgumentError(f"{op}: {name} must be greater than or equal to zero, but got {tol}")
    if getattr(other, "_data", None) is not None:
        if other._data.dtype != input._data.dtype:
            raise DTypeError(
                f"{op}: expected other of the input's dtype {input.dtype}, got {other.dtype} (PyTorch "
                "compares without promoting: convert one, e.g. other.to(input.dtype))"
            )
        # shapes that do not broadcast: PyTorch's RuntimeError, not NumPy's ValueError from inside
        if other._data.shape != input._data.shape and (clash := size_mismatch([input.shape, other.shape])):
            raise ShapeError(
                f"{op}: expected shapes that broadcast, got {input.shape} and {other.shape}{clash}"
            )
    return rtol, atol


def tensor_operand(op: str, arg: str, value: Any) -> Any:
    """``value``, or PyTorch's TypeError where a method's Tensor operand belongs (``x.view_as(None)``,
    ``x.type_as(np_array)``): its attributes were read from inside (``'NoneType' object has no attribute
    'shape'``), and a NumPy array's shape or dtype was taken silently."""
    if getattr(value, "_data", None) is None:  # (a tensor's array: no import of Tensor here)
        raise TypeError(f"{op}(): argument {arg!r} (position 1) must be Tensor, not {_type_name(value)}")
    return value


def size_int(v: object) -> int | None:
    """``v`` as a Python int when it is an integer (a bool is not; a tensor needs one integer
    element), else None."""
    if isinstance(v, bool):
        return None
    if isinstance(v, numbers.Integral):
        return int(v)
    if hasattr(type(v), "__index__"):
        try:
            return operator.index(v)
        except TypeError:  # a float or bool tensor, several elements
            return None
    return None


def iterable_tuple(v: Any) -> Any:
    """PyTorch's ``_pair``/``_triple`` first step for the convolution layers' and ``unfold``/``fold``'s
    window arguments: any iterable other than a str, list, tuple or 0-d array (a generator, a
    ``range``, a 1-D array) is read into a tuple; anything else is returned as is for the checks."""
    if v.__class__ in (int, tuple, list, str) or getattr(v, "ndim", None) == 0:
        return v
    return tuple(v) if isinstance(v, Iterable) else v


def scalar_int(v: object) -> int | None:
    """``v`` as a Python int where PyTorch's parser reads a plain ``int`` (``polygamma``'s n,
    ``matrix_power``'s n): as :func:`size_int`, but a tensor must be 0-d (a one-element 1-D tensor
    passes only for a size, PyTorch's ``SymInt``); else None."""
    if v.__class__ is int:
        return v
    return size_int(v) if getattr(v, "ndim", 0) == 0 else None


def int_arg(op: str, name: str, v: Any) -> int:
    """An int argument as PyTorch's parser takes it (an int, a NumPy integer, a one-element integer
    tensor; not a bool), else its TypeError: ``int()`` would truncate a float silently
    (``t.diagonal(1.5)`` was the first diagonal, ``t.select(0, 1.7)`` row 1)."""
    n = size_int(v)
    if n is None:
        raise TypeError(f"{op}(): argument {name!r} must be int, not {type(v).__name__} {v!r:.40}")
    return n


def int_tuple_arg(op: str, name: str, v: Any) -> tuple[int, ...]:
    """A ``tuple of ints`` argument (``layer_norm``'s normalized_shape) as PyTorch's parser takes it:
    a tuple, list or Size of integers, else its TypeError. A lone int is refused there ("must be
    tuple of ints, not int"), though the modules (``nn.LayerNorm(3)``) take one."""
    if not isinstance(v, (tuple, list)):
        raise TypeError(f"{op}(): argument {name!r} must be tuple of ints, not {type(v).__name__}")
    out = tuple(size_int(n) for n in v)
    if None in out:
        i = out.index(None)
        raise TypeError(
            f"{op}(): argument {name!r} must be tuple of ints, but found element of type "
            f"{type(v[i]).__name__} at pos {i}"
        )
    return out


def number_arg(op: str, name: str, v: Any, kind: str = "float", compared: bool = False) -> Any:
    """A ``float`` (``kind`` "Number": complex too) argument as PyTorch's parser reads it: a Python
    or NumPy real number (a bool too) as given, a 0-d tensor that does not require grad as its
    value; else PyTorch's TypeError ``dropout(): argument 'p' must be float, not NoneType`` (not
    the raw ``'<=' not supported between 'float' and 'NoneType'`` of the arithmetic that reads it).
    ``compared``: PyTorch's own Python code compares the value first (``F.dropout``'s range
    check), so a tensor of several elements is the RuntimeError of its ambiguous truth value.
    Per-op callers test ``v.__class__ is float`` first; a float or int passes here by one test too."""
    if v.__class__ is float or v.__class__ is int:
        return v
    if isinstance(v, numbers.Real) or (kind == "Number" and isinstance(v, numbers.Complex)):
        return v
    data = getattr(
        v, "_data", None
    )  # a Tensor (no import: operand_errors is imported by tensor.py's modules)
    if data is not None and not isinstance(v, type):
        if data.ndim == 0 and not v.requires_grad:
            return v.item()
        if compared and data.size > 1:
            raise RuntimeError(
                f"{op}(): Boolean value of Tensor with more than one value is ambiguous (argument "
                f"{name!r} must be {kind}, got a tensor of shape {tuple(data.shape)})"
            )
    raise TypeError(f"{op}(): argument {name!r} must be {kind}, not {_type_name(v)} {v!r:.40}")


# The bool parameters PyTorch's argument parser reads (its native functions), where it refuses
# anything but a bool: ``t.sort(descending="no")`` and ``t.var(1, unbiased=0)`` are TypeErrors
# there, where reading them by their truth value would sort descending, or divide by n, silently.
# (Flags PyTorch reads in Python, ``F.max_pool1d(return_indices=1)``, ``inplace=``, stay lenient.)
STRICT_FLAGS = frozenset(
    {
        "keepdim", "descending", "stable", "largest", "sorted", "unbiased", "return_inverse",
        "return_counts", "upper", "left", "pivot", "hermitian", "some", "compute_uv", "full_matrices",
        "unitriangular", "out_int32", "right", "equal_nan", "replacement", "include_self",
        "accumulate", "ceil_mode", "count_include_pad", "align_corners", "is_causal",
        "scale_grad_by_freq", "sparse", "training", "use_input_stats", "zero_infinity", "log_input",
        "swap", "periodic", "onesided", "normalized", "return_complex", "enable_gqa", "requires_grad",
        "pin_memory", "non_blocking",
    }
)  # fmt: skip

# The factories' options, where PyTorch's parser also takes None for the default.
NONE_IS_DEFAULT = frozenset({"requires_grad", "pin_memory"})

# Parameters holding one dim, where PyTorch's parser refuses a bool (``torch.cat(ts, True)``).
DIM_NAMES = frozenset({"dim", "dim0", "dim1", "dims"})


def flag(op: str, name: str, v: Any) -> bool:
    """PyTorch's TypeError for a flag that is not a bool (its parser takes only ``True``/``False``,
    not 1, ``"no"``, a NumPy bool or a tensor); ``v`` itself when it is one."""
    if v is True or v is False:
        return v
    raise TypeError(f"{op}(): argument {name!r} must be bool, not {_type_name(v)} {v!r:.40}")


def _type_name(v: Any) -> str:
    """``str``, ``numpy.bool``, ``Tensor``: a NumPy bool is not shown as plain ``bool``."""
    t = type(v)
    return t.__name__ if t.__module__ in ("builtins", "glassgrad.tensor") else f"{t.__module__}.{t.__name__}"


def with_grad(t: Any, requires_grad: Any, op: str) -> Any:
    """``t``, made a leaf that requires grad for ``requires_grad=True`` (None and False: as it is;
    anything else is PyTorch's TypeError, where ``requires_grad="no"`` would have asked for one)."""
    if requires_grad is None or requires_grad is False:
        return t
    return t.requires_grad_(flag(op, "requires_grad", requires_grad))


def bool_dim(op: str, name: str, v: Any) -> None:
    """PyTorch's TypeError for a bool where a dim belongs: read as an int it named dim 0 or 1."""
    raise TypeError(f"{op}(): argument {name!r} must be int, not bool {v!r}")


def _operands(fn: Callable) -> bool:
    try:
        params = inspect.signature(fn).parameters.values()
    except (TypeError, ValueError):
        return False
    return any(is_operand(p) for p in params)


def install(namespace: dict[str, Any], names: list[str], native: Any = (), renamed: Any = None) -> None:
    """Wrap, in place, each function ``namespace[name]`` that has a tensor operand and no
    wrapper of ``numpy_names`` yet. ``native`` (a set of names, or True for all) names the
    functions that PyTorch's argument parser builds (``torch.linalg.*``, ``torch.fft.*``,
    ``F.cosine_similarity``): those taking ``dim``/``keepdim`` also take NumPy's ``axis``/``keepdims``
    there (``torch.linalg.norm(x, dim=1, keepdims=True)``, POT's TorchBackend), as at top level.
    ``renamed`` maps a name to PyTorch's keywords for its operands where they are not the
    function's own (``torch_keywords.LINALG``: ``torch.linalg.cholesky(input=x)``)."""
    from glassgrad.numpy_names import ALIASES, accept_numpy_names, wants_numpy_names
    from glassgrad.public_names import reached

    module = namespace.get("__name__")
    for name in names:
        fn = namespace.get(name)
        if not isinstance(fn, FunctionType) or hasattr(fn, "__keyword_aliases__"):
            continue
        numpy = (native is True or name in native) and wants_numpy_names(fn)
        extra = renamed.get(name, {}) if renamed else {}
        key = (fn, numpy, tuple(extra.items()))
        if key not in _checked:
            if not numpy and not extra and not _operands(fn):
                continue
            _checked[key] = accept_numpy_names(fn, name, {**(ALIASES if numpy else {}), **extra})
        wrapper = namespace[name] = _checked[key]
        if module and not reached(wrapper):  # pickled by its public name, F.relu as PyTorch's
            wrapper.__module__, wrapper.__qualname__ = module, name
