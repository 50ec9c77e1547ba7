"""Reverse-mode autodiff: ``Function``, the backward engine, grad mode and gradient checks."""

from glassgrad.autograd import functional
from glassgrad.autograd.function import REGISTRY, Function, Node, observers
from glassgrad.autograd.grad_mode import (
    enable_grad,
    inference_mode,
    is_grad_enabled,
    no_grad,
    set_grad_enabled,
)
from glassgrad.autograd.gradcheck import gradcheck

__all__ = [
    "Function",
    "Node",
    "REGISTRY",
    "observers",
    "no_grad",
    "enable_grad",
    "set_grad_enabled",
    "inference_mode",
    "is_grad_enabled",
    "gradcheck",
    "functional",
    "grad",
]


def grad(outputs, inputs, grad_outputs=None, retain_graph: bool = False):
    """Gradients of ``outputs`` w.r.t. ``inputs`` without touching ``.grad`` (first order only)."""
    return functional.grad(outputs, inputs, grad_outputs, retain_graph)
