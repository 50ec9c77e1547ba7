"""Truncated backpropagation through time (TBPTT), re-exported as ``glassgrad.train.tbptt``.

Full BPTT over a sequence of length T keeps every step's activations until the one backward at
the end: memory grows with T, and there is one update per sequence. TBPTT cuts the sequence into
chunks of k steps and, per chunk, runs forward from the state the previous chunk left, backward
and an optimizer step, then *detaches* the state before the next chunk:

- memory is that of k steps, and there are T / k updates per sequence instead of one;
- the state still carries information forward across the whole sequence (the forward pass is
  exact), but gradients flow back at most k steps: a dependency longer than k steps is seen by
  the model's forward pass yet never directly trained. Choose k at least as long as the
  dependencies the model must learn; a k too short is a common reason an LSTM "cannot" learn
  what full BPTT would teach it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from glassgrad.nn.utils import clip_grad_norm_, clip_grad_value_
from glassgrad.tensor import Tensor

__all__ = ["TBPTTResult", "detach_state", "tbptt"]


def detach_state(state: Any) -> Any:
    """The state with every tensor detached (a tensor, or nested tuples/lists of them, or None)."""
    if state is None:
        return None
    if isinstance(state, Tensor):
        return state.detach()
    if isinstance(state, tuple | list):
        return type(state)(detach_state(s) for s in state)
    raise TypeError(f"detach_state: expected a Tensor, tuple, list or None, got {type(state).__name__}")


@dataclass
class TBPTTResult:
    """What one :func:`tbptt` pass did.

    Attributes:
        losses: the loss of each chunk (floats), in order.
        state: the (detached) state after the last chunk, to pass to the next call.
        clipped: how many of the updates had their gradient clipped by ``max_norm``.
        grad_norms: the total gradient norm before clipping, per update (when ``max_norm`` is set).
    """

    losses: list[float] = field(default_factory=list)
    state: Any = None
    clipped: int = 0
    grad_norms: list[float] = field(default_factory=list)


def tbptt(
    model: Callable[[Tensor, Any], tuple[Tensor, Any]],
    inputs: Tensor,
    targets: Tensor,
    loss_fn: Callable[[Tensor, Tensor], Tensor],
    optimizer: Any,
    k: int,
    state: Any = None,
    max_norm: float | None = None,
    clip_value: float | None = None,
    batch_first: bool = False,
) -> TBPTTResult:
    """Train on one long sequence in chunks of ``k`` time steps, carrying the state detached.

    Args:
        model: ``model(chunk, state) -> (output, new_state)`` (an ``nn.LSTM``-like call;
            ``state`` is None for the first chunk unless given).
        inputs, targets: the whole sequence; time is dim 0 (dim 1 with ``batch_first``).
        loss_fn: ``loss_fn(output, target_chunk) -> scalar``.
        optimizer: stepped once per chunk (gradients zeroed before each chunk).
        k: chunk length in time steps (the last chunk may be shorter).
        state: the state to start from (e.g. the ``state`` of a previous result).
        max_norm: clip the global L2 norm of the gradients to this before each step.
        clip_value: clamp every gradient element into ``[-clip_value, clip_value]``.

    Shape:
        inputs ``(T, *)`` (``(N, T, *)`` with batch_first); targets the same along time.

    Returns:
        a :class:`TBPTTResult` (chunk losses, final detached state, number of clipped steps).
    """
    if not isinstance(k, int) or k <= 0:
        raise ValueError(f"tbptt: expected a positive chunk length k, got {k!r}")
    dim = 1 if batch_first else 0
    steps = inputs.shape[dim]
    if targets.shape[dim] != steps:
        raise ValueError(
            f"tbptt: expected inputs and targets of the same length along dim {dim}, got "
            f"{tuple(inputs.shape)} and {tuple(targets.shape)}"
        )
    params = [p for group in optimizer.param_groups for p in group["params"]]
    result = TBPTTResult(state=detach_state(state))
    for start in range(0, steps, k):
        window = slice(start, min(start + k, steps))
        key = (slice(None), window) if batch_first else (window,)
        optimizer.zero_grad()
        output, new_state = model(inputs[key], result.state)
        loss = loss_fn(output, targets[key])
        loss.backward()
        if max_norm is not None:
            total = float(clip_grad_norm_(params, max_norm))
            result.grad_norms.append(total)
            result.clipped += total > max_norm
        if clip_value is not None:
            clip_grad_value_(params, clip_value)
        optimizer.step()
        result.losses.append(float(loss.item()))
        result.state = detach_state(new_state)  # the cut: no gradient flows into the previous chunk
    return result
