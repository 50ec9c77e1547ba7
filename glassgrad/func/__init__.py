"""PyTorch's ``torch.func`` on glassgrad's autograd.

- ``functional_call``, ``stack_module_state``, ``replace_all_batch_norm_modules_``: a module as a
  function of its parameters and buffers (``functional_call.py``).
- ``grad``, ``grad_and_value``, ``vjp``, ``jacrev``, ``hessian``: reverse mode (``transforms.py``);
  results are differentiable in the caller's graph where PyTorch's are (double backward), so
  reverse transforms nest.
- ``jvp``, ``jacfwd``, ``linearize``: forward mode on ``glassgrad.autograd.forward_ad``
  (``forward.py``) where PyTorch's results are constants; where they are differentiable in the
  caller's graph, or the function nests a transform, recorded by double backward instead
  (``forward_graph.py``), so these nest too.
- ``vmap``: a loop over the batch, results stacked (``vmap.py``): PyTorch's values, a loop's time.
- ``functionalize``: returns ``func`` itself (glassgrad runs eagerly; mutations happen as written).
"""

from __future__ import annotations

from typing import Callable

from glassgrad.func.forward import jacfwd, jvp, linearize
from glassgrad.func.functional_call import (
    functional_call,
    replace_all_batch_norm_modules_,
    stack_module_state,
)
from glassgrad.func.transforms import grad, grad_and_value, hessian, jacrev, vjp
from glassgrad.func.vmap import vmap

__all__ = [
    "functional_call",
    "stack_module_state",
    "replace_all_batch_norm_modules_",
    "grad",
    "grad_and_value",
    "vjp",
    "jacrev",
    "jvp",
    "jacfwd",
    "linearize",
    "hessian",
    "vmap",
    "functionalize",
]


def functionalize(func: Callable, *, remove: str = "mutations") -> Callable:
    """``func`` unchanged: PyTorch's functionalize rewrites mutations for graph capture; in eager
    glassgrad the values are the same without it."""
    if remove not in ("mutations", "mutations_and_views"):
        raise ValueError(
            f"functionalize: expected remove='mutations' or 'mutations_and_views', got {remove!r}"
        )
    return func
