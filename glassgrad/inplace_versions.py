"""The version counters of a recorded in-place op (``tensor_inplace._update``): what the op
computes from, the versions its nodes save, and the counter the result carries on, so that
PyTorch's "modified by an inplace operation" check holds where it holds there."""

from __future__ import annotations

from typing import Callable

from glassgrad.autograd import forward_ad as _fw
from glassgrad.autograd.function import version_capture
from glassgrad.tensor import Tensor

__all__ = ["alias_of", "capturing", "carry_version", "self_operand"]


def alias_of(t: Tensor) -> Tensor:
    """A second Tensor for ``t``'s array, node and version counter: what a recorded in-place op
    computes from, so that ``t`` can take the result's array while what was saved keeps the old."""
    second = Tensor(t._data, _wrap=True)
    second._node, second.requires_grad, second._vc = t._node, t.requires_grad, t._vc
    return second


def capturing(fn: Callable[..., Tensor], self: Tensor, args: tuple) -> list:
    """``fn(self, *args)`` with the ``versions`` lists of the nodes it makes collected
    (``autograd.function.version_capture``); returns those lists, then the result, last."""
    version_capture.append([])
    try:
        out = fn(self, *args)
    finally:
        made = version_capture.pop()
        if version_capture:  # an in-place op inside another's fn: the outer one sees these too
            version_capture[-1].extend(made)
    made.append(out)
    return made


def self_operand(fn: Callable[..., Tensor], self: Tensor, args: tuple) -> list:
    """``self.op_(self)`` (``x.mul_(x)``), as PyTorch: the operand is saved at self's version
    before the write, so an op that saves it raises at backward; self's own old values (PyTorch's
    ``original_self``) stay valid. Undoes ``_update``'s early bump for the call, then redoes it."""
    me = alias_of(self)
    me._vc = [self._vc[0] - 1, self._vc[1]]  # self's old values under a counter nobody bumps
    self._vc[0] -= 1
    try:
        made = capturing(fn, me, args)
    finally:
        self._vc[0] += 1
    return made


def carry_version(out: Tensor, self: Tensor, args: tuple, made: list) -> None:
    """Set the result's fresh counter to self's version (already counting this change) and move
    every version the op's nodes saved against that counter by as much, so checks still hold."""
    counter, version = out._vc, self._vc[0]
    if counter is self._vc or any(isinstance(a, Tensor) and a._vc is counter for a in args):
        return  # not a fresh counter (the result shares an operand's memory): leave it be
    delta = version - counter[0]
    if not delta:
        return
    for versions in made:
        for i, entry in enumerate(versions):
            if entry[0] is counter:
                versions[i] = (counter, entry[1] + delta, *entry[2:])
    for entry in _fw._tangents.values():  # forward AD's tangents record the version they hold at
        if entry[2] is counter:
            entry[3] += delta
    counter[0] = version
