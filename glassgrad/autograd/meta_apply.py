"""``Function.apply`` for ops with an input on the meta device.

``Function.apply`` hands an op here when one of its tensor inputs holds a ``MetaArray`` (it looks
only once a meta array has ever been made, so the CPU path pays one truth test). The op's own
forward runs on zero-strided, read-only stand-ins of the meta inputs (``MetaArray.view(ndarray)``:
zeros that take no memory), so the result's shape and dtype, and every shape or dtype error, are
exactly the CPU op's. The computed array is then dropped for a new ``MetaArray`` of its shape and
dtype. The node is recorded as on the CPU (so ``backward`` on a meta graph runs, and the engine
gives meta leaves meta gradients), without version checks: a meta tensor has no values to go stale.

Mixing devices follows PyTorch: beside a meta tensor, another tensor must be on meta too, or be a
0-d CPU tensor (as a Python number would be); a CPU tensor with dims is a ``RuntimeError``.

Cost. Backward on a meta graph computes nothing: each recorded node's backward is replaced by
one that returns zero-strided stand-ins of its inputs' shapes and dtypes (every gradient there is
meta, so none has values), and forward's saved arrays are dropped at once. Forward costs the CPU
op on zeros of the same shapes (the stand-ins take no memory; the result and the op's temporaries
do, until it returns), except for ops that define ``meta_shape(*arrays, **attrs) -> (shape,
dtype)`` (the convolutions), which give the result's shape without computing, so a meta input of
any size passes through them at once (their callers have checked the shapes already).
"""

from __future__ import annotations

from typing import Any

import numpy as _np

from glassgrad.autograd import function as _fn
from glassgrad.autograd.grad_mode import state as _grad_state
from glassgrad.autograd.shapes import broadcast_shape
from glassgrad.backend import asarray, ndarray, quietly
from glassgrad.meta_array import MetaArray, meta_array, meta_like, no_data

__all__ = ["meta_apply", "meta_raw"]


def meta_apply(cls: Any, inputs: tuple, attrs: dict) -> Any:
    """Run op ``cls`` (a ``Primitive``) on ``inputs``, one of which is a meta tensor."""
    tensor_cls = _fn._tensor_cls[0]
    arrays, needs, nexts = [], [], []
    record = False
    for x in inputs:
        if isinstance(x, tensor_cls):
            a = x._data
            if a.__class__ is MetaArray:
                a = a.view(ndarray)  # zeros without memory, read-only: what forward computes on
            elif a.ndim:
                raise RuntimeError(
                    f"{cls.name}: expected all tensors on the meta device (or 0-d CPU tensors), got a "
                    f"CPU tensor of shape {tuple(a.shape)} beside a meta tensor (Tensor on device cpu "
                    "is not on the expected device meta)"
                )
            arrays.append(a)
            if x.requires_grad:
                record = True
                needs.append(True)
                nexts.append(x._node or x)
                continue
        else:
            arrays.append(x.view(ndarray) if x.__class__ is MetaArray else x)  # a raw meta mask: zeros too
        needs.append(False)
        nexts.append(None)
    if getattr(cls, "meta_identity", False):  # linear algebra: zeros are singular, the identity is not
        arrays = [_identity(a) for a in arrays]
    ctx = _fn.Node(attrs)
    ctx.needs_input_grad = needs
    rule = getattr(cls, "meta_shape", None)
    try:
        if rule is not None:
            out = meta_array(*rule(*arrays, **attrs))
        elif cls.__module__ in _ELEMENTWISE and _large(arrays):
            out = _elementwise(cls, ctx, arrays, attrs)
        else:
            out = quietly(lambda: cls.forward(ctx, *arrays, **attrs))  # zeros: 0/0 must not warn
    except (ValueError, IndexError, TypeError) as e:
        err = _fn.op_error(cls, arrays, e)
        if err is e:
            raise
        raise err from e
    if out.__class__ is not ndarray and out.__class__ is not MetaArray:
        out = asarray(out)
    result = tensor_cls(out, _wrap=True)
    if out.base is not None:  # a view of an input: share its version counter, as on the CPU
        _fn._share_version(result, inputs, arrays)
    if out.__class__ is not MetaArray:  # a view of a stand-in (all strides 0) stays that view
        out = out.view(MetaArray) if out.base is not None and not any(out.strides) else meta_like(out)
    result._data = out
    if record and _grad_state.enabled and out.dtype.kind == "f":
        ctx.fn = _meta_backward(cls)
        ctx.next = nexts
        ctx.shapes = [a.shape if n else None for a, n in zip(arrays, needs)]
        ctx.saved, ctx.versions = (), None  # backward needs none; no values can go stale
        ctx.attrs = {
            **attrs,
            "meta_inputs": [
                (a.shape, a.dtype, isinstance(x, tensor_cls) and x.is_meta) if n else None
                for x, a, n in zip(inputs, arrays, needs)
            ],
        }
        result.requires_grad = True
        result._node = ctx
    else:
        record = False
    if _fn.observers.forward:
        for obs in _fn.observers.forward:
            obs(cls, ctx if record else None, inputs, result, attrs)
    return result


def _identity(a: Any) -> Any:
    """For ops marked ``meta_identity`` (inverse, solve, Cholesky): a stack of square float
    stand-ins becomes identity matrices (one n x n array broadcast over the batch), which every
    such op accepts, so a value check (singular, not positive-definite) cannot fail on meta."""
    if isinstance(a, ndarray) and a.ndim >= 2 and a.shape[-1] == a.shape[-2] and a.dtype.kind in "fc":
        return _np.broadcast_to(_np.eye(a.shape[-1], dtype=a.dtype), a.shape)
    return a


def _holds_meta(v: Any) -> bool:
    if v.__class__ is MetaArray:
        return True
    return isinstance(v, tuple | list) and any(_holds_meta(e) for e in v)


def meta_raw(cls: Any, inputs: tuple, attrs: dict) -> bool:
    """Whether op ``cls``, none of whose tensor inputs is meta, has a meta array among its raw
    inputs or attributes (an index, mask or condition taken from a meta tensor): then it runs on
    meta (``meta_apply``) when no input is a CPU tensor with dims, and raises the device mismatch
    otherwise, as PyTorch does, instead of reading the meta array's stand-in zeros."""
    if not (any(_holds_meta(x) for x in inputs) or any(_holds_meta(v) for v in attrs.values())):
        return False
    tensor_cls = _fn._tensor_cls[0]
    for x in inputs:
        if isinstance(x, tensor_cls) and x._data.ndim:
            raise RuntimeError(
                f"{cls.name}: expected all tensors on the cpu device, got a meta index, mask or "
                f"argument beside a CPU tensor of shape {tuple(x.shape)} (Tensor on device meta is "
                "not on the expected device cpu)"
            )
    return True


#: Modules whose ops are all elementwise (the result has the inputs' broadcast shape): on large
#: meta inputs their dtype comes from a run on one element per input, their shape from broadcasting.
_ELEMENTWISE = frozenset(
    f"glassgrad.ops.{m}"
    for m in (
        "elementwise",
        "unary",
        "unary_more",
        "activation",
        "activation_more",
        "trig",
        "clamp",
        "math_more",
    )
)
_LARGE = 1 << 20  # elements: below this, running the op on zeros is cheap and exact


def _large(arrays: list) -> bool:
    return any(getattr(a, "size", 0) > _LARGE for a in arrays)


def _elementwise(cls: Any, ctx: Any, arrays: list, attrs: dict) -> Any:
    """An elementwise op's meta result without computing it: the broadcast shape of the inputs
    (a mismatch is the same ``ShapeError`` as on the CPU), and the dtype the op gives on one
    element of each input."""
    shape = broadcast_shape(*(a.shape for a in arrays if isinstance(a, ndarray)), op=cls.name)
    tiny = [meta_array((1,) * a.ndim, a.dtype).view(ndarray) if isinstance(a, ndarray) else a for a in arrays]
    one = quietly(lambda: cls.forward(ctx, *tiny, **attrs))
    return meta_array(shape, getattr(one, "dtype", None) or asarray(one).dtype)


_BACKWARDS: dict = {}


def _meta_backward(cls: Any) -> Any:
    """A stand-in for op ``cls`` in a meta graph: the same names (``grad_fn`` prints as on the
    CPU), a backward that returns zero-strided stand-ins of the inputs' shapes and dtypes."""
    meta_cls = _BACKWARDS.get(cls)
    if meta_cls is None:
        body = {"name": cls.name, "register": False, "backward": staticmethod(_no_values)}
        body["node_name"] = _fn.node_name(cls)  # an op's own node name (SplitBackward0 ...) too
        body["node_name_by"] = getattr(cls, "node_name_by", None)  # (getitem's, matmul's: from attrs)
        meta_cls = type(cls.__name__, (_fn.Primitive,), body)
        meta_cls.__qualname__ = cls.__qualname__
        _BACKWARDS[cls] = meta_cls
    return meta_cls


def _no_values(ctx: Any, grad: Any) -> tuple:
    """Backward on the meta device: each wanted gradient is a meta one, so a zero-strided stand-in
    of the input's shape and dtype (the engine makes a meta leaf's ``.grad`` from it)."""
    return tuple(None if m is None else _standin(*m) for m in ctx.attrs["meta_inputs"])


def _standin(shape: tuple, dtype: Any, meta: bool) -> Any:
    if not meta:  # a 0-d CPU input that requires grad: its gradient would have to come off meta
        raise no_data("backward into a CPU tensor from a meta op")
    return meta_array(shape, dtype).view(ndarray)
