"""How a reverse transform takes its derivatives: recorded, when PyTorch's result would be
differentiable in the caller's graph, else as constants.

PyTorch's ``grad``/``jacrev`` return a derivative that is itself differentiable when the
transform was called with grad mode on and an input, or a tensor ``f`` uses, requires grad: the
case of ``grad(grad(f))`` (the outer transform's inputs require grad inside it), of MAML's
meta-gradient and of a gradient penalty. glassgrad gives that by double backward: the derivative
is taken with ``create_graph=True`` (``autograd/recorded.py``) from inputs that stay linked to the
caller's tensors (views of them, not detached copies). Where an op of ``f`` has no recorded rule,
the derivative falls back to a constant and the transform warns, naming the op.
"""

from __future__ import annotations

from typing import Any, Callable

import numpy as np

from glassgrad.autograd.functional import grad as _autograd_grad
from glassgrad.func._levels import inner_graph, outer_graph, warn_if_outer_graph
from glassgrad.tensor import Tensor
from glassgrad.utils._pytree import tree_flatten

__all__ = ["links", "derivatives", "backward_all"]


def links(args: Any, nums: Any, outer_grad: bool) -> bool:
    """Whether the fresh inputs should stay linked to the caller's: grad mode on at the call and
    a differentiated input requiring grad."""
    if not outer_grad:
        return False
    return any(isinstance(t, Tensor) and t.requires_grad for i in nums for t in tree_flatten(args[i])[0])


def derivatives(
    op: str,
    outs: list,
    seeds_list: list,
    flat: list[Tensor],
    inputs: list,
    outer_grad: bool,
    linked: bool,
    retain: bool,
    force: bool = False,
) -> tuple[list[list], bool]:
    """For each seed set in ``seeds_list`` (one seed array or None per output), the gradients of
    ``outs`` w.r.t. ``flat`` as Tensors; and whether they were recorded.

    Constants come from ``backward_all`` (``retain``: keep the graph), run inside ``inner_graph``
    unless the inputs are linked views. ``force``: record whatever the graph
    (``vjp_fn(create_graph=True)``).
    """
    record = force or (outer_grad and (linked or outer_graph(outs, flat)))
    why = ""
    if record:
        try:
            return [_recorded(outs, seeds, flat) for seeds in seeds_list], True
        except NotImplementedError as e:  # an op of f without a recorded rule: constants, and say so
            why = f", because double backward stops at an op: {e}"
    if linked:  # views of the caller's tensors: a plain first-order grad w.r.t. them
        warn_if_outer_graph(op, inputs, True, outer_grad, why)
        every = lambda t: True  # noqa: E731
        return [
            [_as_tensor(a) for a in backward_all(outs, s, flat, retain, every)] for s in seeds_list
        ], False
    with inner_graph(outs, flat) as (outer, reaches):
        warn_if_outer_graph(op, inputs, outer, outer_grad, why)
        return [
            [_as_tensor(a) for a in backward_all(outs, s, flat, retain, reaches)] for s in seeds_list
        ], False


def backward_all(
    outs: list[Tensor], seeds: list, leaves: list[Tensor], retain: bool, reaches: Callable
) -> list[np.ndarray]:
    """Sum over ``outs`` of seed^T d(out)/d(leaf), one array per leaf (zeros where unreached).

    Run inside :func:`inner_graph`, whose ``reaches`` skips outputs that do not lead to ``leaves``.
    """
    pairs = [(o, s) for o, s in zip(outs, seeds) if o.requires_grad and reaches(o)]
    if not pairs:
        return [np.zeros_like(t._data) for t in leaves]
    grads = _autograd_grad(
        [o for o, _ in pairs], leaves, [s for _, s in pairs], retain_graph=retain, materialize_grads=True
    )
    return [g._data for g in grads]


def _recorded(outs: list, seeds: list, flat: list[Tensor]) -> list:
    pairs = [(o, s) for o, s in zip(outs, seeds) if o.requires_grad]
    if not pairs:
        return [Tensor(np.zeros_like(t._data), _wrap=True) for t in flat]
    grads = _autograd_grad(
        [o for o, _ in pairs],
        flat,
        [
            s
            if s is None or isinstance(s, Tensor)
            else Tensor(np.asarray(s, dtype=o._data.dtype), _wrap=True)
            for o, s in pairs
        ],
        retain_graph=True,
        create_graph=True,
        allow_unused=True,
    )
    return [g if g is not None else Tensor(np.zeros_like(t._data), _wrap=True) for g, t in zip(grads, flat)]


def _as_tensor(a: Any) -> Tensor:
    return a if isinstance(a, Tensor) else Tensor(a, _wrap=True)
