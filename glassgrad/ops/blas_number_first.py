"""PyTorch's deprecated number-first overloads of the addmm family: ``torch.addmm(beta, input,
[alpha,] mat1, mat2)`` and the methods' ``x.addmm(beta, [alpha,] mat1, mat2)``, ``x.addmm_(...)``,
the same for ``baddbmm``, ``addbmm``, ``addmv`` and ``addr`` (tools/autograd/deprecated.yaml).
Scripts of 2017-2019 call them (old optimizers and attention code); glassgrad raised "takes 3
positional arguments but 5 were given" where PyTorch warns once and computes.

The ops call :func:`blas_legacy` only when more than two operands follow ``input`` (every
deprecated form has them), so the current form costs one test.
"""

from __future__ import annotations

import numbers
import warnings
from typing import Any

from glassgrad.ops import composite
from glassgrad.tensor import Tensor
from glassgrad.user_frames import user_stacklevel

__all__ = ["blas_legacy", "parse"]

# the two operands' names in each op's signature (the warning and the errors name them)
_OPERANDS = {
    "addmm": ("mat1", "mat2"),
    "baddbmm": ("batch1", "batch2"),
    "addbmm": ("batch1", "batch2"),
    "addmv": ("mat", "vec"),
    "addr": ("vec1", "vec2"),
}


def _is_number(x: Any) -> bool:
    """A number where PyTorch's parser reads a Scalar: a Python/NumPy number or a 0-d tensor."""
    return isinstance(x, numbers.Number) or (isinstance(x, Tensor) and x.ndim == 0)


def parse(op: str, input: Any, args: tuple, beta: Any, alpha: Any) -> tuple:  # noqa: A002
    """``(input, (a, b), beta, alpha, warning)`` from the positional arguments ``input, *args`` of
    ``op`` (``addmm`` ... or ``addmm_``) in a deprecated form:

    - the function's ``(beta, input, a, b)`` and ``(beta, input, alpha, a, b)``: ``input`` is the number;
    - the method's ``(self, beta, a, b)`` and ``(self, beta, alpha, a, b)``: ``args[0]`` is.

    ``warning``: PyTorch's text for the form. As PyTorch's parser, ``beta=``/``alpha=`` as keywords
    with a number-first form, a number where an operand goes or any other count is a ``TypeError``.
    (One leniency: ``torch.addmm(x, beta, a, b)``, the method's form spelled as a function, which
    PyTorch refuses, is read as ``x.addmm(beta, a, b)``: the two reach the same function here.)
    """
    base = op.rstrip("_")
    n1, n2 = _OPERANDS[base]
    function = _is_number(input) and not (isinstance(input, Tensor) and args and _is_number(args[0]))
    if function:  # (beta, input, [alpha,] a, b)
        head, rest = (args[0], args[1:]) if args else (None, ())
        numbers_ = (input, *rest[:-2]) if len(rest) in (2, 3) else None
        tensors = (head, *rest[-2:])
    else:  # self.op(beta, [alpha,] a, b)
        numbers_ = (args[0], *args[1:-2]) if len(args) in (3, 4) else None
        tensors = (input, *args[-2:])
    if numbers_ is None or not all(_is_number(x) for x in numbers_):
        got = ", ".join(type(a).__name__ for a in (input, *args))
        raise TypeError(
            f"{op}: expected (Tensor input, Tensor {n1}, Tensor {n2}, *, Number beta, Number alpha) "
            f"or the deprecated (Number beta, Tensor input, [Number alpha,] Tensor {n1}, Tensor {n2}), got ({got})"
        )
    if any(not isinstance(t, Tensor) for t in tensors):
        got = ", ".join(type(t).__name__ for t in tensors)
        raise TypeError(
            f"{op}: expected tensors for input, {n1} and {n2} in the deprecated form, got ({got})"
        )
    if beta != 1 or alpha != 1:  # (defaults of 1: an explicit beta=1 goes unnoticed)
        raise TypeError(f"{op}: beta and alpha are given by position in the deprecated form, not as keywords")
    with_alpha = len(numbers_) == 2
    alpha_part = "Number alpha, " if with_alpha else ""
    if function:
        warning = (
            f"This overload of {op} is deprecated:\n\t{op}(Number beta, Tensor input, {alpha_part}Tensor {n1}, "
            f"Tensor {n2}, *, Tensor out = None)\nConsider using one of the following signatures instead:\n\t"
            f"{op}(Tensor input, Tensor {n1}, Tensor {n2}, *, Number beta = 1, Number alpha = 1, Tensor out = None)"
        )
    else:
        warning = (
            f"This overload of {op} is deprecated:\n\t{op}(Number beta, {alpha_part}Tensor {n1}, Tensor {n2})\n"
            f"Consider using one of the following signatures instead:\n\t"
            f"{op}(Tensor {n1}, Tensor {n2}, *, Number beta = 1, Number alpha = 1)"
        )
    return tensors[0], tensors[1:], numbers_[0], numbers_[1] if with_alpha else 1, warning


def blas_legacy(op: str, input: Any, args: tuple, beta: Any, alpha: Any) -> tuple:  # noqa: A002
    """``(input, (a, b), beta, alpha)`` from a deprecated form of ``op`` (``addmm`` ... or
    ``addmm_``), warning once per process as PyTorch (one flag for every number-first overload)."""
    input, operands, beta, alpha, text = parse(op, input, args, beta, alpha)  # noqa: A001
    _warn_once(text)
    return input, operands, composite._number(op, beta, "beta"), composite._number(op, alpha, "alpha")


def _warn_once(text: str) -> None:
    if not composite._number_first_warned[0]:
        composite._number_first_warned[0] = True
        warnings.warn(text, UserWarning, stacklevel=user_stacklevel())
