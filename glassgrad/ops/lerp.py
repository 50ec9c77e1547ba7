# ruff: noqa: A002 - PyTorch's parameter names (input) are the API
"""``torch.lerp`` / ``Tensor.lerp(_)``: the dtype checks of PyTorch's kernel in front of the
computation (``composite.lerp``, which rounds as PyTorch's does).

PyTorch does not promote here: ``end`` (even 0-d) must have ``input``'s dtype, and so must a
``weight`` tensor with dimensions (a 0-d weight of another dtype is taken as its value); integer and
bool inputs have no kernel. fastai's ``AvgSmoothLoss`` ran ``torch.lerp(float64_loss,
float32_val, beta)``: PyTorch refuses it, glassgrad returned float64.
"""

from __future__ import annotations

from typing import Any

from glassgrad.errors import DTypeError, KernelDTypeError
from glassgrad.operand_errors import refuse_sequence
from glassgrad.ops import composite
from glassgrad.tensor import Tensor

__all__ = ["lerp"]


def check_lerp(op: str, input: Tensor, end: Any, weight: Any) -> None:
    if not isinstance(input, Tensor):
        raise TypeError(f"{op}(): expected a Tensor as argument 'input', got {type(input).__name__}")
    refuse_sequence(op, "end", end)
    refuse_sequence(op, "weight", weight)
    dt = input.dtype
    if not (dt.is_floating_point or dt.is_complex):
        # PyTorch has no kernel for it ("lerp_kernel_scalar" not implemented for 'Long')
        raise KernelDTypeError(f"{op}: expected a floating point or complex input, got dtype {dt}")
    if isinstance(end, Tensor) and end.dtype != dt:
        raise DTypeError(f"{op}: expected dtype {dt} for `end` (that of input) but got dtype {end.dtype}")
    if isinstance(weight, Tensor) and weight.ndim and weight.dtype != dt:
        raise DTypeError(
            f"{op}: expected dtype {dt} for `weight` (that of input; only a 0-d weight may differ) "
            f"but got dtype {weight.dtype} of shape {tuple(weight.shape)}"
        )


def lerp(input: Tensor, end: Tensor, weight: Any, *, out: Any = None) -> Tensor:
    """``input + weight * (end - input)``; ``end`` and a weight tensor with dimensions must have
    ``input``'s dtype, as in PyTorch."""
    check_lerp("lerp", input, end, weight)
    if isinstance(weight, Tensor) and weight.ndim and isinstance(out, Tensor) and out.dtype != input.dtype:
        # PyTorch's kernel for a weight tensor with dimensions writes out in input's dtype only (a
        # number or 0-d weight goes through TensorIterator, which casts into out)
        raise DTypeError(f"lerp: Found dtype {out.dtype} for out= but expected {input.dtype} (input's)")
    return composite.lerp(input, end, weight, out=out)


def lerp_(input: Tensor, end: Tensor, weight: Any) -> Tensor:
    check_lerp("lerp_", input, end, weight)
    return composite.lerp(input, end, weight)
