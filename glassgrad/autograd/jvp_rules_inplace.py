"""Forward-mode rules of the in-place methods on dual tensors (``add_``, ``mul_``, ``copy_``,
``fill_``, ``zero_``, ``x[key] = v`` ...), as PyTorch: the tensor changed in place takes the
tangent of the value it now holds.

Every in-place method of ``Tensor`` goes through one of three funnels (``tensor_inplace.py``):
``_update`` (``self = fn(self, *args)``, arithmetic and activations), ``_set`` (a value written
in: ``copy_``, ``fill_``, random fills) and ``__setitem__``. While a dual level is active,
``install`` wraps them so that the new tangent follows the new value; ``remove`` puts them back
when the level exits, so ops outside a level pay nothing. The tangent itself is computed by the
out-of-place op's rule (``_update``), or is the source's tangent (``copy_``), or zeros (a
constant written in).
"""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["install", "remove"]


def install() -> None:
    """Wrap the funnels (called when a dual level is entered)."""
    from glassgrad.autograd import forward_ad as _fw
    from glassgrad.tensor import Tensor

    _fw._state.originals = {k: Tensor.__dict__[k] for k in ("_update", "_set", "__setitem__", "detach_")}
    orig_update, orig_set, orig_setitem, orig_detach_ = (
        _fw._state.originals[k] for k in ("_update", "_set", "__setitem__", "detach_")
    )

    def taken(self: Any, own: Any, new: Any) -> None:
        """self's tangent is now ``new`` (was ``own``): set it; a tensor without one that takes
        one in place while sharing memory leaves its views/base unable to follow (they raise)."""
        _fw.set_tangent(self, new)
        if own is None and new is not None:
            _fw.written_in_place(self)

    def _update(self: Any, op: str, fn: Any, *args: Any) -> Any:
        """``self = fn(self, *args)``: self's new tangent is the tangent of fn's result."""
        if _fw._state.paused:
            return orig_update(self, op, fn, *args)
        own = _fw.get_tangent(self)
        results = []

        def traced(t: Any, *a: Any) -> Any:
            if own is not None:  # t: self (its version just bumped by the funnel) or an alias
                _fw.set_tangent(t, own)
            out = fn(t, *a)
            results.append(out)
            return out

        orig_update(self, op, traced, *args)
        new = _fw.get_tangent(results[-1]) if results else None
        if new is None and own is not None:
            new = Tensor(np.zeros_like(own._data), _wrap=True)  # tangent of a constant: zeros
        taken(self, own, new)
        return self

    def _set(self: Any, op: str, value: Any) -> Any:
        """copy_/fill_/zero_/random fills: the new tangent is value's (broadcast), else zeros."""
        if _fw._state.paused:
            return orig_set(self, op, value)
        own = _fw.get_tangent(self)
        src = _fw.get_tangent(value) if isinstance(value, Tensor) else None
        orig_set(self, op, value)
        if src is not None:
            new = np.array(np.broadcast_to(src._data, self._data.shape))
        elif own is not None:
            new = np.zeros_like(own._data)
        else:
            new = None
        taken(self, own, None if new is None else Tensor(new, _wrap=True))
        return self

    def setitem(self: Any, key: Any, value: Any) -> None:
        """x[key] = v: the tangent gets t_x[key] = t_v (0 where v has none)."""
        if _fw._state.paused:
            return orig_setitem(self, key, value)
        own = _own_before_augmented(_fw, self, key, value) if value.__class__ is Tensor else None
        own = _fw.get_tangent(self) if own is None else own
        src = _fw.get_tangent(value) if isinstance(value, Tensor) else None
        orig_setitem(self, key, value)
        if own is None and src is None:
            return None
        from glassgrad.autograd.grad_mode import no_grad

        base = np.array(own._data) if own is not None else np.zeros(self._data.shape, self._data.dtype)
        new = Tensor(base, _wrap=True)
        with _fw.paused(), no_grad():
            orig_setitem(new, key, src if src is not None else 0.0)
        taken(self, own, new)
        return None

    def detach_(self: Any) -> Any:
        """Cut from the graph in place: as PyTorch, the tensor loses its tangent too."""
        _fw.set_tangent(self, None)
        return orig_detach_(self)

    Tensor._update, Tensor._set, Tensor.__setitem__, Tensor.detach_ = _update, _set, setitem, detach_


def _own_before_augmented(fw: Any, x: Any, key: Any, value: Any) -> Any:
    """x's tangent for Python's ``x[key] op= v`` (``x.__setitem__(key, value)``, ``value`` the view
    x[key] just changed in place by ``op=``), else None. That change left x's recorded tangent
    stale at ``key`` only, and this write overwrites exactly those elements with value and its
    tangent: the recorded tangent is right everywhere else. Only when nothing else wrote into
    x's memory since (one version step, taken by value's own update)."""
    if value._vc is not x._vc:
        return None
    entry, ventry = fw._tangents.get(id(x)), fw._tangents.get(id(value))
    if entry is None or ventry is None or entry[0]() is not x or ventry[0]() is not value:
        return None
    if entry[2] is not x._vc or x._vc[0] != entry[3] + 1 or ventry[3] != x._vc[0]:
        return None
    try:
        view = x._data[key]  # basic indexing (a view of x[key] exists): a view here too
    except (IndexError, TypeError, ValueError):
        return None
    v = value._data
    if not isinstance(view, np.ndarray) or view.shape != v.shape or view.strides != v.strides:
        return None
    if view.__array_interface__["data"][0] != v.__array_interface__["data"][0]:
        return None
    return entry[1]


def remove() -> None:
    """Put the funnels back (called when the level exits)."""
    from glassgrad.autograd import forward_ad as _fw
    from glassgrad.tensor import Tensor

    for k, v in _fw._state.originals.items():
        setattr(Tensor, k, v)
    _fw._state.originals = {}
