"""The engine's checks before a node's backward runs and before a gradient reaches a leaf: a
saved array changed in place since forward, a leaf whose shape changed since the graph was
recorded; and, for ``Function.apply``, an input that was cut from its graph by hand. Each raises
instead of giving a wrong gradient."""

from __future__ import annotations

from typing import Any

from glassgrad.autograd.function import Node
from glassgrad.errors import DTypeError, GraphError, ShapeError, size_mismatch

__all__ = ["_check_versions", "_reshaped_leaf", "cut_non_leaf", "op_error", "no_grad_view_leaf"]


def _check_versions(node: Node) -> None:
    versions = node.versions
    if versions.__class__ is not list:  # saved-tensor hooks packed the saved arrays (graph.py)
        versions.restore(node)
        return
    for counter, expected, which, shape, _ in versions:
        if counter[0] != expected:
            what = (
                f"its output of shape {tuple(shape)}"
                if which < 0
                else f"input {which} of shape {tuple(shape)}"
            )
            raise GraphError(
                f"{node.fn.name}: {what}, saved for backward, was modified in place after the op ran "
                f"(version {counter[0]}, expected {expected}; a tensor and its views share one version); "
                "change a clone() instead"
            )


def _reshaped_leaf(t, g) -> None:
    """A leaf whose shape changed after the graph was recorded (an in-place shape method or
    ``.data = `` under no_grad): adding into its ``.grad`` would broadcast silently."""
    old = "" if t.grad is None else f" and its .grad has shape {tuple(t.grad._data.shape)}"
    raise GraphError(
        f"backward: expected a gradient of the leaf's shape {tuple(t._data.shape)}, got {tuple(g.shape)}"
        f"{old}: the leaf's shape changed after the graph was recorded"
    )


def cut_non_leaf(op: str, i: int) -> GraphError:
    """PyTorch refuses ``y.requires_grad = False`` on a computed tensor; here the assignment is a
    plain attribute (a checked property would cost every read), so the op that would silently cut
    the graph refuses instead of dropping the gradients behind it."""
    return GraphError(
        f"{op}: input {i} was computed from tensors that require grad, but its requires_grad was "
        "set to False by hand (PyTorch refuses that on a non-leaf, and the gradients behind it would "
        "be lost); use .detach() for a tensor cut from the graph"
    )


def op_error(cls: Any, arrays: list, e: Exception) -> Exception:
    """The error to raise for ``e`` from op ``cls``'s forward: NumPy's ValueError/IndexError as a
    ``ShapeError`` and its TypeError (a refused dtype: bool - bool, -bool ...) as a ``DTypeError``,
    both naming the op and its inputs; ``e`` itself when it already is one of ours."""
    if isinstance(e, ShapeError | DTypeError):
        return e
    if isinstance(e, TypeError):
        return DTypeError(f"{cls.name}: expected dtypes the op supports, got {_describe(arrays)} ({e})")
    sizes = size_mismatch([a.shape for a in arrays if hasattr(a, "shape")]) if "broadcast" in str(e) else ""
    return ShapeError(f"{cls.name}: {_describe(arrays)} cannot be combined ({e}){sizes}")


def _describe(arrays: list) -> str:
    shapes = [getattr(a, "shape", None) for a in arrays]
    return ", ".join(repr(a) if s is None else f"{tuple(s)} {a.dtype}" for a, s in zip(arrays, shapes))


def no_grad_view_leaf(t: Any) -> bool:
    """Whether leaf ``t`` is a view made in no_grad mode of a tensor that requires grad, or before
    that tensor's ``requires_grad_()`` (``early_views.py``). PyTorch's
    such view reads ``requires_grad=True`` (as here: dust3r counts ``not p.requires_grad`` over the
    rows of a Parameter inside no_grad), and a backward through it fills neither the view's
    ``.grad`` nor the base's, while the other leaves get theirs: a target cut from a parameter
    under no_grad acts as a constant. The engine drops its gradient the same way. The view's own
    ``requires_grad_()`` (``_own_grad``) makes it a leaf of its own, whose ``.grad`` is filled."""
    from glassgrad.autograd.early_views import Early  # (a cycle at load: via function.py)
    from glassgrad.autograd.view_rebase import Marked, live_base

    base = live_base(t)
    ref = None if base is None or base._views is None else base._views.get(id(t))
    return (
        (ref.__class__ is Marked or ref.__class__ is Early)
        and ref() is t
        and base.requires_grad
        and "_own_grad" not in t.__dict__
    )
