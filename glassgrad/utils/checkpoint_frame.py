"""The non-reentrant variant of ``glassgrad.utils.checkpoint`` (``use_reentrant=False``).

The checkpointed function runs with grad on, so the graph is the ordinary one, but under
``saved_tensors_hooks`` that keep, for each value an op saves, only its position (and its shape
and dtype). The first unpack at backward reruns the function, from the forward's RNG state, with
the very input tensors of the forward (a hook the function registers on an input then counts
twice, as in PyTorch), stopping once every saved value is back unless ``early_stop=False``.

The inputs are kept as PyTorch keeps them, saved for backward by a no-op ``Function``
(``_NoopSaveInputs``): saved-tensor hooks around the checkpoint (``save_on_cpu``) pack each input
once there and unpack it for every rerun.
"""

from __future__ import annotations

import contextlib
from typing import Any, Callable, Iterator

import numpy as np

from glassgrad import random as _random
from glassgrad.autograd import engine
from glassgrad.autograd.custom import Function
from glassgrad.autograd.function import _tensor_cls
from glassgrad.autograd.grad_mode import enable_grad
from glassgrad.autograd.grad_mode import state as _grad_state
from glassgrad.autograd.graph import saved_tensors_hooks
from glassgrad.errors import GraphError
from glassgrad.utils.checkpoint_devices import rng_as_in_forward

__all__ = [
    "CheckpointError",
    "checkpoint_without_reentrant",
    "early_stop_default",
    "set_checkpoint_early_stop",
]


class CheckpointError(RuntimeError):
    """The rerun of a checkpointed function did not save what its forward saved."""


_early_stop = [True]


def early_stop_default() -> bool:
    """What ``early_stop=True`` means now: False inside ``set_checkpoint_early_stop(False)``."""
    return _early_stop[0]


@contextlib.contextmanager
def set_checkpoint_early_stop(enable: bool) -> Iterator[None]:
    """Within it, non-reentrant checkpoints made with the default ``early_stop`` stop (or not)
    rerunning once every saved value is back."""
    previous, _early_stop[0] = _early_stop[0], bool(enable)
    try:
        yield
    finally:
        _early_stop[0] = previous


class GraphExecGroup:
    """Context manager: the backward calls inside it rerun each non-reentrant checkpoint at most
    once between them (each call must then need other saved values than the others: two that
    need the same one raise ``CheckpointError``). Outside it, every backward pass reruns anew."""

    _current: GraphExecGroup | None = None

    def __enter__(self) -> GraphExecGroup:
        if GraphExecGroup._current is not None:
            raise RuntimeError(
                f"GraphExecGroup contexts cannot be nested. Already inside group {GraphExecGroup._current}"
            )
        GraphExecGroup._current = self
        return self

    def __exit__(self, *exc: Any) -> None:
        GraphExecGroup._current = None

    @classmethod
    def _get_current_group(cls) -> GraphExecGroup | None:
        return cls._current


class _StopRecomputationError(Exception):
    """Raised inside the rerun once every saved value is back (``early_stop``)."""


class _NoopSaveInputs(Function):
    """Saves the checkpoint's tensor inputs for backward and hands its context to the frame; its
    output, an empty tensor, is used by nothing, so its backward never runs."""

    generate_vmap_rule = True  # a checkpoint inside torch.func.vmap runs, as in PyTorch

    @staticmethod
    def forward(frame: _Frame, dummy: Any, *tensors: Any) -> Any:
        return dummy.detach().clone()

    @staticmethod
    def setup_context(ctx: Any, inputs: tuple, output: Any) -> None:
        # (setup_context, not forward(ctx, ...): torch.func's transforms accept only this style)
        ctx.save_for_backward(*inputs[2:])
        inputs[0].saver = ctx

    @staticmethod
    def backward(ctx: Any, *grad_outputs: Any) -> tuple:
        return (None,) * (2 + len(ctx.saved_tensors))


class _Frame:
    """One non-reentrant checkpoint call: what its forward saved (only shape and dtype, in order)
    and how to rerun it to get the values back."""

    def __init__(
        self, fn: Callable, args: tuple, kwargs: dict, rng: dict | None, check: bool, stop: bool
    ) -> None:
        tensor_cls = _tensor_cls[0]
        self.fn, self.kwargs, self.rng = fn, kwargs, rng
        self.check, self.early_stop = check, stop
        self.recompute_context: Any = contextlib.nullcontext()
        self.versions = [(a._vc, a._vc[0], i) for i, a in enumerate(args) if isinstance(a, tensor_cls)]
        # the non-tensor arguments, with holes where the saved tensors go back at each rerun
        self.args = [None if isinstance(a, tensor_cls) else a for a in args]
        self.needs = [args[i].requires_grad for _, _, i in self.versions]
        self.saver: Any = None  # the _NoopSaveInputs context holding the tensor inputs
        dummy = tensor_cls(np.empty((0,)), _wrap=True)
        dummy.requires_grad = True
        _NoopSaveInputs.apply(self, dummy, *(args[i] for _, _, i in self.versions))
        self.metadata: list = []  # (shape, dtype) of each value the forward saved
        self.recomputed: dict = {}  # index -> tensor, filled by a rerun, emptied by the unpacks
        self.rerun_in: int | None = None  # the backward pass the recomputed values belong to

    def pack(self, t: Any) -> int:
        self.metadata.append((tuple(t.shape), t.dtype))
        return len(self.metadata) - 1

    def unpack(self, k: int) -> Any:
        # first unpack of this backward pass (or GraphExecGroup): rerun, as PyTorch does for every
        # pass, never reusing what an earlier pass left unread (a parameter may have changed)
        group = GraphExecGroup._current
        key = engine.pass_id() if group is None else group
        if self.rerun_in is key and group is not None and k not in self.recomputed:
            raise CheckpointError(
                "torch.utils.checkpoint: Unpack is being triggered for a tensor that was already unpacked "
                "once. Performing two backward calls that overlap (i.e. require the same saved activation "
                "in order to compute gradients) is not allowed while under the "
                "torch.utils.checkpoint.GraphExecGroup context."
            )
        if k not in self.recomputed or self.rerun_in != key:
            self.rerun()
            self.rerun_in = key
        return self.recomputed.pop(k)

    def rerun(self) -> None:
        for counter, expected, i in self.versions:
            if counter[0] != expected:
                raise GraphError(
                    f"checkpoint: input {i} was modified in place after the checkpointed forward "
                    f"(version {counter[0]}, expected {expected}); change a clone() instead"
                )
        args = list(self.args)
        for (_, _, i), t, needs in zip(self.versions, self.saver.saved_tensors, self.needs):
            if needs and not t.requires_grad:
                # an input unpacked by outer saved-tensor hooks (an outer checkpoint's among them)
                # comes back without its requires_grad; PyTorch's unpacked SavedVariable keeps it
                t = t.detach()
                t.requires_grad = True
            args[i] = t
        tensor_cls, got, wanted = _tensor_cls[0], [], len(self.metadata)

        def keep(t: Any) -> None:
            got.append(tensor_cls(t._data, _wrap=True))  # the array as saved, no graph, no counter
            if self.early_stop and len(got) == wanted:
                raise _StopRecomputationError

        def refuse(_: Any) -> Any:
            raise CheckpointError("torch.utils.checkpoint: the rerun's own saved values cannot be unpacked")

        # the stop passes through the rerun's context_fn context, as in PyTorch (whose code after
        # a generator context's ``yield`` does not run then)
        with (
            contextlib.suppress(_StopRecomputationError),
            rng_as_in_forward(self.rng),
            self.recompute_context,
            enable_grad(),
            saved_tensors_hooks(keep, refuse),
        ):
            self.fn(*args, **self.kwargs)
        if len(got) < wanted:
            raise CheckpointError(
                f"torch.utils.checkpoint: the rerun of the checkpointed function saved {len(got)} values for "
                f"backward, the forward {wanted}; the function must do the same ops both times"
            )
        if self.check:
            for k, (t, (shape, dtype)) in enumerate(zip(got, self.metadata)):
                if (tuple(t.shape), t.dtype) != (shape, dtype):
                    raise CheckpointError(
                        "torch.utils.checkpoint: Recomputed values for the following tensors have different "
                        f"metadata than during the forward pass.\ntensor at position {k}:\nsaved metadata: "
                        f"{{'shape': {shape}, 'dtype': {dtype}}}\nrecomputed metadata: "
                        f"{{'shape': {tuple(t.shape)}, 'dtype': {t.dtype}}}"
                    )
        self.recomputed = dict(enumerate(got[:wanted]))


def checkpoint_without_reentrant(
    function: Callable,
    preserve: bool,
    context_fn: Callable,
    check: str,
    stop: bool,
    args: tuple,
    kwargs: dict,
) -> Any:
    """``function(*args, **kwargs)`` under the frame's saved-tensor hooks (see the module)."""
    if check not in ("default", "none"):
        raise ValueError(f"determinism_check should be one of ['default', 'none'], but got {check}")
    forward_context, recompute_context = context_fn()
    if not _grad_state.enabled:  # nothing is saved without grad mode: a plain call
        with forward_context:
            return function(*args, **kwargs)
    rng = _random.get_rng_state() if preserve else None
    frame = _Frame(function, args, kwargs, rng, check == "default", stop)
    frame.recompute_context = recompute_context
    with forward_context, saved_tensors_hooks(frame.pack, frame.unpack):
        return function(*args, **kwargs)
