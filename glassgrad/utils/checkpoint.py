"""``glassgrad.utils.checkpoint``: PyTorch's activation checkpointing (``torch.utils.checkpoint``).

Training keeps, for backward, what every op saved: for an MLP block on a ``(N, D)`` batch with a
``(N, 4D)`` hidden layer, about ``N * 4D`` values per activation, for every block of the network.
``checkpoint(block, x)`` keeps only the block's inputs (``x``: ``(N, D)``) and runs the block a
second time during backward to get its activations back, just before they are needed. Memory for
the block's activations drops to that of its inputs; the price is one more forward of the block
(a third more compute when every block is checkpointed): worth it when memory limits the batch or
the depth. ``checkpoint_sequential(model, segments, x)`` checkpoints all but the last of the
``segments`` runs of an ``nn.Sequential``.

Two implementations, chosen by ``use_reentrant`` (``None`` warns, as PyTorch 2.13, and is True):

- ``use_reentrant=True``: one autograd ``Function`` node (``CheckpointFunction``) stands for the
  whole block; its forward runs the block under ``no_grad`` (no graph inside), its backward reruns
  it with grad on from the detached inputs and runs a nested backward through that, which also
  accumulates into the ``.grad`` of the parameters used inside. If no input requires grad there is
  no node, so no gradient reaches those parameters either ("None of the inputs have
  requires_grad=True"), and ``autograd.grad`` cannot see parameters inside (PyTorch refuses it).
- ``use_reentrant=False``: the block runs with grad on, so the graph is the ordinary one, but under
  ``saved_tensors_hooks`` that keep a counter instead of each saved array; the first unpack at
  backward reruns the block (stopping once every value is back, unless ``early_stop=False``) to
  recompute them (``checkpoint_frame.py``). Parameters get gradients whatever the inputs,
  ``autograd.grad`` works, and keyword arguments reach the function. A rerun whose saved values
  differ in number, shape or dtype raises ``CheckpointError`` (``determinism_check="none"`` skips
  the shape/dtype check). ``context_fn`` may be ``create_selective_checkpoint_contexts``
  (``checkpoint_selective.py``: glassgrad recomputes every op whatever the policy).

With ``preserve_rng_state=True`` (the default) the rerun starts from the RNG state the forward
started from, so dropout draws the same mask; the caller's RNG state is restored afterwards.

>>> import glassgrad as gg
>>> from glassgrad.utils.checkpoint import checkpoint
>>> lin = gg.nn.Linear(3, 3)
>>> x = gg.ones(2, 3, requires_grad=True)
>>> y = checkpoint(lambda t: lin(t).tanh(), x, use_reentrant=True)
>>> y.grad_fn
<CheckpointFunctionBackward>
>>> y.sum().backward()
>>> lin.weight.grad.shape, x.grad.shape
(glassgrad.Size([3, 3]), glassgrad.Size([2, 3]))
"""

from __future__ import annotations

import contextlib
import warnings
from typing import Any, Callable, Iterator

from glassgrad import random as _random
from glassgrad.autograd import engine
from glassgrad.autograd.accumulate_hooks import registered as _post_hooks
from glassgrad.autograd.custom import Function
from glassgrad.autograd.engine_hooked import refuse_reentrant_checkpoint
from glassgrad.autograd.function import _tensor_cls
from glassgrad.autograd.grad_mode import enable_grad, no_grad
from glassgrad.autograd.tensor_hook_run import run_tensor_hooks
from glassgrad.errors import ShapeError
from glassgrad.user_frames import user_stacklevel
from glassgrad.utils.checkpoint_devices import (
    DefaultDeviceType,
    _infer_device_type,  # noqa: F401 - PyTorch's private name, imported by its test_utils.py
    get_device_states,
    rng_as_in_forward,
    set_device_states,
)
from glassgrad.utils.checkpoint_frame import (
    CheckpointError,
    GraphExecGroup,
    checkpoint_without_reentrant,
    early_stop_default,
    set_checkpoint_early_stop,
)
from glassgrad.utils.checkpoint_selective import (
    SAC_IGNORED_OPS,
    CheckpointPolicy,
    SelectiveCheckpointContext,
    create_selective_checkpoint_contexts,
)

__all__ = [
    "checkpoint",
    "checkpoint_sequential",
    "CheckpointError",
    "CheckpointFunction",
    "check_backward_validity",
    "detach_variable",
    "get_device_states",
    "set_device_states",
    "noop_context_fn",
    "set_checkpoint_early_stop",
    "DefaultDeviceType",
    "set_checkpoint_debug_enabled",
    "CheckpointPolicy",
    "SelectiveCheckpointContext",
    "create_selective_checkpoint_contexts",
    "SAC_IGNORED_OPS",
    "GraphExecGroup",
]

_REENTRANT_WARNING = (
    "{}: the use_reentrant parameter should be passed explicitly. {} use_reentrant=False is "
    "recommended, but if you need to preserve the current default behavior, you can pass "
    "use_reentrant=True. Refer to docs for more details on the differences between the two variants."
)


def noop_context_fn() -> tuple:
    """The default ``context_fn``: no context around the forward, none around the rerun."""
    return contextlib.nullcontext(), contextlib.nullcontext()


_debug_enabled: list = [None]


@contextlib.contextmanager
def set_checkpoint_debug_enabled(enabled: bool | None) -> Iterator[None]:
    """Within it, ``debug`` of every checkpoint is ``enabled`` (``None``: each call's own);
    glassgrad prints no op trace either way."""
    previous, _debug_enabled[0] = _debug_enabled[0], enabled
    try:
        yield
    finally:
        _debug_enabled[0] = previous


def check_backward_validity(inputs: Any) -> None:
    """Warn, as PyTorch, when no tensor among ``inputs`` requires grad."""
    if not any(x.requires_grad for x in inputs if isinstance(x, _tensor_cls[0])):
        warnings.warn(
            "None of the inputs have requires_grad=True. Gradients will be None", stacklevel=user_stacklevel()
        )


def detach_variable(inputs: tuple) -> tuple:
    """Each tensor detached (sharing memory and version counter), requiring grad as it did; other
    values as they are."""
    if not isinstance(inputs, tuple):
        raise RuntimeError(
            f"Only tuple of tensors is supported. Got Unsupported input type: {type(inputs).__name__}"
        )
    out = []
    for x in inputs:
        if isinstance(x, _tensor_cls[0]):
            d = x.detach()
            d.requires_grad = x.requires_grad
            x = d
        out.append(x)
    return tuple(out)


def _nested_backward(roots: list, leaves_wanted: list) -> list:
    """Backward from ``roots`` (pairs of tensor and seed array) inside an outer backward: the
    parameters reached accumulate into ``.grad`` (hooks included), while the gradients of
    ``leaves_wanted`` (the detached inputs) are returned, not stored. (The nested pass has an id of
    its own, and the outer pass gets its id back after it: ``engine.run_backward``.)"""
    # the detached inputs' hooks (put there by the rerun) run below, on the gradient returned: hidden
    # from the pass, which would otherwise store a hooked leaf's gradient early (when any
    # post-accumulate hook exists) and leave it out of the result
    hooked = [(t, t._hooks) for t in leaves_wanted if t is not None and t._hooks]
    for t, _ in hooked:
        t._hooks = None
    try:
        leaves = engine.run_backward(roots, False, None, bool(_post_hooks))
    finally:
        for t, h in hooked:
            t._hooks = h
    wanted = [None if t is None else leaves.pop(id(t), None) for t in leaves_wanted]
    engine._accumulate_leaves(leaves)
    tensor_cls, out = _tensor_cls[0], []
    for w in wanted:
        if w is None:
            out.append(None)
            continue
        t, g = w
        if t._hooks:  # hooks the rerun put on a detached input run, as on PyTorch's nested leaf
            g = run_tensor_hooks(t._hooks, g)
        out.append(tensor_cls(g.astype(t._data.dtype, copy=False), _wrap=True))
    return out


class CheckpointFunction(Function):
    """The reentrant checkpoint: one node for the whole function (see the module docstring)."""

    @staticmethod
    def forward(ctx: Any, run_function: Callable, preserve_rng_state: bool, *args: Any) -> Any:
        check_backward_validity(args)
        tensor_cls = _tensor_cls[0]
        ctx.run_function = run_function
        ctx.fwd_rng_state = _random.get_rng_state() if preserve_rng_state else None
        ctx.inputs = [None if isinstance(a, tensor_cls) else a for a in args]
        ctx.tensor_indices = [i for i, a in enumerate(args) if isinstance(a, tensor_cls)]
        ctx.save_for_backward(*(args[i] for i in ctx.tensor_indices))
        with no_grad():
            return run_function(*args)

    @staticmethod
    def backward(ctx: Any, *grad_outputs: Any) -> tuple:
        refuse_reentrant_checkpoint()  # under autograd.grad or backward(inputs=...), as PyTorch
        tensor_cls = _tensor_cls[0]
        inputs = list(ctx.inputs)
        for i, t in zip(ctx.tensor_indices, ctx.saved_tensors):
            inputs[i] = t
        with rng_as_in_forward(ctx.fwd_rng_state):
            detached = detach_variable(tuple(inputs))
            for x, needs in zip(detached, ctx.needs_input_grad[2:]):
                if isinstance(x, tensor_cls):  # (a value unpacked by saved-tensor hooks forgets it)
                    x.requires_grad = needs
            with enable_grad():
                outputs = ctx.run_function(*detached)
        if isinstance(outputs, tensor_cls):
            outputs = (outputs,)
        roots = []
        for o, g in zip(outputs, grad_outputs):
            if isinstance(o, tensor_cls) and o.requires_grad and g is not None:
                if tuple(g.shape) != tuple(o.shape):
                    raise ShapeError(
                        f"checkpoint: expected gradient of shape {tuple(o.shape)}, got {tuple(g.shape)}"
                    )
                # a copy: the seed may become a parameter's .grad, which optimizers change in place
                roots.append((o, g._data.astype(o._data.dtype, copy=True)))
        if not roots:
            raise RuntimeError("none of output has requires_grad=True, this checkpoint() is not necessary")
        wanted = [x if isinstance(x, tensor_cls) and x.requires_grad else None for x in detached]
        return (None, None, *_nested_backward(roots, wanted))


def checkpoint(
    function: Callable,
    *args: Any,
    use_reentrant: bool | None = None,
    context_fn: Callable = noop_context_fn,
    determinism_check: str = "default",
    debug: bool = False,
    early_stop: bool = True,
    **kwargs: Any,
) -> Any:
    """``function(*args, **kwargs)``, keeping only its inputs for backward and rerunning it there
    (see the module docstring for the trade-off and the two variants).

    Args:
        function: what to run; its tensor outputs (one, or a tuple) are differentiable.
        use_reentrant: True (one node, nested backward) or False (saved-value hooks); pass it
            explicitly, ``None`` warns and means True, as in PyTorch 2.13.
        context_fn: non-reentrant only: a callable returning two context managers, entered around
            the forward and around the rerun.
        determinism_check: ``"default"`` compares the shapes and dtypes of the rerun's saved
            values with the forward's; ``"none"`` does not.
        debug: accepted (non-reentrant only); glassgrad prints no op trace.
        early_stop: non-reentrant only: stop the rerun once every saved value is back.
        preserve_rng_state: (keyword) rerun from the forward's RNG state; default True.
    """
    use_reentrant = _reentrant_or_warn(
        use_reentrant,
        "torch.utils.checkpoint",
        "Starting in PyTorch 2.9, calling checkpoint without use_reentrant will raise an exception.",
    )
    preserve = kwargs.pop("preserve_rng_state", True)
    if kwargs and use_reentrant:
        raise ValueError("Unexpected keyword arguments: " + ",".join(arg for arg in kwargs))
    if use_reentrant:
        if context_fn is not noop_context_fn or debug is not False:
            raise ValueError("Passing `context_fn` or `debug` is only supported when use_reentrant=False.")
        return CheckpointFunction.apply(function, preserve, *args)
    stop = early_stop and early_stop_default()
    return checkpoint_without_reentrant(function, preserve, context_fn, determinism_check, stop, args, kwargs)


def _reentrant_or_warn(use_reentrant: bool | None, where: str, when: str) -> bool:
    """``use_reentrant`` as given, or True with PyTorch 2.13's warning when it was not passed."""
    if use_reentrant is None:
        # stacklevel 3: the warning points at the caller of checkpoint / checkpoint_sequential
        warnings.warn(_REENTRANT_WARNING.format(where, when), stacklevel=user_stacklevel())
        return True
    return use_reentrant


def checkpoint_sequential(
    functions: Any,
    segments: int,
    input: Any,  # noqa: A002 (PyTorch's name)
    use_reentrant: bool | None = None,
    **kwargs: Any,
) -> Any:
    """Run ``functions`` (an ``nn.Sequential`` or a list of modules or callables) on ``input`` in
    ``segments`` runs of ``len(functions) // segments``; every run but the last is checkpointed.
    Keyword: ``preserve_rng_state`` (default True)."""
    use_reentrant = _reentrant_or_warn(
        use_reentrant,
        "torch.utils.checkpoint.checkpoint_sequential",
        "In version 2.9 we will raise an exception if use_reentrant is not passed.",
    )
    preserve = kwargs.pop("preserve_rng_state", True)
    if kwargs:
        raise ValueError("Unexpected keyword arguments: " + ",".join(arg for arg in kwargs))

    def run(start: int, end: int) -> Callable:
        def forward(x: Any) -> Any:
            for j in range(start, end + 1):
                x = functions[j](x)
            return x

        return forward

    from glassgrad.nn import Sequential

    if isinstance(functions, Sequential):
        functions = list(functions.children())
    size = len(functions) // segments
    end, x = -1, input
    for start in range(0, size * (segments - 1), size):
        end = start + size - 1
        x = checkpoint(run(start, end), x, use_reentrant=use_reentrant, preserve_rng_state=preserve)
    return run(end + 1, len(functions) - 1)(x)
