"""Outputs that PyTorch records in its op's node though no gradient comes back from them.

``torch.linalg.slogdet``'s sign of a real matrix and ``linalg.lstsq``'s empty residuals read
``requires_grad=True`` with the op's ``grad_fn`` (``LinalgSlogdetBackward0``,
``LinalgLstsqBackward0``), yet their gradient is undefined: a backward from one of them alone leaves
the input's ``.grad`` None (``autograd.grad`` calls the input unused), and beside another output
they add nothing. glassgrad computes such a value apart from the op's differentiable work;
``carried`` records it after the op's inputs with that node, so that ``requires_grad``, ``grad_fn``
and a backward through it read as PyTorch's. A constant when no input requires grad.

``underived``: the outputs of an op PyTorch records with a derivative that raises (``geqrf``,
``unique``, ``histogram``, ``bincount`` with weights): they read ``requires_grad=True``, and a
backward through them raises (instead of passing them over beside a term that has a gradient).
"""

from __future__ import annotations

from typing import Any

from glassgrad.autograd.function import Primitive as Function
from glassgrad.errors import GraphError
from glassgrad.tensor import Tensor

__all__ = ["Carried", "carried", "Underived", "underived"]


class Carried(Function):
    """z = the last input (an array computed apart), recorded after the others.   VJP: none (each
    input's gradient is undefined, not zero). ``node``: PyTorch's name for the op's node."""

    name = "carried"
    complex_ok = True
    node_name_by = staticmethod(lambda attrs: attrs.get("node", "NotImplemented"))

    @staticmethod
    def forward(ctx, *arrays, node="NotImplemented"):
        return arrays[-1]

    @staticmethod
    def backward(ctx, g):
        return (None,) * len(ctx.needs_input_grad)  # one per input, as the engine expects


def carried(value: Any, *inputs: Tensor, node: str) -> Tensor:
    """``value`` (an array of the op's float dtype) as a tensor recorded after ``inputs`` while grad
    mode is on and one of them requires grad, under PyTorch's node name ``node``."""
    return Carried.apply(*inputs, value, node=node)


class Underived(Carried):
    """z = the last input, recorded after the others.   VJP: raises, as PyTorch's for an op it
    has no derivative for (``op``: the name its error gives)."""

    name = "underived"
    register = False  # no gradient to check (tests/ops/test_registry.py), as NoDerivativePair

    @staticmethod
    def forward(ctx, *arrays, node="NotImplemented", op=""):
        return arrays[-1]

    @staticmethod
    def backward(ctx, g):
        raise GraphError(f"the derivative for '{ctx.attrs.get('op')}' is not implemented")


def underived(value: Any, *inputs: Any, op: str, node: str = "NotImplemented") -> Tensor:
    """``value`` (an array) as a tensor recorded after the tensors among ``inputs`` (None and
    numbers are passed over) whose backward raises, naming ``op``; a constant when none requires
    grad, grad mode is off or ``value`` is not floating."""
    return Underived.apply(*(t for t in inputs if isinstance(t, Tensor)), value, node=node, op=op)
