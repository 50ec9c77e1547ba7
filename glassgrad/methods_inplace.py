"""The builders of the in-place Tensor methods that ``methods.py`` attaches: ``inplace`` (the
out-of-place op written back through ``Tensor._update``: recorded on non-leaves, refused on leaves
that require grad, as PyTorch), ``compared_inplace`` (``eq_`` ...: recorded with a zero gradient),
``untracked_inplace`` (``logical_and_`` ...: never recorded) and ``view_inplace`` (``t_``,
``unsqueeze_`` ...: the tensor becomes the view). Kept apart so ``methods.py`` stays its table.
"""

from __future__ import annotations

from typing import Any

from glassgrad.autograd import view_rebase
from glassgrad.autograd.grad_mode import state as _grad_state
from glassgrad.memory_overlap import refuse_indexed_overlap
from glassgrad.ops import composite
from glassgrad.ops import stale_views as _stale
from glassgrad.ops import zero_slope as _zs
from glassgrad.ops.blas_number_first import blas_legacy
from glassgrad.tensor import Tensor

__all__ = ["inplace", "inplace_of", "compared_inplace", "untracked_inplace", "view_inplace"]


def inplace(name: str, fn: Any, legacy: int = 0, blas: bool = False) -> Any:
    def method(self: Tensor, *args: Any, **kwargs: Any) -> Tensor:
        # PyTorch's deprecated x.addmm_(beta, [alpha,] a, b): its warning names addmm_
        if blas and len(args) > 2:
            b, a = kwargs.pop("beta", 1), kwargs.pop("alpha", 1)
            _, args, kwargs["beta"], kwargs["alpha"] = blas_legacy(name, self, args, b, a)
        # operands given by keyword (W-MSE's g.baddbmm_(batch1=a, batch2=b), x.lerp_(end=y, weight=w))
        # go to _update with the positional ones: it records the op when only they require grad
        # and checks their overlap with self
        named = [k for k, v in kwargs.items() if isinstance(v, Tensor)] if kwargs else ()
        if legacy:  # PyTorch's deprecated x.addcmul_(value, t1, t2): its warning names addcmul_
            n = legacy - sum(k != "value" for k in named)
            args, kwargs["value"] = composite.number_first(name, args, n, kwargs.get("value"), "value")
        refuse_indexed_overlap(name, self._data, args, kwargs)  # _update checks the positional ones
        if not named:
            return self._update(name, lambda t, *a: fn(t, *a, **kwargs), *args)
        tensors, n = [kwargs.pop(k) for k in named], len(args)
        return self._update(
            name, lambda t, *a: fn(t, *a[:n], **dict(zip(named, a[n:])), **kwargs), *args, *tensors
        )

    method.__name__ = name
    return method


def inplace_of(name: str) -> Any:
    """``x.<name>_(...)``: the method ``x.<name>(...)`` written back in place (looked up at call time)."""
    return inplace(f"{name}_", lambda t, *a, **k: getattr(t, name)(*a, **k))


def compared_inplace(name: str, op: str) -> Any:
    """``x.eq_(other)`` ... (``op``: PyTorch's short name): while x or other requires grad, recorded
    with a zero gradient (``EqBackward1``), as PyTorch's, though ``x.eq(other)`` records nothing."""

    def compared(t: Tensor, other: Any) -> Tensor:
        node = _zs.recorded_comparison(t, other, op)
        return node if node is not None else getattr(t, name)(other)

    return inplace(f"{name}_", compared)


def untracked_inplace(name: str) -> Any:
    """``x.logical_and_(y)`` ...: ops PyTorch gives no derivative and never records. Written in
    place with autograd left out: x keeps its node and requires_grad (its gradient passes through
    as if the op were not there), a leaf that requires grad is not refused, and the version still
    goes up (an op that saved x raises at backward), as PyTorch's."""
    write = inplace_of(name)

    def method(self: Tensor, *args: Any, **kwargs: Any) -> Tensor:
        mode, _grad_state.enabled = _grad_state.enabled, False
        try:
            return write(self, *args, **kwargs)
        finally:
            _grad_state.enabled = mode

    method.__name__ = f"{name}_"
    return method


def view_inplace(name: str, view: Any) -> Any:
    """``x.unsqueeze_(d)``, ``x.t_()`` ...: x itself becomes the view (same memory, new shape).

    As PyTorch: refused on a leaf that requires grad while recording, and on the views a value
    write refuses (``view_rebase.check_view``); on a tensor in the graph, recorded (x takes the
    view's node). The version goes up, as PyTorch's does, so an op that saved
    x raises at backward there as here. ``retain_grad`` stays with the old node: PyTorch's ``x.grad``
    is then the gradient of x before the change (its old shape).
    """

    def method(self: Tensor, *args: Any, **kwargs: Any) -> Tensor:
        recording = _grad_state.enabled and self.requires_grad
        if recording and self._node is None:
            self._check_inplace(name)  # raises: a leaf that requires grad
        if recording and self._vc[1]:  # a split's piece, a view of a leaf: refused, as PyTorch
            _stale.refuse_view_inplace(self, name)
            if view_rebase.live_base(self) is not None:
                # raises, as for a value write: a custom Function's view output (or a view of
                # one), a view made in no_grad mode, a torch.func transform's primal
                view_rebase.check_view(self, name)
        elif not recording and _grad_state.enabled and self._base is not None:
            # raises: a view made in no_grad mode, or before its leaf's requires_grad_()
            _stale.refuse_no_grad_view(self, name)
        shared = self._vc[1]
        # a non-leaf in the graph keeps a node of its new shape, under no_grad too (else backward
        # would hand its old node a gradient of the new shape), as PyTorch regenerates it
        keep = self.requires_grad and self._node is not None
        mode, _grad_state.enabled = _grad_state.enabled, _grad_state.enabled or keep
        try:
            out = view(self, *args, **kwargs)
        finally:
            _grad_state.enabled = mode
        self._data, self._vc[1] = out._data, shared  # the temporary view is gone: nothing new shares it
        self._vc[0] += 1  # the counter shared with the views and detach()
        if keep:
            self._node = out._node
        _stale.changed(self._vc, name)
        return self

    method.__name__ = name
    return method
