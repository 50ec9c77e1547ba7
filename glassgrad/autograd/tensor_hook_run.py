"""Running a tensor's hooks (``Tensor.register_hook``) on the gradient the backward pass reached it with.

The hooks run in the order they were registered. As PyTorch's, one Tensor object goes through them
while none replaces it, and a hook that returns a Tensor hands that very object to the next hook:
libraries mark the gradient in one hook and read the mark in another (Captum's LRP sets an attribute
on the gradient in one tensor hook and a module's backward hook, which kept the gradient it was
given, looks for it).
"""

from __future__ import annotations

from typing import Any, Callable

from glassgrad.autograd import recorded
from glassgrad.autograd.complex_gate import check_hook_result
from glassgrad.autograd.function import _tensor_cls
from glassgrad.autograd.sparse_grad import SparseRows, hooked
from glassgrad.backend import asarray, user_code
from glassgrad.errors import ShapeError

__all__ = ["run_tensor_hooks", "with_seeds", "given_seeds"]

#: ``id(seed array) -> (array, Tensor)`` while a pass runs: the seeds the caller gave as Tensors
#: (``grad``'s ``grad_outputs``, ``backward``'s ``gradient``), so that the output's hooks get that
#: very object, as PyTorch's do (zennit checks ``grad is grad_output``); the array is held, so its
#: id cannot pass to another gradient during the pass
given_seeds: dict = {}


def with_seeds(roots: list, seeds: Any, run: Callable[[], Any]) -> Any:
    """``run()`` (a backward pass from ``roots``, pairs of output and seed array) with each seed the
    caller gave as a Tensor of its output's dtype (``seeds``: a Tensor, a sequence or None) entered
    in ``given_seeds`` for the pass."""
    tensor_cls = _tensor_cls[0]
    seeds = [seeds] if seeds.__class__ is tensor_cls else seeds if isinstance(seeds, list | tuple) else ()
    keys = []
    for (_, g), s in zip(roots, seeds):
        if s.__class__ is tensor_cls and s._data.dtype == g.dtype and id(g) not in given_seeds:
            given_seeds[id(g)] = (g, s)
            keys.append(id(g))
    try:
        return run()
    finally:
        for k in keys:
            del given_seeds[k]


def run_tensor_hooks(hooks: list, grad):
    """``grad`` (an array shaped as the tensor) after ``hooks``; each may return a replacement."""
    tensor_cls = _tensor_cls[0]
    if grad.__class__ is tensor_cls:  # a create_graph pass: the hooks see the recorded gradient
        return recorded.run_hooks(hooks, grad)
    if grad.__class__ is SparseRows:  # hooks see the dense gradient (PyTorch's see a sparse one)
        return hooked(run_tensor_hooks, hooks, grad)
    shown = None  # an array a user's hook was given or gave: it may keep it, so it must not become a .grad
    given = None
    if given_seeds:
        seed = given_seeds.get(id(grad))
        if seed is not None and seed[0] is grad:  # the caller's seed: its hooks see (and may change)
            given = seed[1]  # that Tensor itself
            grad = shown = given._data  # (the caller's array never becomes a .grad)
    # the hooks as registered when the tensor's turn came (PyTorch's engine iterates a copy): one
    # removed or added by a hook meanwhile still runs, or does not, in this pass
    for hook in tuple(hooks):
        if given is None or given._data is not grad:
            given = tensor_cls(grad, _wrap=True)
        out = user_code(hook, given)  # the user's NumPy state, not the pass's
        if out is None:
            if not getattr(hook, "retains_grad", False):  # (retain_grad's hook keeps a copy)
                shown = grad
            continue
        is_tensor = isinstance(out, tensor_cls)
        new = out._data if is_tensor else asarray(out)
        if new is not grad and new.base is None:
            if is_tensor:
                shown = new  # the next hook gets this very Tensor; copied at the end if it is the result
            else:
                new = new.copy()  # the user may keep it: it must not become a .grad changed in place
        if new.shape != grad.shape:
            name = getattr(hook, "__qualname__", type(hook).__name__)
            raise ShapeError(
                f"hook {name}: expected a gradient of shape {grad.shape} (the tensor's), got {new.shape}"
            )
        check_hook_result(hook, grad, new)  # another dtype (float32 for a float64 tensor): refused
        if new is grad:
            shown = grad
        grad = new
        if is_tensor:
            given = out
    # PyTorch's AccumulateGrad copies a gradient someone else holds: a hook's log of gradients
    # must not change with .grad (zero_grad, clip_grad_norm_), nor .grad with it
    return grad.copy() if shown is grad else grad
