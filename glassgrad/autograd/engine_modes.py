"""The autograd engine's switches that PyTorch exposes in ``torch.autograd``:
``set_multithreading_enabled(mode)`` / ``is_multithreading_enabled()`` (per thread, on by default:
whether backward may run on device worker threads; glassgrad's backward always runs on the calling
thread, so the flag is kept and read back only), ``is_view_replay_enabled()`` (False, PyTorch's
default: glassgrad never replays views) and ``kineto_available()`` (False: the profiler is
glassgrad's own, not Kineto).

``set_multithreading_enabled`` switches at construction, as PyTorch's, so it works as a plain call,
a context manager (the previous mode comes back on exit) and a decorator.

``_is_checkpoint_valid()``: False inside a backward pass that runs for given inputs only
(``autograd.grad``, ``backward(inputs=...)``), which reentrant checkpointing cannot serve, True
otherwise (outside backward too); fairseq's ``checkpoint_activations`` asks it in its backward.

``in_pass_mode(create_graph, fn, *args)``: ``fn(*args)`` in the grad mode PyTorch's engine runs a
backward pass in, ``create_graph``: the hooks (tensor, node, module backward, post-accumulate)
record nothing in a first-order pass, so a post-accumulate hook may update its parameter in place
without ``no_grad()`` and what a hook computes from a parameter holds no graph (a create_graph
pass records its gradients, ``recorded.py``, whatever mode backward was called in).

Also glassgrad's own: ``keeps_graph()``, whether ``autograd.grad`` must keep the graph because a
``vmap`` loop (``func/vmap.py``) still has batch items to run (``vmap_loops.not_last``).
"""

from __future__ import annotations

import threading
from typing import Any, Callable

from glassgrad.autograd.grad_mode import state as _grad_state
from glassgrad.autograd.mode_decorator import decorate

__all__ = [
    "set_multithreading_enabled",
    "is_multithreading_enabled",
    "is_view_replay_enabled",
    "kineto_available",
]


class _Flags(threading.local):
    multithreading = True


_flags = _Flags()


class _VmapLoops(threading.local):
    not_last = 0  # vmap loops (in this thread) now running an item that is not their last
    running = 0  # vmap loops (in this thread) now running their function (autograd.Function reads it)

    def __init__(self) -> None:
        # per running loop, outermost first: {id(version counter of a mapped input): how many
        # elements its item i starts past item 0}; ``as_strided`` reads it (ops/as_strided.py),
        # batch norm which tensors are items of a mapped input (``refuse_unbatched_update``)
        self.shifts: list[dict] = []


vmap_loops = _VmapLoops()


def refuse_unbatched_update(op: str, *running: Any) -> None:
    """PyTorch's refusal of a training-mode batch norm inside ``vmap`` whose running statistics
    are not items of a mapped input: the loop would update them once per batch item (and batch
    norm's write moves no version, so vmap's check of captured tensors cannot see it)."""
    if not vmap_loops.shifts:
        return
    mapped = vmap_loops.shifts[-1]
    if any(r is not None and id(r._vc) not in mapped for r in running):
        raise RuntimeError(
            f"{op}: Batch norm got a batched tensor as input while the running_mean or running_var, "
            "which will be updated in place, were not batched.\nIf you are using a module and do not "
            "need eval mode, please set `track_running_stats` to be False. If you are using a prebuilt "
            "module and do not need eval mode, please see the functorch website for resources on how "
            "to patch your module to work with vmap (glassgrad: torch.func.replace_all_batch_norm_modules_)"
        )


class _Passes(threading.local):
    """The backward passes running in this thread, innermost last. Per thread, as PyTorch's
    engine keeps its graph tasks: a pass another thread starts meanwhile neither renumbers this
    one's (split's pieces share a gradient buffer per pass id) nor stands in for it."""

    def __init__(self) -> None:
        self.all_leaves: list = []  # per backward pass running now, innermost last: not input-bound
        self.id = 0  # the id of the innermost pass running now, or of the last one (0: none yet)
        self.running: list = []  # ``[starts, need, reach]`` per pass (``multi_grad.py``)
        # the id of the latest pass with ``inputs``: a reentrant checkpoint refuses to run its
        # nested backward inside one, as PyTorch's (``engine_hooked.refuse_reentrant_checkpoint``)
        self.pruned = None


passes = _Passes()


def _is_checkpoint_valid() -> bool:
    """``torch.autograd._is_checkpoint_valid`` (see the module)."""
    return passes.all_leaves[-1] if passes.all_leaves else True


def keeps_graph() -> bool:
    """Whether ``autograd.grad`` must keep the graph: a vmap loop has batch items still to run
    (PyTorch runs that backward once for the whole batch)."""
    return vmap_loops.not_last > 0


def is_multithreading_enabled() -> bool:
    """Whether multithreaded backward is enabled in this thread (see the module)."""
    return _flags.multithreading


def is_view_replay_enabled() -> bool:
    """Whether autograd replays views (PyTorch's ``_force_original_view_tracking``): never here."""
    return False


def kineto_available() -> bool:
    """Whether PyTorch's Kineto profiler is built in: glassgrad's profiler is its own."""
    return False


class set_multithreading_enabled:  # noqa: N801 (PyTorch's name)
    """Enable or disable multithreaded backward in this thread, at once (see the module)."""

    def __init__(self, mode: bool) -> None:
        self.prev = _flags.multithreading
        _flags.multithreading = bool(mode)
        self.mode = mode

    def __enter__(self) -> None:
        pass

    def __exit__(self, *exc: Any) -> None:
        _flags.multithreading = self.prev

    def clone(self) -> set_multithreading_enabled:
        """A new switch to the same mode (switching now, as construction does)."""
        return self.__class__(self.mode)

    def __call__(self, fn: Callable[..., Any]) -> Callable[..., Any]:
        return decorate(self.clone, fn)


def in_pass_mode(create_graph: bool, fn: Callable, *args: Any) -> Any:
    """``fn(*args)`` with grad mode ``create_graph``, restored after (see the module docstring)."""
    prev = _grad_state.enabled
    _grad_state.enabled = create_graph
    try:
        return fn(*args)
    finally:
        _grad_state.enabled = prev
