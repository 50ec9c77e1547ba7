"""What each optimizer does with a sparse ``.grad`` (``nn.Embedding(sparse=True)``), as PyTorch's.

``SGD`` and ``Adagrad`` take one: their updates are linear in the gradient, or touch a row only
through its gradient, so running them on the dense gradient (zero in the rows not looked up) gives
PyTorch's numbers; their weight decay would add a dense term to a sparse one and is refused, with
PyTorch's messages. ``SparseAdam`` reads the rows itself (``sparse_adam.py``). Every other
optimizer refuses a sparse gradient, naming itself, as PyTorch's do.
"""

from __future__ import annotations

from typing import Any

__all__ = ["step_input", "zeroed"]

# PyTorch's messages: SGD's weight decay fails inside its add (sparse + dense); Adagrad checks.
_DECAY = {
    "SGD": "add(sparse, dense) is not supported. Use add(dense, sparse) instead.",
    "Adagrad": "weight_decay option is not compatible with sparse gradients",
}


def step_input(opt: Any, p: Any, group: dict) -> Any:
    """What optimizer ``opt``'s update takes for parameter ``p``, whose ``.grad`` is sparse: the
    dense gradient array (SGD, Adagrad), the sparse tensor itself (SparseAdam); else an error."""
    name = type(opt).__name__
    how = getattr(opt, "sparse_grads", None)
    if how is None:
        advice = ", please consider SparseAdam instead" if name in ("Adam", "AdamW") else ""
        raise RuntimeError(f"{'Adam' if advice else name} does not support sparse gradients{advice}")
    if how == "sparse":
        return p.grad
    if group.get("weight_decay", 0) != 0:
        raise RuntimeError(_DECAY.get(name, f"{name}: weight_decay is not compatible with sparse gradients"))
    return p.grad.to_dense()._data


def zeroed(grad: Any) -> Any:
    """``grad`` emptied in place (no entries, its size and dtype kept) and returned:
    ``zero_grad(set_to_none=False)`` of a sparse ``.grad``, as PyTorch's ``zero_()`` of one (whoever
    holds the ``.grad`` sees it)."""
    from glassgrad.tensor import Tensor

    grad._vals = Tensor(grad._vals._data[:0].copy(), _wrap=True)
    grad._ix, grad._coalesced = grad._ix[:, :0].copy(), True
    return grad
