"""Reverse-mode autodiff: ``Function`` (a user's op, PyTorch's contract), ``Primitive`` (the library's
ops, on raw arrays), the backward engine, grad mode and gradient checks."""

from glassgrad.autograd import (
    forward_ad,  # forward-mode AD: dual_level, make_dual, unpack_dual
    functional,
    graph,  # saved-tensor hooks, grad_fn._saved_* (round 5)
    profiler,
)

# --- anomaly detection (glass box)
from glassgrad.autograd.anomaly import (
    AnomalyError,
    detect_anomaly,
    is_anomaly_check_nan_enabled,
    is_anomaly_enabled,
    set_detect_anomaly,
)
from glassgrad.autograd.custom import Function, FunctionCtx, once_differentiable
from glassgrad.autograd.engine_modes import (
    _is_checkpoint_valid,  # noqa: F401 - torch.autograd's private name (fairseq, checkpointing)
    is_multithreading_enabled,
    is_view_replay_enabled,
    kineto_available,
    set_multithreading_enabled,
)
from glassgrad.autograd.function import REGISTRY, Node, Primitive, observers
from glassgrad.autograd.grad_mode import (
    enable_grad,
    inference_mode,
    is_grad_enabled,
    no_grad,
    set_grad_enabled,
)
from glassgrad.autograd.gradcheck import gradcheck, gradgradcheck
from glassgrad.autograd.profiler import (
    _disable_profiler,  # noqa: F401 - torch.autograd's private names (Lightning's PyTorchProfiler)
    _profiler_enabled,  # noqa: F401
)
from glassgrad.autograd.variable import Variable

__all__ = [
    "Function",
    "FunctionCtx",
    "once_differentiable",
    "Primitive",
    "Variable",
    "Node",
    "REGISTRY",
    "observers",
    "no_grad",
    "enable_grad",
    "set_grad_enabled",
    "inference_mode",
    "is_grad_enabled",
    "gradcheck",
    "gradgradcheck",
    "graph",
    "functional",
    "forward_ad",
    "profiler",
    "grad",
    "backward",
    # anomaly detection (glass box)
    "AnomalyError",
    "detect_anomaly",
    "set_detect_anomaly",
    "is_anomaly_enabled",
    "is_anomaly_check_nan_enabled",
    "set_multithreading_enabled",
    "is_multithreading_enabled",
    "is_view_replay_enabled",
    "kineto_available",
]


import sys as _sys
import warnings as _warnings

from glassgrad.autograd import anomaly as anomaly_mode  # PyTorch's module name for it
from glassgrad.autograd.functional import backward
from glassgrad.autograd.gradient_edge import grad_inputs as _grad_inputs
from glassgrad.autograd.gradient_edge import shared_grads as _shared_grads

# ``import torch.autograd.anomaly_mode`` / ``from torch.autograd.anomaly_mode import detect_anomaly``
_sys.modules[__name__ + ".anomaly_mode"] = anomaly_mode


def grad(outputs, inputs, grad_outputs=None, retain_graph: bool | None = None, *args, **kwargs):
    """Gradients of ``outputs`` w.r.t. ``inputs`` without touching ``.grad`` (the other arguments
    as ``autograd.functional.grad``: ``create_graph``, ``allow_unused`` ...); a dict of inputs
    gives a dict of gradients under its keys, as PyTorch's."""
    keys, inputs = _grad_inputs(inputs)
    if not (args[1] if len(args) > 1 else kwargs.get("only_inputs", True)):
        _warnings.warn(_ONLY_INPUTS, FutureWarning, stacklevel=2)
    result = functional.grad(outputs, inputs, grad_outputs, retain_graph, *args, **kwargs)
    if inputs.__class__ is tuple and len(inputs) > 1:
        result = _shared_grads(inputs, result)
    return result if keys is None else dict(zip(keys, result))


# PyTorch's words (torch/autograd/__init__.py)
_ONLY_INPUTS = (
    "only_inputs argument is deprecated and is ignored now (defaults to True). To accumulate "
    "gradient for other parts of the graph, please use torch.autograd.backward."
)
