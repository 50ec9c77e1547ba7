"""Recorded VJP rules (``autograd/recorded.py``) of the module backward-hook plumbing
(``ops/backward_hook.py``), so that a model with full backward hooks (BackPACK's ``extend``)
can be differentiated twice (Hessian-vector products, ``create_graph=True``).

``hookpack`` splits the gradient into the inputs' pieces and hands them, as Tensors in the graph,
to the hooks (``on_grads``), whose answer flows on, as PyTorch's ``BackwardHookFunction`` runs its
hooks on the gradients of a create_graph pass; ``hookunpack`` places its piece's gradient at its
slice of the packed size (zeros elsewhere).
"""

from __future__ import annotations

from math import prod

from glassgrad.autograd.recorded import rule
from glassgrad.ops.backward_hook import mark_reached, unreached_as_none

__all__: list[str] = []


def _as(t, dtype):
    """Tensor ``t`` cast to NumPy dtype ``dtype`` (recorded), unchanged when it already is."""
    return t if t._data.dtype == dtype else t.to(dtype)


@rule("hookpack")
def _hook_pack(ctx, g):
    a = ctx.attrs
    flat, pieces, start = g.reshape(-1), [], 0
    for shape, dtype in zip(a["shapes"], a["dtypes"]):
        stop = start + prod(shape)
        pieces.append(_as(flat[start:stop].reshape(shape), dtype))  # (size,) -> shape
        start = stop
    return tuple(a["on_grads"](unreached_as_none(a, pieces)))


@rule("hookunpack")
def _hook_unpack(ctx, g):
    import glassgrad as gg

    a = ctx.attrs
    mark_reached(a)
    piece = _as(g.reshape(-1), a["flat_dtype"])
    before, after = a["start"], a["total"] - a["stop"]
    if not before and not after:
        return piece
    return gg.cat([piece.new_zeros(before), piece, piece.new_zeros(after)])  # (total,)
