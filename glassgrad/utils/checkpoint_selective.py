"""Selective activation checkpointing (``torch.utils.checkpoint.create_selective_checkpoint_contexts``).

In PyTorch a policy picks, op by op, which outputs of a non-reentrant checkpoint are kept at
forward (``MUST_SAVE``/``PREFER_SAVE``) rather than recomputed at backward: it trades memory for
compute, and the recomputed values are those the forward had, so the gradients are the same
whatever the policy. PyTorch asks the policy at each ATen op (through a dispatch mode);
glassgrad has no per-ATen-op dispatch, so it never calls the policy and recomputes every op, as a
policy answering ``PREFER_RECOMPUTE`` throughout would: the same values and gradients, with the
memory and compute of plain checkpointing. Two consequences: a policy's side effects (counters)
do not happen, and an op kept by the policy that draws random numbers is drawn again at the
rerun, which gives the forward's draw only with ``preserve_rng_state=True`` (the default).

>>> import functools
>>> import glassgrad as gg
>>> from glassgrad.utils.checkpoint import checkpoint, create_selective_checkpoint_contexts
>>> x = gg.ones(2, 2, requires_grad=True)
>>> ctx = functools.partial(create_selective_checkpoint_contexts, [gg.ops.aten.mm.default])
>>> checkpoint(lambda t: (t @ t).sin(), x, use_reentrant=False, context_fn=ctx).sum().backward()
>>> x.grad.shape
glassgrad.Size([2, 2])
"""

from __future__ import annotations

import enum
from typing import Any, Callable

__all__ = [
    "CheckpointPolicy",
    "SAC_IGNORED_OPS",
    "SelectiveCheckpointContext",
    "create_selective_checkpoint_contexts",
]

#: Ops PyTorch never caches (``aten.detach``, ``prim.device``, metadata queries): none here,
#: since no op is cached.
SAC_IGNORED_OPS: set = set()


class CheckpointPolicy(enum.Enum):
    """What a selective-checkpoint policy answers for an op (PyTorch's values)."""

    MUST_SAVE = 0
    PREFER_SAVE = 1
    MUST_RECOMPUTE = 2
    PREFER_RECOMPUTE = 3
    MUST_CPU_OFFLOAD = 4
    PREFER_CPU_OFFLOAD = 5


class SelectiveCheckpointContext:
    """What a policy receives first: ``is_recompute`` (always False in PyTorch 2.13, whose
    policy runs at forward only) and ``op_output``."""

    def __init__(self, *, is_recompute: bool, op_output: Any = None) -> None:
        self.is_recompute = is_recompute
        self.op_output = op_output


class _SelectiveMode:
    """One of the two contexts ``create_selective_checkpoint_contexts`` returns (around the
    forward, around the rerun); entering it changes nothing (see the module)."""

    def __init__(self, policy_fn: Callable | None, allow_cache_entry_mutation: bool) -> None:
        self.policy_fn = policy_fn
        self.allow_cache_entry_mutation = allow_cache_entry_mutation

    def __enter__(self) -> _SelectiveMode:
        return self

    def __exit__(self, *exc: Any) -> None:
        return None


def create_selective_checkpoint_contexts(
    policy_fn_or_list: Callable | list, allow_cache_entry_mutation: bool = False
) -> tuple:
    """The ``context_fn`` pair of selective checkpointing: ``policy_fn_or_list`` is a policy
    ``(ctx, op, *args, **kwargs) -> CheckpointPolicy`` or a list of ops to keep (ATen
    overloads: ``glassgrad.ops.aten.mm.default``). Returns (forward context, rerun context). The
    values and gradients are PyTorch's; glassgrad recomputes every op (see the module)."""
    if isinstance(policy_fn_or_list, list):
        for op in policy_fn_or_list:
            if not callable(op):
                raise ValueError(
                    f"Expected op in `op_list` to be an OpOverload but got: {op} of type {type(op)}. "
                )
        ops = list(policy_fn_or_list)

        def policy_fn(ctx: Any, op: Any, *args: Any, **kwargs: Any) -> CheckpointPolicy:
            return CheckpointPolicy.MUST_SAVE if op in ops else CheckpointPolicy.PREFER_RECOMPUTE

    elif callable(policy_fn_or_list):
        policy_fn = policy_fn_or_list
    else:
        raise TypeError("policy_fn_or_list must be either a function or a list of ops.")
    return (
        _SelectiveMode(policy_fn, allow_cache_entry_mutation),
        _SelectiveMode(None, allow_cache_entry_mutation),
    )
