"""Calling a node: ``grad_fn(grad_output)`` runs that one node's backward, as PyTorch's
``Node.__call__`` does (``y.grad_fn(torch.ones_like(y))`` gives the gradients of ``y``'s op
with respect to its inputs), without running the rest of the graph or any hook.

- The node takes one gradient per output of its op; a wrong count is PyTorch's ``TypeError``
  ("expected 1 arguments, got 0 instead"). A multi-output op's one node (split's, a custom
  Function's with several outputs) is refused: glassgrad runs those outputs' backward as
  separate pieces.
- With grad mode on, the result is recorded (the op's differentiable backward, as
  ``create_graph=True`` runs it), so it can be differentiated again, as PyTorch's is; under
  ``no_grad`` it is plain.
- The result has one entry per input that ``next_functions`` shows: a single Tensor for a
  one-input op, else a tuple (None where an input gets no gradient or is no tensor). As in
  PyTorch, a gradient is the op's own: not yet summed back to a broadcast input's shape nor
  cast to its dtype (the engine does that between nodes).
- A node whose saved values a backward freed, or whose saved input was changed in place since,
  raises as backward would.

Shape: ``grad_output`` has the op's output shape; gradient ``i`` the broadcast shape the op
computed with (input ``i``'s shape where nothing was broadcast).
"""

from __future__ import annotations

from typing import Any

from glassgrad.autograd import recorded
from glassgrad.autograd.engine_checks import _check_versions
from glassgrad.autograd.function import _FREED, Node, _freed_message, _tensor_cls
from glassgrad.autograd.grad_mode import is_grad_enabled
from glassgrad.autograd.node_views import shown_edges
from glassgrad.autograd.sparse_grad import dense_each
from glassgrad.errors import GraphError

__all__ = ["call_node"]


def call_node(node: Node, grads: tuple) -> Any:
    """``node``'s input gradients for ``grads`` (one Tensor, of its output's shape)."""
    name = type(node).__name__
    if len(grads) != 1:
        raise TypeError(f"{name}: expected 1 arguments, got {len(grads)} instead")
    if getattr(node.fn, "hook_outputs", None) is not None:  # a multi-output op's hub (engine_hooked)
        raise NotImplementedError(
            f"{name}: calling the node of an op with several outputs is not supported; "
            "use torch.autograd.grad on its outputs instead"
        )
    (g,) = grads
    tensor = _tensor_cls[0]
    if not isinstance(g, tensor):
        raise TypeError(f"{name}: expected a Tensor gradient, got {type(g).__name__}")
    if node.saved is _FREED:
        raise GraphError(_freed_message(node))
    if node.versions:
        _check_versions(node)
    record = is_grad_enabled()
    if record:
        in_grads = recorded.vjp(node, g)
    else:
        in_grads = node.fn.backward(node, g._data)
    if in_grads.__class__ is not tuple:
        in_grads = (in_grads,)
    if not record:
        in_grads = dense_each(in_grads)
    shown = getattr(node.fn, "shown_inputs", None)
    out = []
    for gi, nxt in zip(in_grads, node.next):
        if gi is None or nxt is None:  # no gradient, or an input that is not a tensor in the graph
            out.append(None)
        else:
            out.append(gi if record else tensor(gi, _wrap=True))
    out = shown_edges(node, tuple(out[:shown]))  # one per next_functions entry
    return out[0] if len(out) == 1 else out
