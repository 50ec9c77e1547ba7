"""``autograd.grad(..., is_grads_batched=True)``: one ``grad`` per row of the batched seeds."""

from __future__ import annotations

from typing import Callable

__all__ = ["batched_grad"]


def batched_grad(
    grad: Callable, outputs, inputs, grad_outputs, retain_graph, create_graph, allow_unused, materialize_grads
):
    """``grad(..., is_grads_batched=True)``: one ``grad`` per row of the batched ``grad_outputs``,
    stacked (an input without a gradient stays None)."""
    from glassgrad.factories_like import zeros_like
    from glassgrad.ops.joining import stack
    from glassgrad.tensor import Tensor

    seeds = [grad_outputs] if isinstance(grad_outputs, Tensor) else list(grad_outputs or ())
    sizes = {g.shape[0] for g in seeds if isinstance(g, Tensor) and g.ndim}
    if not seeds or len(sizes) != 1 or any(not isinstance(g, Tensor) or not g.ndim for g in seeds):
        raise ValueError(
            "grad: expected grad_outputs to be tensors with one common leading batch dim when "
            f"is_grads_batched=True, got {[tuple(g.shape) if isinstance(g, Tensor) else g for g in seeds]}"
        )
    if materialize_grads and allow_unused is False:
        raise ValueError(
            "grad: expected allow_unused to be True or None with materialize_grads=True, got False"
        )
    size = sizes.pop()
    if size == 0:  # PyTorch raises IndexError here too
        raise IndexError(
            "grad: expected a batch of at least one grad_output with is_grads_batched=True, got 0"
        )
    keep = create_graph if retain_graph is None else bool(retain_graph)
    unused = True if materialize_grads else allow_unused
    rows = [
        grad(outputs, inputs, [g[b] for g in seeds], keep or b < size - 1, create_graph, True,
             unused, False, False)
        for b in range(size)
    ]  # fmt: skip
    flat_inputs = [inputs] if isinstance(inputs, Tensor) else list(inputs)
    # an unused input's materialized gradient is zeros of the input's own shape, not batched (PyTorch's)
    return tuple(
        (zeros_like(x).requires_grad_(create_graph) if materialize_grads else None)
        if r[0] is None
        else stack(list(r))
        for x, r in zip(flat_inputs, zip(*rows, strict=True), strict=True)
    )
