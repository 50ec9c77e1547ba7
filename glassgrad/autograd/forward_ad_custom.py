"""Forward-mode AD of user Functions (``autograd.Function`` with a ``jvp`` staticmethod): installed
by ``forward_ad.enter_dual_level`` as ``custom.forward_ad_apply`` while a dual level is active.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from glassgrad.autograd.custom import Function
from glassgrad.autograd.custom_views import returned_input
from glassgrad.autograd.forward_ad import _state, _tensor_cls, get_tangent, paused, set_tangent
from glassgrad.autograd.grad_mode import no_grad

__all__ = ["custom_apply"]


def custom_apply(cls: type, args: tuple, kwargs: dict, apply_reverse: Any) -> Any:
    """A user Function under forward AD: forward runs on the primals (tangents paused), then the
    user's ``jvp(ctx, *tangents)`` gives the outputs' tangents, as PyTorch's contract."""
    tensor_cls = _tensor_cls()
    if _state.paused:
        return apply_reverse(cls, args, kwargs)[0]
    tangents = [get_tangent(a) if isinstance(a, tensor_cls) else None for a in args]
    if all(t is None for t in tangents):
        return apply_reverse(cls, args, kwargs)[0]
    if cls.jvp is Function.jvp:
        raise NotImplementedError(
            f"{cls.__name__}: you must implement the jvp function of a custom autograd.Function "
            "to use it with forward mode AD"
        )
    with paused():
        result, fctx = apply_reverse(cls, args, kwargs)
    grads = []
    for a, t in zip(args, tangents):
        if t is None and isinstance(a, tensor_cls):
            t = tensor_cls(np.zeros_like(a._data), _wrap=True)  # a tensor without tangent: zeros
        grads.append(t)
    fctx._in_jvp = True
    try:
        with paused(), no_grad():
            out_t = cls.jvp(fctx, *grads)
    finally:
        fctx._in_jvp = False
    outs = result if isinstance(result, tuple) else (result,)
    out_ts = out_t if isinstance(out_t, tuple) else (out_t,)
    if len(out_ts) != len(outs):
        raise RuntimeError(
            f"{cls.__name__}.jvp: expected {len(outs)} tangents (one per forward output), got {len(out_ts)}"
        )
    inputs = {id(a): g for a, g in zip(args, grads) if isinstance(a, tensor_cls)}
    for o, t in zip(outs, out_ts):
        src = returned_input(o, args)  # an input returned as is: another tangent would change its
        # the input's tangent itself or a view of it (``x_t.view_as(x_t)``), as PyTorch accepts
        if id(src) in inputs and id(src) not in fctx._dirty and not _same_or_view(t, inputs[id(src)]):
            raise RuntimeError(
                f"{cls.__name__}: forward returned an input as is (not marked dirty), but jvp did not "
                "return that input's tangent (or a view of it) for it; return x.view_as(x) from "
                "forward instead"
            )
        if isinstance(o, tensor_cls) and t is not None and o._data.dtype.kind in "fc":
            if tuple(t.shape) != tuple(o.shape):
                raise RuntimeError(
                    f"{cls.__name__}.jvp: expected a tangent of the output's shape {tuple(o.shape)}, "
                    f"got {tuple(t.shape)}"
                )
            set_tangent(o, t)
    return result


def _same_or_view(t: Any, g: Any) -> bool:
    """Whether tangent ``t`` is ``g`` or a view whose base is ``g`` (or ``g``'s base)."""
    if t is g:
        return True
    base = getattr(t, "_base", None)
    return base is not None and (base is g or base is getattr(g, "_base", None))
