"""Forward-mode AD with PyTorch's API (``torch.autograd.forward_ad``): dual tensors and JVPs.

A *dual tensor* pairs a primal value x with a tangent t (the direction v of a Jacobian-vector
product). Inside a ``dual_level``, every op whose inputs carry tangents also computes its
output's tangent, t_z = J t, by the op's forward-mode rule (``autograd/jvp_rules*.py``), eagerly,
alongside the forward pass. Leaving the level drops every tangent.

>>> import glassgrad as gg
>>> import glassgrad.autograd.forward_ad as fwAD
>>> x = gg.tensor([1.0, 2.0])
>>> with fwAD.dual_level():
...     y = fwAD.make_dual(x, gg.tensor([1.0, 0.0])) ** 2
...     fwAD.unpack_dual(y).tangent  # d(x^2) along (1, 0) = 2 x * (1, 0)
tensor([2., 0.])

Where tangents live: a side table ``id(tensor) -> (weakref, tangent, version)`` here, not a slot
on ``Tensor``. Tensor's hot path is untouched, and nothing is installed until a level is entered:
``enter_dual_level`` appends one callable to ``function.observers.forward`` (called after every
op) and wraps the three in-place funnels of ``Tensor`` and ``detach_`` (``jvp_rules_inplace``);
``exit_dual_level`` removes them and clears the table. With no level, ops pay nothing new.

Differences from PyTorch: one level at a time (PyTorch refuses nesting too); a tangent is kept
in its own dtype by ``make_dual`` and every op's output tangent is cast to the output's dtype; an
in-place change that does not go through those funnels (an in-place shape method such as
``unsqueeze_``, or a change through a view of a dual tensor) makes the next read of the old
tangent raise instead of following the change; and a tensor without a tangent whose view or base
took one in place (``x[0].copy_(dual)``) raises when read, where PyTorch gives it the tangent
(Python's ``x[key] op= v`` on a dual x is followed: ``jvp_rules_inplace``). Tangents are
constants: where PyTorch's would be differentiable (the primal requires grad, or a tangent given
to ``make_dual`` does), ``unpack_dual`` returns one whose backward raises (``torch.func.jvp``
records that graph instead).
"""

from __future__ import annotations

import contextlib
import threading
import weakref
from collections import namedtuple
from typing import Any

import numpy as np

from glassgrad.autograd import forward_over_reverse, jvp_rules_inplace
from glassgrad.autograd.function import observers
from glassgrad.autograd.grad_mode import is_grad_enabled

__all__ = [
    "dual_level",
    "enter_dual_level",
    "exit_dual_level",
    "make_dual",
    "unpack_dual",
    "UnpackedDualTensor",
]

#: What ``unpack_dual`` returns: ``primal`` (a view of the tensor without its tangent) and
#: ``tangent`` (a Tensor, or None when the tensor has none at this level).
UnpackedDualTensor = namedtuple("UnpackedDualTensor", ["primal", "tangent"])


class _State:
    def __init__(self) -> None:
        self.level: int | None = None  # the active level, None outside any dual_level
        self.originals: dict = {}  # the Tensor in-place funnels replaced while a level is active
        self._local = threading.local()

    @property
    def paused(self) -> int:
        """> 0 while tangents must not flow (a user Function's forward, make_dual's view): per
        thread, so that one thread's pause does not drop another thread's tangents."""
        return getattr(self._local, "n", 0)

    @paused.setter
    def paused(self, n: int) -> None:
        self._local.n = n


_state = _State()
#: id(tensor) -> [weakref to the tensor, tangent Tensor, the tensor's version counter, its version]
_tangents: dict[int, list] = {}
#: id(version counter) -> the counter, for the memory a tensor without a tangent took one into in
#: place while sharing it (a view, or the base of views): every other tensor on that memory that
#: has no tangent of its own would silently read as constant, so reading it raises instead.
_written: dict[int, list] = {}
#: The tangents given to ``make_dual`` at this level that require grad (grad mode on): PyTorch's
#: tangents computed from them are differentiable, glassgrad's are not (see ``unpack_dual``).
_grad_tangents: list = []
#: id -> the tangent ``make_dual`` stored (kept alive, so the id is not reused): unpacked as is.
_given: dict[int, Any] = {}


def _tensor_cls() -> type:
    from glassgrad.tensor import Tensor

    return Tensor


# --- the side table -------------------------------------------------------------------------


class UnfollowedChangeError(RuntimeError):
    """An in-place change forward AD cannot follow (see the module's docstring); ``torch.func``'s
    jvp and jacfwd catch it and run their function recorded instead (``func/forward_graph.py``)."""


def _unfollowed(x: Any) -> None:
    """``x`` has no tangent of its own; raise if a tensor sharing its memory took one in place."""
    vc = getattr(x, "_vc", None)
    if vc is not None and id(vc) in _written:
        raise UnfollowedChangeError(
            f"forward_ad: a tensor of shape {tuple(x.shape)} without a tangent shares memory with a "
            "view or base that was given one in place (x[0].copy_(dual), base[0] = dual); forward AD "
            "cannot follow the tangent into it (PyTorch does). Write into the tensor itself "
            "(x[0] = dual), or build the result out of place (cat, stack)"
        )


def written_in_place(x: Any) -> None:
    """``x`` took a tangent in place; if its memory is shared, its views and base cannot follow."""
    if x._vc[1]:
        _written[id(x._vc)] = x._vc


#: How many dual levels were ever entered: a reverse transform compares it around its function, to
#: refuse one entered inside (glassgrad.func._levels).
_entered = [0]


def levels_entered() -> int:
    """How many dual levels have been entered in this process so far."""
    return _entered[0]


def is_dual(x: Any) -> bool:
    """Whether ``x`` carries a tangent at the active level (False outside a level; O(1)): for an
    op's fast path that computes outside ``Primitive.apply``, which must take the op's path then."""
    entry = _tangents.get(id(x))
    return entry is not None and entry[0]() is x


def tracked(x: Any) -> bool:
    """Whether an op must run through ``Primitive.apply`` for ``x``: it requires grad, or carries a
    tangent. Every fast path that skips ``apply`` for inputs that do not require grad asks this
    instead, so that a dual input never loses its tangent there (one truth test outside a level)."""
    return x.requires_grad or (bool(_tangents) and is_dual(x))


def get_tangent(x: Any) -> Any:
    """The tangent Tensor of ``x`` at the active level, or None (also for non-tensors)."""
    entry = _tangents.get(id(x))
    if entry is None or entry[0]() is not x:
        if _written:
            _unfollowed(x)
        return None
    if x._vc is not entry[2] or x._vc[0] != entry[3]:
        raise UnfollowedChangeError(
            f"forward_ad: a dual tensor of shape {tuple(x.shape)} was changed in place in a way forward "
            "AD cannot follow (an in-place shape method, or a write through a view or base of it); "
            "its tangent would be stale. Change it before make_dual, or out of place"
        )
    return entry[1]


def set_tangent(x: Any, tangent: Any) -> None:
    """Give ``x`` the tangent Tensor ``tangent`` (None removes it) at the active level."""
    key = id(x)
    if tangent is None:
        _tangents.pop(key, None)
        return

    def forget(ref: Any) -> None:  # x died: drop its entry, unless the id was reused since
        entry = _tangents.get(key)
        if entry is not None and entry[0] is ref:
            del _tangents[key]

    _tangents[key] = [weakref.ref(x, forget), tangent, x._vc, x._vc[0]]


def is_active() -> bool:
    """Whether a dual level is active and tangents flow (not paused)."""
    return _state.level is not None and not _state.paused


@contextlib.contextmanager
def paused():
    """Run ops without propagating tangents (a user Function's forward runs so, as in PyTorch)."""
    _state.paused += 1
    try:
        yield
    finally:
        _state.paused -= 1


# --- the observer: one call after every op while a level is active ---------------------------


def _observe(fn: Any, node: Any, inputs: tuple, result: Any, attrs: dict) -> None:
    """Compute the output's tangent from the inputs' tangents with the op's rule."""
    if _state.paused:
        return
    tangents = None
    for i, x in enumerate(inputs):
        entry = _tangents.get(id(x))
        if entry is not None and entry[0]() is x:
            if tangents is None:
                tangents = [None] * len(inputs)
            tangents[i] = get_tangent(x)
        elif _written:
            _unfollowed(x)
    if tangents is None:
        return  # no dual input: nothing to do (the common case, one dict lookup per input)
    out = result._data
    if out.dtype.kind not in "fc":
        return  # comparisons, argmax, integer casts: not differentiable, no tangent (as PyTorch)
    from glassgrad.autograd.jvp_rules import RULES

    rule = RULES.get(fn.name)
    if rule is None:
        raise NotImplementedError(
            f"forward_ad: no forward-mode rule for op '{fn.name}' (called with a dual tensor); "
            "add one in glassgrad/autograd/jvp_rules*.py, or compute this part outside the dual_level"
        )
    arrays = [x._data if hasattr(x, "_data") else x for x in inputs]
    t_out = rule([None if t is None else t._data for t in tangents], arrays, out, attrs)
    if t_out is None:
        if node is not None:  # a create_graph backward inside this level reads them (forward_over_reverse)
            forward_over_reverse.note(node, tangents, None)
        return
    t_out = np.asarray(t_out)
    if t_out.shape != out.shape:  # a rule may return a tangent that broadcasts to the output
        t_out = np.broadcast_to(t_out, out.shape)
    # the output's dtype: a float64 tangent must not upcast a float32 computation (house rule)
    t_out = np.array(t_out, dtype=out.dtype, copy=t_out.dtype != out.dtype or not t_out.flags.writeable)
    t_out = _tensor_cls()(t_out, _wrap=True)
    set_tangent(result, t_out)
    if node is not None:
        forward_over_reverse.note(node, tangents, t_out)


# --- levels ----------------------------------------------------------------------------------


def enter_dual_level() -> int:
    """Start a dual level (PyTorch's function) and return it; prefer ``with dual_level():``.

    Raises:
        RuntimeError: a level is already active (nested forward AD is not supported, as in PyTorch).
    """
    if _state.level is not None:
        raise RuntimeError(
            "forward_ad: nested forward mode AD is not supported (a dual level is already active)"
        )
    _state.level = 0
    _entered[0] += 1
    observers.forward.append(_observe)
    jvp_rules_inplace.install()
    from glassgrad.autograd import custom
    from glassgrad.autograd.forward_ad_custom import custom_apply

    custom.forward_ad_apply[0] = custom_apply
    return 0


def exit_dual_level(*, level: int | None = None) -> None:
    """End the active dual level; every tangent made inside it is dropped."""
    if _state.level is None:
        raise RuntimeError("forward_ad: exit_dual_level called with no active dual level")
    if level is not None and level != _state.level:
        raise RuntimeError(f"forward_ad: expected level {_state.level} (the active one), got {level}")
    _state.level = None
    observers.forward.remove(_observe)
    jvp_rules_inplace.remove()
    from glassgrad.autograd import custom

    custom.forward_ad_apply[0] = None
    _tangents.clear()
    _written.clear()
    _grad_tangents.clear()
    _given.clear()
    forward_over_reverse.clear()


class dual_level(contextlib.ContextDecorator):  # noqa: N801 - PyTorch's name
    """Context manager (or decorator) for one dual level: ``with fwAD.dual_level(): ...``.

    Tangents made inside are dropped on exit, so an output reused later carries none.
    """

    def __enter__(self) -> int:
        return enter_dual_level()

    def __exit__(self, *exc: Any) -> None:
        exit_dual_level()


def __getattr__(name: str) -> Any:
    """``_current_level``: PyTorch's module global, the active level or -1 with none (test
    teardowns loop ``while fwAD._current_level >= 0: fwAD.exit_dual_level()``)."""
    if name == "_current_level":
        return -1 if _state.level is None else _state.level
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def _check_level(level: int | None, what: str) -> None:
    if _state.level is None:
        raise RuntimeError(
            f"forward_ad.{what}: no dual level exists; enter one first (with fwAD.dual_level(): ...)"
        )
    if level is not None and level != _state.level:
        raise RuntimeError(f"forward_ad.{what}: invalid level {level}; the active level is {_state.level}")


# --- the public API --------------------------------------------------------------------------


def make_dual(tensor: Any, tangent: Any, *, level: int | None = None) -> Any:
    """A dual tensor: a view of ``tensor`` carrying ``tangent`` as its forward gradient.

    The tangent is used as is when its layout (strides) matches the primal's, else copied into
    the primal's layout, as in PyTorch. Backward still flows through the view to ``tensor``.

    Shape:
        tensor and tangent: the same shape (any); output: that shape.

    Raises:
        RuntimeError: no active level, or a tangent of another shape.
        ValueError: a primal or tangent that is not floating point.
    """
    tensor_cls = _tensor_cls()
    _check_level(level, "make_dual")
    if not isinstance(tensor, tensor_cls) or not isinstance(tangent, tensor_cls):
        raise TypeError(
            f"make_dual: expected Tensors, got {type(tensor).__name__} and {type(tangent).__name__}"
        )
    # Real only: the rules are written for real inputs (abs's sign(a) t, the VJP-built ones assume
    # J t = J^T t), so a complex tangent would come out silently wrong; PyTorch takes complex too.
    if tensor._data.dtype.kind != "f":
        raise ValueError(f"make_dual: expected primal to be floating point (real), got {tensor.dtype}")
    if tangent._data.dtype.kind != "f":
        raise ValueError(f"make_dual: expected tangent to be floating point (real), got {tangent.dtype}")
    if tuple(tangent.shape) != tuple(tensor.shape):
        raise RuntimeError(
            f"make_dual: expected a tangent of the primal's shape {tuple(tensor.shape)}, "
            f"got {tuple(tangent.shape)}"
        )
    if tangent.requires_grad and is_grad_enabled():
        _grad_tangents.append(tangent)
    p, t = tensor._data, tangent._data
    if _elem_strides(p) != _elem_strides(t):  # another layout: copy into the primal's
        laid = np.empty_like(p, dtype=t.dtype)
        laid[...] = t
        tangent = tensor_cls(laid, _wrap=True)
    with paused():
        dual = tensor.view_as(tensor)  # a view: shares memory and version, backward flows to tensor
    set_tangent(dual, tangent)
    _given[id(tangent)] = tangent
    return dual


def unpack_dual(tensor: Any, *, level: int | None = None) -> UnpackedDualTensor:
    """``(primal, tangent)`` of ``tensor``: its value as a view without a tangent, and its tangent
    (None when it has none, or outside any level).

    Where PyTorch's tangent is computed and differentiable (grad mode on, and ``tensor`` requires
    grad or a tangent given to ``make_dual`` does), glassgrad's rules have computed a constant: it
    comes back requiring grad, as PyTorch's, through a node whose backward raises, so that
    reverse mode through it (``t.sum().backward()``) refuses instead of silently dropping the
    terms PyTorch keeps. ``torch.func.jvp`` records them (by double backward).
    """
    if _state.level is None or (level is not None and level != _state.level):
        return UnpackedDualTensor(tensor, None)
    tangent = get_tangent(tensor)
    if tangent is None:
        return UnpackedDualTensor(tensor, None)
    with paused():
        primal = tensor.view_as(tensor)
        if is_grad_enabled() and (tensor.requires_grad or _grad_tangents) and id(tangent) not in _given:
            tangent = _unrecorded(tangent, tensor)
    return UnpackedDualTensor(primal, tangent)


def _unrecorded(tangent: Any, tensor: Any) -> Any:
    from glassgrad.autograd.recorded import delayed_error

    return delayed_error(
        tangent._data,
        ([tensor] if tensor.requires_grad else []) + _grad_tangents,
        f"forward_ad: backward through the tangent of a tensor of shape {tuple(tensor.shape)}: "
        "glassgrad's forward-mode tangents are constants (its rules record no graph), so the "
        "terms through the primal's graph or a tangent that requires grad would be dropped. Use "
        "torch.func.jvp (recorded there), or detach the tangent where its gradient is not wanted",
    )


def _elem_strides(a: Any) -> tuple:
    return tuple(s // a.itemsize for s in a.strides)
