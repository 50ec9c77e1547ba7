"""A user Function's outputs that share memory with its inputs, as PyTorch treats them.

Two cases, both PyTorch's (``torch/csrc/autograd/custom_function.cpp``):

- an input that forward changed in place and declared with ``ctx.mark_dirty`` is returned
  rebased onto the Function's node. When that input is a view (``v = a[1:]``), the change wrote
  into its base's memory, so the base takes a ``CopySlices`` node whose gradient inside ``v``'s
  region goes through the Function's backward, and every other live view of the base is rebased,
  as after any recorded in-place change of a view (``view_rebase.py``); when it is a base with
  live views, those views are rebased. PyTorch refuses the same inputs an in-place op on a view
  refuses: a view of a leaf that requires grad, a piece of split/chunk/unbind, a view made in
  no_grad mode.
- an input returned as is (not marked dirty) comes back as a new tensor that is a view of the
  input made inside a custom Function: PyTorch refuses to change it (or a view of it) in place
  while recording, and refuses its use once its memory was changed in place, as for the pieces of
  split/chunk/unbind (``ops/stale_views.py``).
"""

from __future__ import annotations

from typing import Any

from glassgrad.autograd.function import _tensor_cls
from glassgrad.autograd.grad_mode import no_grad
from glassgrad.autograd.hooks import move_retain_grad
from glassgrad.autograd.view_rebase import (
    _grad_edge,
    _rebase_views,
    check_view,
    copy_slices,
    live_base,
    mark_multi,
    share_version,
)
from glassgrad.errors import GraphError

__all__ = [
    "refuse_dirty",
    "refuse_saved_as_is",
    "adopt",
    "dirty_changed",
    "no_grad_alias",
    "returned_input",
    "refuse_transform",
]


def refuse_saved_as_is(name: str, fctx: Any, args: tuple, result: Any) -> None:
    """PyTorch's refusal, for a Function with ``setup_context``, of an input returned as is (not
    marked dirty, not marked non-differentiable) that is also saved for backward: the output it
    returns is a new view of that input, so the saved tensor would not be the output backward
    gets (the old ``forward(ctx, ...)`` style may do it)."""
    outs = result if isinstance(result, tuple) else (result,)
    saved = {id(t) for t in fctx._saved if t is not None}
    for o in outs:
        if id(o) in saved and id(o) not in fctx._dirty and id(o) not in fctx._non_diff:
            if any(o is a for a in args) and o._data.dtype.kind in "fc":
                raise GraphError(
                    f"{name}: An input that has been returned as-is as output is being saved for "
                    "backward. This is not supported if you override setup_context. You should return "
                    "and save a view of the input instead, e.g. with x.view_as(x) or setup ctx inside "
                    "the forward function itself."
                )


def refuse_transform(name: str, styled: bool, vmap_unruled: bool) -> None:
    """PyTorch's refusals of Function ``name`` applied inside a ``torch.func`` transform (glassgrad's
    transforms would run it, but the program would not run on PyTorch): one without
    ``setup_context``, and inside ``vmap`` one with neither a ``vmap`` staticmethod nor
    ``generate_vmap_rule = True`` (``vmap_unruled``)."""
    docs = "For more details, please see https://pytorch.org/docs/main/notes/extending.func.html"
    if not styled:
        raise GraphError(
            "In order to use an autograd.Function with functorch transforms (vmap, grad, jvp, jacrev, "
            f"...), it must override the setup_context staticmethod. {docs}"
        )
    if vmap_unruled:
        raise GraphError(
            f"You tried to vmap over {name}, but it does not have vmap support. Please override "
            f"and implement the vmap staticmethod or set generate_vmap_rule=True. {docs}"
        )


def refuse_dirty(name: str, dirty: set, args: tuple, n_outputs: int) -> None:
    """PyTorch's refusals of an input marked dirty while recording: a leaf that requires grad, the
    views an in-place op may not change (a view of such a leaf, a piece of split/chunk/unbind, a
    view made in no_grad mode), and any view when forward returns several outputs."""
    if not dirty:  # (the usual call: nothing marked dirty, no import, no loop)
        return
    from glassgrad.ops import stale_views  # ops import the autograd package: not at load time

    for x in args:
        if id(x) not in dirty:
            continue
        if x.requires_grad and x._node is None:
            raise GraphError(
                f"{name}: forward changed in place (mark_dirty) a leaf tensor that requires grad, of "
                f"shape {tuple(x.shape)}; pass a clone(), as PyTorch asks"
            )
        if x._vc[1] and stale_views.is_multi_view(x):
            stale_views.refuse_view_inplace(x, f"{name} (mark_dirty)")
        if live_base(x) is not None:
            check_view(x, f"{name} (mark_dirty)")
            if n_outputs > 1:
                raise GraphError(
                    f"{name}: forward changed in place (mark_dirty) an input that is a view, of shape "
                    f"{tuple(x.shape)}, and returned {n_outputs} outputs; expected one output (PyTorch "
                    "refuses this too): pass a clone() of the view, or split the Function in two"
                )


def dirty_changed(name: str, dirty: set, args: tuple) -> None:
    """After forward changed the dirty inputs' memory: the pieces of split/chunk/unbind sharing it
    go stale (their later use raises), as after any in-place change."""
    if not dirty:
        return
    from glassgrad.ops import stale_views

    for x in args:
        if id(x) in dirty:
            stale_views.changed(x._vc, name)


def adopt(original: Any, recorded: Any, inputs: list, dirty: set) -> Any:
    """The tensor forward returned, now carrying the recorded node (as PyTorch returns it): a dirty
    input rebased onto that node (with its base and views), an input returned as is replaced by
    ``recorded``, a view of it made inside the Function; any other output takes the node."""
    if any(original is x for x in inputs):
        if id(original) not in dirty:
            _as_function_view(original, recorded)
            return recorded
        _rebase_dirty(original, recorded)
        return original
    original._node = recorded._node
    original.requires_grad = recorded.requires_grad
    return original


def no_grad_alias(o: Any, args: tuple, dirty: set) -> Any:
    """An output that gets no gradient (marked non-differentiable, or no node recorded: grad mode
    off, no input requiring grad), as PyTorch returns it when it is an input returned as is: a
    detached alias of an input that requires grad (the same object would carry the input's
    history, and a gradient through the output would reach the input), a view of any other input
    not marked dirty, the input itself when it is dirty. Any other output is returned unchanged."""
    if not any(o is a for a in args) or not isinstance(o, _tensor_cls[0]):
        return o
    if o.requires_grad:
        return o.detach()
    if id(o) in dirty:
        return o
    with no_grad():
        return o.view_as(o)


def returned_input(o: Any, args: tuple) -> Any:
    """The input that output ``o`` is, or is the alias of (``no_grad_alias``'s, or the whole-input
    view ``adopt`` makes); ``o`` itself otherwise."""
    for a in args:
        if a is o:
            return a
        if isinstance(o, _tensor_cls[0]) and isinstance(a, _tensor_cls[0]) and _same_memory(o._data, a._data):
            return a
    return o


def _same_memory(p: Any, q: Any) -> bool:
    """Whether arrays ``p`` and ``q`` are one array's memory, laid out alike (an alias, a whole view)."""
    if p is q:
        return True
    if p.shape != q.shape or p.strides != q.strides or p.dtype != q.dtype:
        return False
    return p.__array_interface__["data"][0] == q.__array_interface__["data"][0]


def _as_function_view(x: Any, view: Any) -> None:
    """``view`` (sharing ``x``'s memory) becomes a view of ``x`` made in a custom Function."""
    from glassgrad.ops import stale_views

    if view._base is None:  # an output of several (it hangs from the hub, not from x)
        share_version(view, (x,), [x._data])
    if view._base is not None:
        mark_multi((view,))  # a recorded in-place change of it, or of a view of it, is refused
    if view.requires_grad:
        stale_views.register((view,))  # its use after its memory changed in place raises


def _rebase_dirty(t: Any, recorded: Any) -> None:
    """``t``'s memory was changed by forward; the change is ``recorded``'s node (module docstring)."""
    t_old = t._node
    root = live_base(t)
    if root is None:
        t._node, t.requires_grad = recorded._node, recorded.requires_grad
        move_retain_grad(t_old, t)
        if t._views:
            _rebase_views(t, t, t._vc)
        return
    copy_slices(root, t, _grad_edge(root), recorded)
    move_retain_grad(t_old, t)
    _rebase_views(root, t, t._vc)
