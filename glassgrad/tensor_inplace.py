"""In-place updates of a ``Tensor``, attached to the class when ``tensor.py`` finishes loading.

``_set`` writes a value into the array (``copy_``, ``fill_``, random fills); ``_update`` runs the
out-of-place op and puts its result in place (``add_``, ``+=``, ``clamp_``), recorded in the graph
on a non-leaf as PyTorch does, refused where a wrong gradient could follow. Kept apart from
``tensor.py`` so that the class file holds storage, metadata, conversion and autograd only.
"""

from __future__ import annotations

from sys import getrefcount
from typing import Any, Callable

import numpy as np

from glassgrad import dtypes
from glassgrad import memory_overlap as _mo
from glassgrad.autograd import view_rebase
from glassgrad.autograd.grad_mode import state as _grad_state
from glassgrad.autograd.graph import active as _saved_hooks_active
from glassgrad.autograd.hooks import move_retain_grad
from glassgrad.backend import array_module, laid_out_like, quietly
from glassgrad.errors import DTypeError, GraphError, ShapeError
from glassgrad.half_rounding import half_source
from glassgrad.inplace_versions import alias_of, capturing, carry_version, self_operand
from glassgrad.memory_overlap import refuse_partial_overlap, writable_alias
from glassgrad.meta_array import MetaArray, no_data
from glassgrad.operand_errors import refuse_sequence
from glassgrad.ops import clamp, compare, elementwise, forms, indexing, setitem, stale_views
from glassgrad.ops.composite import number_first
from glassgrad.ops.elementwise import _CATEGORY  # PyTorch's categories: bool < integer < floating
from glassgrad.ops.overwrite import overwrite
from glassgrad.random import check_floating, get_generator, normal_values, uniform_values
from glassgrad.random_fills import c_number, check_std
from glassgrad.tensor import Tensor, attach
from glassgrad.tensor_operators import _DECLINED, _decline

__all__: list[str] = []
#: The writes PyTorch lets through memory that several places share (expand's views): one number
_ONE_VALUE = frozenset({"fill_", "zero_"})


def _refs(t: Any) -> int:
    a = t._data
    return getrefcount(a)


class _Probe:
    __slots__ = ("_data",)


_probe = _Probe()
_probe._data = np.empty(1)
#: The reference count of an array held by one attribute alone, as read in ``_held_elsewhere``
#: (measured, not assumed: it depends on the interpreter's calling convention).
_SOLE = _refs(_probe)
del _probe


def _held_elsewhere(t: Tensor) -> bool:
    """Whether anything but ``t`` may hold ``t``'s memory: another array object, a Tensor sharing
    it (a view, its base, a detach()), a saved array, the caller's NumPy array. A tensor marked
    shared (``_vc[1]``) whose sharers are all gone (the base a composite cut its output from, as
    conv1d, instance_norm, embedding do) can then take a new array like any other: nobody is left
    to see the old one. Conservative: an owner that is not a plain array (a strided view's buffer,
    shared memory, a meta array) counts as held, and so does a read-only view (expand, unfold:
    elements that share memory, which PyTorch refuses to write)."""
    a = t._data
    if a.__class__ is not np.ndarray or not a.flags.writeable or getrefcount(a) > _SOLE:
        return True
    b = a.base
    if b is None:
        return False
    return b.__class__ is not np.ndarray or b.base is not None or getrefcount(b) > _SOLE


def _inplace_operator(dunder: str, op: Any) -> Any:
    """``t += x`` and its kin: ``op`` written into ``t``. An operand PyTorch declines (a list, a
    tuple, an ndarray, or one the op cannot take) gives ``NotImplemented``, so that Python tries
    ``t = t + x`` and then the other side's reflected method, or raises "unsupported operand"."""

    def operator(self: Tensor, other: Any) -> Tensor:
        if isinstance(other, _DECLINED):
            return NotImplemented
        try:
            return self._update(dunder, op, other)
        except TypeError:
            return _decline(other, self, dunder)

    operator.__name__ = operator.__qualname__ = dunder
    return operator


class _InPlace:
    def _check_inplace(self, op: str, target: Any = None) -> None:
        if self._base is not None and _grad_state.enabled:  # (first: such a view requires grad too)
            stale_views.refuse_no_grad_view(self, op)  # raises: made in no_grad mode, base needs grad
        if self.requires_grad and _grad_state.enabled:
            kind = (
                "a leaf tensor that requires grad" if self._node is None else "a tensor recorded in the graph"
            )
            raise GraphError(
                f"{op}: in-place change of {kind} (shape {self.shape}) would corrupt the gradient; "
                "do it inside glassgrad.no_grad(), or change a clone() instead"
            )
        self._refuse_read_only(op, target)
        self._vc[0] += 1  # the counter shared with views and detach()
        stale_views.changed(self._vc, op)

    def _refuse_read_only(self, op: str, target: Any = None) -> None:
        data = self._data if target is None else target
        if not data.flags.writeable and data.__class__ is not MetaArray:
            if _mo.reopen_if_distinct(data):
                return  # strides that only seemed to meet (as_strided's): written as PyTorch writes
            if _mo.overlaps(data.shape, data.strides):
                raise ShapeError(
                    f"{op}: expected a writable tensor, got a read-only view of shape {self.shape} whose "
                    "elements share memory (from expand/broadcast_to/unfold/as_strided): unsupported "
                    "operation: more than one element of the written-to tensor refers to a single memory "
                    "location. Please clone() the tensor before performing the operation."
                )
            raise ShapeError(
                f"{op}: expected a writable tensor, got a read-only view of shape {self.shape} (from "
                "from_numpy/as_tensor of a read-only NumPy array, which PyTorch writes into after a "
                "warning); clone() it first"
            )

    def _set(self, op: str, value: Any) -> Tensor:
        if _grad_state.enabled and (
            (self._node is not None and self.requires_grad)
            or (isinstance(value, Tensor) and value.requires_grad)
        ):
            # over a recorded non-leaf (y = x.clone(); y.zero_()), or from a tensor in the graph
            # (buf.copy_(w)): recorded as an Overwrite, which gives y's old values zeros with no
            # graph behind them (PyTorch's FillBackward/CopyBackwards); y's saved arrays are still checked
            if not isinstance(value, Tensor):
                return self._update(op, lambda t: overwrite(t, value, op))
            if (value._data.dtype.kind == "c") != (self._data.dtype.kind == "c"):
                # complex into real or back: cast first, as PyTorch (its warning)
                value = value.to(self.dtype)
            return self._update(op, lambda t, v: overwrite(t, v, op), value)
        if isinstance(value, Tensor):  # (the recorded paths above check it in _update)
            refuse_partial_overlap(op, self._data, value._data)
        target = self._data
        if (
            op in _ONE_VALUE
            and not target.flags.writeable
            and not (
                isinstance(value, Tensor)
                and any(s == 0 < n - 1 for s, n in zip(target.strides, target.shape))
            )
        ):
            # expand's or unfold's view: each place gets the one number, so PyTorch writes the
            # shared memory; a 0-dim tensor value is refused over a zero stride, as PyTorch's check
            alias = writable_alias(target)
            target = target if alias is None else alias
        self._check_inplace(op, target)
        xp = array_module(target)
        value = value._data if isinstance(value, Tensor) else value
        if value.__class__ is MetaArray and target.__class__ is not MetaArray:
            raise no_data(op)  # a CPU tensor cannot take a meta tensor's (missing) values
        try:  # quietly: a value past the dtype's range (1e30 into float16) is cast without
            # NumPy's warning, as PyTorch's copy_ casts
            quietly(
                target.__setitem__, Ellipsis, xp.broadcast_to(half_source(value, target.dtype), target.shape)
            )
        except ValueError:
            raise ShapeError(
                f"{op}: expected a value broadcastable to {self.shape}, got shape {np.shape(value)}"
            ) from None
        return self

    def _update(self, op: str, fn: Callable[..., Tensor], *args: Any) -> Tensor:
        """``self = fn(self, *args)`` in place, as PyTorch's in-place arithmetic: the result is
        computed by the out-of-place op, must keep self's shape and must not need a dtype of a
        higher kind (an integer tensor cannot hold a true division or a float sum).

        While recording, an in-place op on a non-leaf (``out += identity`` in a residual block,
        ``x.relu_()``) is recorded: self takes the new node and the new array. When another holder
        still sees self's memory (a view, its base, a ``detach()``: ``_held_elsewhere``), the result
        is written into it instead and the graphs of the base and of its views are rebased, as
        PyTorch's CopySlices (``autograd/view_rebase.py``). Refused, as PyTorch: a leaf that requires
        grad or a view of one, a piece of split/chunk/unbind, a view made in no_grad mode.
        """
        if op != "__setitem__":  # setitem checks x[key], not x (ops/setitem.py)
            for a in args:
                if isinstance(a, Tensor):
                    refuse_partial_overlap(op, self._data, a._data)
        recording = _grad_state.enabled and (
            self.requires_grad or any(isinstance(a, Tensor) and a.requires_grad for a in args)
        )
        complete = made = None
        if recording:
            if self.requires_grad and self._node is None:
                self._check_inplace(op)  # raises: a leaf that requires grad
            if self._vc[1] and stale_views.is_multi_view(self):
                stale_views.refuse_view_inplace(self, op)  # raises: a piece of split/chunk/unbind
            if view_rebase.live_base(self) is not None:
                view_rebase.check_view(self, op)  # raises: a view of a leaf, or made in no_grad mode
            if self._base is not None or (self._vc[1] and _held_elsewhere(self)):
                # Another tensor sees this memory (its base, a view, a detach()): the result is
                # written into it and their graphs are rebased, as PyTorch (autograd/view_rebase.py)
                self._refuse_read_only(op)
                if self._data.__class__ is not np.ndarray:
                    raise GraphError(
                        f"{op}: in-place change, while recording, of a meta tensor of shape {self.shape} "
                        "that shares its (missing) memory with another tensor; change a clone()"
                    )
                out, complete = view_rebase.rebase(self, op, fn, args)
            else:
                # As PyTorch, the change makes self's old values stale for every op that saved
                # them (z = y * y; y.add_(1); z.backward() raises), though the swap below keeps
                # them intact: the same program must not compute here and raise there.
                self._vc[0] += 1
                # self is about to take the result's array; with saved-tensor hooks installed, a
                # pack_hook may keep the Tensor it is given, so it gets an alias that keeps self's
                # old values (PyTorch hands it a copy of them); no hooks: the op saves the array itself
                if _saved_hooks_active[0]:
                    out = fn(alias_of(self), *args)
                elif any(a is self for a in args):
                    made = self_operand(fn, self, args)
                    out = made.pop()
                else:
                    made = capturing(fn, self, args)
                    out = made.pop()
        else:
            out = fn(Tensor(self._data, _wrap=True), *args)
        arr = out._data
        if arr.dtype != self._data.dtype and _CATEGORY[arr.dtype.kind] > _CATEGORY[self._data.dtype.kind]:
            # PyTorch's canCast: only a float into an integer or a number into a bool is refused
            # (PyTorch's wording, which programs and tests match on)
            raise DTypeError(
                f"{op}: result type {dtypes.from_np_dtype(arr.dtype)} can't be cast to the desired "
                f"output type {self.dtype}"
            )
        if arr.shape != self._data.shape:
            raise ShapeError(f"{op}: expected a result of the tensor's shape {self.shape}, got {arr.shape}")
        if complete is not None:
            complete()
            stale_views.changed(self._vc, op)
            return self
        if recording:
            # No other tensor shares self's memory, so self can take the result's array instead of
            # being overwritten: arrays saved for backward (self's old values) stay valid.
            # (a float32 result into a float16 tensor: cast quietly, past its range to inf, as PyTorch)
            dt = self._data.dtype  # (float64 into float16 through float32, as PyTorch)
            if arr.strides != self._data.strides:  # self's layout kept: PyTorch writes into its memory
                arr = laid_out_like(arr, self._data)
            self._data = arr if arr.dtype == dt else quietly(half_source(arr, dt).astype, dt)
            old_node = self._node
            self._node, self.requires_grad = out._node, out.requires_grad
            move_retain_grad(old_node, self)
            # ... and takes the result's version counter too: the node may have saved that array
            # (exp_, sigmoid_ ...), so a later in-place change of self must be seen at backward.
            # The counter goes on from self's version (PyTorch's one counter per tensor: y._version
            # reads 1 after y.add_(1)), with what the new nodes saved against it moved alike.
            if made is not None:
                carry_version(out, self, args, made)
            self._vc = out._vc
            return self
        if op in _mo.EXPANDED_WRITES and (alias := _mo.expanded_alias(self._data)) is not None:
            self._check_inplace(op, alias)  # expand's view: PyTorch writes the shared memory, after a warning
            return _mo.write_changed(op, alias, self._data, arr) or self
        self._check_inplace(op)
        quietly(self._data.__setitem__, Ellipsis, half_source(arr, self._data.dtype))  # (cast as above)
        return self

    def copy_(self, src: Any, non_blocking: bool = False) -> Tensor:
        if src is None or isinstance(src, str | bytes):  # NumPy would write None as NaN
            raise TypeError(f"copy_: expected a tensor as src, got {type(src).__name__} {src!r}")
        refuse_sequence("copy_", "other", src)
        return self._set("copy_", src)  # (non_blocking: every copy here is synchronous)

    def fill_(self, value: Any) -> Tensor:
        if isinstance(value, Tensor) and value.ndim != 0:
            raise ShapeError(f"fill_: expected a number or a 0-dim value tensor, got shape {value.shape}")
        return self._set("fill_", dtypes.scalar_into("fill_", value, self._data.dtype))

    def zero_(self) -> Tensor:
        return self._set("zero_", 0)

    def normal_(self, mean: float = 0.0, std: float = 1.0, generator: Any = None) -> Tensor:
        check_floating("normal_", self._data.dtype)
        check_std("normal", std)
        return self._set(  # (complex: both parts, as PyTorch)
            "normal_",
            0.0
            if self.is_meta
            else normal_values(get_generator(generator), mean, std, self.shape, self._data.dtype),
        )

    def uniform_(self, a: float = 0.0, b: float = 1.0, generator: Any = None, **named: Any) -> Tensor:
        # PyTorch's names are from/to (``uniform_(**{"from": 0.1, "to": 2.0})``: from is a keyword)
        a, b = named.pop("from", a), named.pop("to", b)
        if named:
            raise TypeError(f"uniform_() got an unexpected keyword argument {next(iter(named))!r}")
        check_floating("uniform_", self._data.dtype)
        if a > b:
            raise RuntimeError(
                f"uniform_ expects to return a [from, to) range, but found from={c_number(a)} > to={c_number(b)}"
            )
        return self._set(  # (complex: both parts, as PyTorch)
            "uniform_",
            0.0
            if self.is_meta
            else uniform_values(get_generator(generator), a, b, self.shape, self._data.dtype),
        )

    def bernoulli_(self, p: float = 0.5, generator: Any = None) -> Tensor:
        check_floating("bernoulli_", self._data.dtype, "fiub")
        if not self.is_meta:
            forms.check_probabilities("bernoulli_", p)
        if isinstance(p, Tensor):  # a tensor of probabilities expands to self, as PyTorch's
            p = p.detach().expand(self.shape)._data
        return self._set("bernoulli_", 0 if self.is_meta else get_generator(generator).random(self.shape) < p)

    def add_(self, other: Any, *legacy: Any, alpha: Any = None) -> Tensor:
        (other,), alpha = number_first("add_", (other, *legacy), 1, alpha, "alpha")  # also add_(-lr, g)
        if getattr(other, "is_sparse", False):  # dense.add_(sparse): its dense form (same shape)
            other = other.dense_operand(self, "add_")
        return self._update("add_", lambda t, o: Tensor.add(t, o, alpha=alpha), other)

    def sub_(self, other: Any, *legacy: Any, alpha: Any = None) -> Tensor:
        (other,), alpha = number_first("sub_", (other, *legacy), 1, alpha, "alpha")  # also sub_(lr, g)
        if getattr(other, "is_sparse", False):
            other = other.dense_operand(self, "sub_")
        return self._update("sub_", lambda t, o: Tensor.sub(t, o, alpha=alpha), other)

    def mul_(self, other: Any) -> Tensor:
        return self._update("mul_", elementwise.mul, other)

    def div_(self, other: Any, *, rounding_mode: str | None = None) -> Tensor:
        if rounding_mode is None:
            return self._update("div_", elementwise.div, other)
        return self._update("div_", lambda a, b: forms.div(a, b, rounding_mode=rounding_mode), other)

    def pow_(self, exponent: Any) -> Tensor:
        return self._update("pow_", elementwise.pow, exponent)

    def clamp_(self, min: Any = None, max: Any = None) -> Tensor:  # noqa: A002 - PyTorch's names
        return self._update("clamp_", clamp.clamp, min, max)

    clip_ = clamp_

    def masked_fill_(self, mask: Any, value: Any) -> Tensor:
        return self._update("masked_fill_", indexing.masked_fill, mask, value)

    __iadd__ = _inplace_operator("__iadd__", elementwise.add)
    __isub__ = _inplace_operator("__isub__", elementwise.sub)
    __imul__ = _inplace_operator("__imul__", elementwise.mul)
    __itruediv__ = _inplace_operator("__itruediv__", elementwise.div)
    __idiv__ = __itruediv__  # Python 2's name, which PyTorch keeps (as ``__div__``/``__rdiv__``)
    __ipow__ = _inplace_operator("__ipow__", elementwise.pow)
    __ifloordiv__ = _inplace_operator("__ifloordiv__", compare.floor_divide)
    __imod__ = _inplace_operator("__imod__", compare.remainder)
    __iand__ = _inplace_operator("__iand__", compare.bitwise_and)
    __ior__ = _inplace_operator("__ior__", compare.bitwise_or)
    __ixor__ = _inplace_operator("__ixor__", compare.bitwise_xor)

    def __setitem__(self, key: Any, value: Any) -> None:
        setitem.setitem(self, key, value)


attach(_InPlace)
