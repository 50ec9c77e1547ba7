"""PyTorch's treatment of a scale number of a wider kind than the tensors' result: ``alpha`` of
``add``/``sub`` (the functions, the methods and the in-place forms), ``value`` of
``addcmul``/``addcdiv`` and ``beta``/``alpha`` of the addmm family and ``addr`` (round 59).

Glassgrad multiplied by the number first, so it promoted the result: ``i.add(i, alpha=0.5)`` of
int64 tensors gave float32, ``x.add(y, alpha=1j)`` of float tensors complex64, where PyTorch raises
(its kernels take the number in the result's dtype); ``addcmul`` of integer tensors with a float
``value`` truncates the value there, and ``addcdiv`` of integer tensors is refused.

And of a scaled tensor of a narrower dtype than the result (round 53): ``to_result_dtype`` reads
every tensor operand in the result's dtype before the product, as PyTorch's kernels do.
"""

from __future__ import annotations

import numbers
from typing import Any

from glassgrad.dtypes import bool_
from glassgrad.errors import DTypeError, ShapeError, kernel_dtype_error
from glassgrad.tensor import Tensor

__all__ = ["addr_scale", "blas_factors", "blas_scale", "check_alpha", "scaled_pair", "to_result_dtype"]

_ORDER = "biufc"  # the kinds' promotion order: bool < integers < floats < complex
_NAMES = {"i": "integer tensors", "f": "floating-point tensors", "c": "complex tensors"}


def _kind(x: Any) -> str:
    kind = getattr(getattr(getattr(x, "_data", x), "dtype", None), "kind", None)  # a NumPy dtype's
    if kind is not None:
        return "i" if kind == "u" else kind
    if hasattr(x, "dtype"):  # a tensor without a NumPy array (sparse storage ...): its glassgrad dtype
        dt = x.dtype
        return "c" if dt.is_complex else "f" if dt.is_floating_point else "b" if dt == bool_ else "i"
    if isinstance(x, bool):
        return "b"
    if isinstance(x, numbers.Integral):
        return "i"
    return "c" if isinstance(x, numbers.Complex) and not isinstance(x, numbers.Real) else "f"


def check_alpha(op: str, alpha: Any, *operands: Any, name: str = "alpha") -> None:
    """Raise PyTorch's error when ``alpha`` (a number) does not fit the kind of the result of
    ``operands`` (tensors or numbers): a float for an integer result, a complex number for a real
    one, a bool for a non-bool one. ``name``: the argument's name in the message (``addr``'s
    ``beta`` is checked so too)."""
    if alpha.__class__ is int:  # the common case (the default 1, an int lr scale)
        return
    if alpha.__class__ is float:  # an optimizer's p.add_(g, alpha=-lr): a float input rules out a refusal
        kind = getattr(getattr(getattr(operands[0], "_data", None), "dtype", None), "kind", "")
        if kind in ("f", "c"):
            return
    result = max((_kind(x) for x in operands), key=_ORDER.index)
    a = _kind(alpha)
    if a == "b" and result != "b":
        raise DTypeError(
            f"{op}: Boolean {name} only supported for Boolean results (got {alpha!r} for {_NAMES[result]})"
        )
    if a == "f" and result in "bi":
        raise DTypeError(
            f"{op}: For integral input tensors, argument {name} must not be a floating point number (got {alpha!r})"
        )
    if a == "c" and result != "c":
        raise DTypeError(
            f"{op}: For non-complex input tensors, argument {name} must not be a complex number (got {alpha!r})"
        )


def blas_scale(op: str, name: str, s: Any, *operands: Any) -> Any:
    """``beta`` or ``alpha`` of ``addmm``/``addmv``/``baddbmm``/``addbmm`` as PyTorch's kernels
    read it for the result of ``operands``: a float truncated toward zero for integer tensors
    (``addmm(i, a, b, beta=0.5)`` scales by 0 and stays int64, where glassgrad's product promoted
    it to float32), a bool as 0 or 1, a complex number as its real part when it has no imaginary
    part and refused for real tensors otherwise."""
    if s.__class__ is int:  # the defaults
        return s
    kind, v = max((_kind(x) for x in operands), key=_ORDER.index), _kind(s)
    if v == "c" and kind != "c":
        if s.imag:
            raise DTypeError(
                f"{op}: value cannot be converted to type {operands[0].dtype} without overflow (got {name}={s!r})"
            )
        s, v = s.real, "f"
    if v == "b" or (v == "f" and kind in "bi"):
        return int(s)  # C++'s conversion: toward zero
    return s


def blas_factors(op: str, input: Any, mats: tuple, beta: Any, alpha: Any) -> tuple:  # noqa: A002
    """``(beta, alpha)`` as PyTorch's kernel of ``op`` reads them (``blas_scale``), after its checks
    that ``input`` has the matrices' dtype (PyTorch does not promote a float32 bias with float64
    matrices: "self and mat2 must have the same dtype", where glassgrad's sum did) and expands to
    the product's shape (``_expands``)."""
    dt = getattr(input, "dtype", None)
    if dt is not None and any(m.dtype != dt for m in mats if isinstance(m, Tensor)):
        got = ", ".join(str(t.dtype) for t in (input, *mats))
        raise DTypeError(f"{op}: expected input and the matrices of one dtype, got {got}")
    _expands(op, input, mats)
    return blas_scale(op, "beta", beta, input, *mats), blas_scale(op, "alpha", alpha, input, *mats)


def _expands(op: str, input: Any, mats: tuple) -> None:  # noqa: A002
    """PyTorch expands ``input`` to the product's shape: an input of more dims, or of a size the
    product's 1 would broadcast to, is refused there, where a sum broadcast both ways and returned
    a result of another shape (``addmm`` of a (1, n, m) input gave (1, n, m)). ``addbmm`` checks
    its own (its product sums the batch); malformed matrices are left to the product to name."""
    a, b = mats
    if (
        op == "addbmm"
        or not hasattr(input, "shape")
        or getattr(a, "ndim", 0) < 2
        or getattr(b, "ndim", 0) < 1
    ):
        return
    shape = tuple(a.shape[:-1]) + (tuple(b.shape[-1:]) if b.ndim > 1 else ())  # mm, bmm: (.., n, m); mv: (n,)
    got = tuple(input.shape)
    if len(got) > len(shape) or any(i not in (1, j) for i, j in zip(got[::-1], shape[::-1])):
        raise ShapeError(f"{op}: expected an input that expands to the product's shape {shape}, got {got}")


def addr_scale(name: str, s: Any, *operands: Any) -> Any:
    """``beta`` or ``alpha`` of ``addr``, an elementwise kernel in PyTorch: a float factor for
    integer tensors and a bool one for non-bool tensors are refused (``check_alpha``), the rest
    read as ``blas_scale`` reads them."""
    if s.__class__ is int:
        return s
    if _kind(s) != "c" or max((_kind(x) for x in operands), key=_ORDER.index) in "bi":
        check_alpha("addr", s, *operands, name=name)
    return blas_scale("addr", name, s, *operands)


def to_result_dtype(*operands: Any) -> tuple:
    """The operands with every tensor converted to the dtype of the op's result over all of them,
    as PyTorch's elementwise kernels read their inputs before they scale or multiply: a float64
    ``p.add_(g, alpha=a)`` with a float32 ``g`` scales ``g`` in float64 (glassgrad scaled it in
    float32, then promoted: 6e-8 off after fairseq's NAG step), and ``addcmul``/``addcdiv`` of a
    float64 input with float32 tensors multiply in float64. Operands of one dtype (the common
    case, an optimizer's step: checked on the arrays, without the Tensor properties) and sparse
    ones come back as they are."""
    first = None
    for t in operands:
        dt = getattr(getattr(t, "_data", None), "dtype", None)
        if dt is None:
            continue
        if first is None:
            first = dt
        elif dt != first:
            return _converted(operands)
    return operands


def _converted(operands: tuple) -> tuple:
    from glassgrad.tensor import Tensor
    from glassgrad.type_promotion import result_type_of

    tensors = [t for t in operands if isinstance(t, Tensor)]
    if any(t.is_sparse for t in tensors):
        return operands
    dtype = result_type_of(*operands)
    return tuple(t.to(dtype) if isinstance(t, Tensor) and t.dtype != dtype else t for t in operands)


def scaled_pair(input: Any, other: Any, alpha: Any, check: Any = None) -> tuple:  # noqa: A002
    """``(input, alpha * other)`` for ``add``/``sub``/``rsub``, the product taken in the result's
    dtype (``to_result_dtype``); ``alpha`` 1 leaves both as they are (the sum promotes once).
    ``check(input, other)`` runs first when there is a product (``sub`` refuses a bool operand,
    which the product would turn into an integer one)."""
    if alpha == 1:
        return input, other
    if check is not None:
        check(input, other)
    first, second = to_result_dtype(input, other)
    if alpha.__class__ is int and _kind(first) == _kind(second) == "b":
        # a bool result: alpha read as a bool, as PyTorch's kernel reads it (a product was int64)
        return first, (second if alpha else second & False)
    return first, second * alpha


def _float_data(t: Any) -> bool:
    return getattr(getattr(getattr(t, "_data", None), "dtype", None), "kind", "") == "f"


_ADDCDIV_INT = (
    "Integer division with addcdiv is no longer supported, and in a future  release addcdiv will perform "
    "a true division of tensor1 and tensor2. The historic addcdiv behavior can be implemented as "
    "(input + value * torch.trunc(tensor1 / tensor2)).to(input.dtype) for integer inputs and as "
    "(input + value * tensor1 / tensor2) for float inputs. The future addcdiv behavior is just the latter "
    "implementation: (input + value * tensor1 / tensor2), for all dtypes."
)


def addc_value(op: str, value: Any, input: Any, tensor1: Any, tensor2: Any) -> Any:  # noqa: A002
    """``value`` as PyTorch's ``addcmul``/``addcdiv`` take it: converted to the result's kind, a
    float truncated for integer tensors (``i.addcmul(i, i, value=1.7)`` scales by 1), a complex
    one refused for real tensors; and ``addcdiv`` of two integer tensors refused (PyTorch's
    message). Glassgrad promoted the result instead."""
    if value.__class__ in (int, float) and all(_float_data(t) for t in (input, tensor1, tensor2)):
        return value  # an optimizer's step on float tensors: nothing to check
    if op == "addcdiv" and _kind(tensor1) in "bi" and _kind(tensor2) in "bi":
        raise DTypeError(f"{op}: {_ADDCDIV_INT}")
    if op == "addcmul" and all(_kind(t) == "b" for t in (input, tensor1, tensor2)):
        raise kernel_dtype_error(op, "addcmul_cpu_out", "bool")  # PyTorch has no bool kernel
    if value.__class__ is int:
        return value
    result = max((_kind(x) for x in (input, tensor1, tensor2)), key=_ORDER.index)
    v = _kind(value)
    if v == "c" and result != "c":
        raise DTypeError(
            f"{op}: value cannot be converted to type {getattr(input, 'dtype', result)} without overflow "
            f"(got {value!r} for {_NAMES.get(result, 'bool tensors')})"
        )
    if v == "f" and result in "bi":
        return int(value)  # C++'s conversion: toward zero
    return value
