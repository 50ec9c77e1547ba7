"""The plumbing of module backward hooks: join several tensors into one node, so that a single
backward call sees all their gradients together (and may replace them).

``Module.register_full_backward_hook`` needs, once per forward call, the gradients with respect
to *all* the module's inputs at the same moment, but every recorded op has one output and the
engine runs each node once. So the inputs are joined: ``hook_pack`` flattens them into one array
(one node, whose backward receives every input's gradient at once) and ``hook_unpack`` gives each
input back as a copy of its slice of that array; the module computes on the copies (which report
their source's ``data_ptr()``, as PyTorch's views do, while unchanged). Not views: an
in-place change of a view is rebased onto its base's graph (autograd/view_rebase.py), past these
nodes, so an in-place module with hooks (``ReLU(inplace=True)``) or an in-place op on a hooked
module's output would silently skip the hooks. The outputs are joined the
same way, so the gradients with respect to all outputs arrive together too. Without hooks none of
this runs. These two are plumbing, not user ops: they are left out of the op registry (and its
gradient checks) and tested through the module-hook parity tests.
"""

from __future__ import annotations

from collections.abc import Callable
from math import prod
from typing import Any

from glassgrad.autograd.function import Primitive as Function
from glassgrad.backend import array_module
from glassgrad.tensor import Tensor

__all__ = ["hook_pack", "hook_unpack", "mark_reached", "unreached_as_none"]


class HookPack(Function):
    """Forward: ``x₁, …, xₙ ↦ concat(flatten(xᵢ))`` (one input alone is flattened without a copy).

    Backward: split the gradient back into the inputs' shapes and dtypes, and pass that tuple to
    ``on_grads``, whose answer (a tuple of arrays or None) is what the inputs receive. With
    ``reached`` (a list of flags the pieces' nodes set when they run), the piece of a tensor whose
    gradient never arrived is None instead of zeros.
    """

    register = False

    @staticmethod
    def forward(
        ctx: Any,
        *arrays: Any,
        on_grads: Callable[[tuple], tuple],
        shapes: list,
        dtypes: list,
        reached: list | None = None,
    ) -> Any:
        xp = array_module(arrays[0])
        if len(arrays) == 1:
            return arrays[0].reshape(-1)  # (*shape) -> (size,), a view
        dtype = xp.result_type(*arrays)
        return xp.concatenate([a.reshape(-1).astype(dtype, copy=False) for a in arrays])  # (Σ sizes,)

    @staticmethod
    def backward(ctx: Any, grad: Any) -> tuple:
        shapes, dtypes = ctx.attrs["shapes"], ctx.attrs["dtypes"]
        grads, start = [], 0
        for shape, dtype in zip(shapes, dtypes):
            size = prod(shape)
            grads.append(
                grad[start : start + size].reshape(shape).astype(dtype, copy=False)
            )  # (size,) -> shape
            start += size
        return tuple(ctx.attrs["on_grads"](unreached_as_none(ctx.attrs, grads)))


class HookUnpack(Function):
    """Forward: a copy of the slice ``[start, stop)`` of a packed array, in its original shape and
    dtype (a copy, not a view: see the module docstring). Backward: that gradient placed in a zero
    array of the packed size (and, with ``reached``, its flag ``reached[index]`` set)."""

    register = False

    @staticmethod
    def forward(
        ctx: Any,
        flat: Any,
        start: int,
        stop: int,
        shape: tuple,
        dtype: Any,
        reached: list | None = None,
        index: int = 0,
    ) -> Any:
        ctx.attrs["total"], ctx.attrs["flat_dtype"] = flat.size, flat.dtype
        return flat[start:stop].reshape(shape).astype(dtype, copy=True)  # (size,) -> shape, a copy

    @staticmethod
    def backward(ctx: Any, grad: Any) -> Any:
        a = ctx.attrs
        mark_reached(a)
        xp = array_module(grad)
        full = xp.zeros(a["total"], dtype=a["flat_dtype"])
        full[a["start"] : a["stop"]] = grad.reshape(-1)
        return full


def mark_reached(attrs: dict) -> None:
    """A piece's backward ran: its gradient arrived (``reached`` is None when not tracked)."""
    if attrs.get("reached") is not None:
        attrs["reached"][attrs["index"]] = True


def unreached_as_none(attrs: dict, grads: list) -> tuple:
    """The pieces' gradients, None for each piece whose node did not run in this pass (then the
    flags are cleared for the next pass through the same graph, ``retain_graph=True``)."""
    reached = attrs.get("reached")
    if reached is None:
        return tuple(grads)
    out = tuple(g if seen else None for g, seen in zip(grads, reached))
    reached[:] = [False] * len(reached)
    return out


def hook_pack(
    tensors: list[Tensor], on_grads: Callable[[tuple], tuple], track_unreached: bool = False
) -> list[Tensor]:
    """Route ``tensors`` through one node: returns stand-ins to compute with; at backward,
    ``on_grads(grads)`` sees all their gradients at once (arrays; for a stand-in that received
    none, zeros, or None with ``track_unreached``, as PyTorch's ``grad_output`` has for an unused
    output) and returns the gradients to pass on (None: none)."""
    shapes = [t._data.shape for t in tensors]
    dtypes = [t._data.dtype for t in tensors]
    reached = [False] * len(tensors) if track_unreached else None
    flat = HookPack.apply(*tensors, on_grads=on_grads, shapes=shapes, dtypes=dtypes, reached=reached)
    out = hook_unpack(flat, shapes, dtypes, reached)
    for source, stand_in in zip(tensors, out):
        # PyTorch's stand-ins are views: programs key per-tensor state by data_ptr() (BackPACK
        # matches a module's output to the next one's input so), so a copy reports its source's
        # (until it is changed in place: its array or its version then differs)
        stand_in.__dict__["_data_ptr_of"] = (stand_in._data, stand_in._vc[0], source.data_ptr())
    return out


def hook_unpack(flat: Tensor, shapes: list[tuple], dtypes: list, reached: list | None = None) -> list[Tensor]:
    """The pieces of a packed tensor, each a node of its own."""
    out, start = [], 0
    for index, (shape, dtype) in enumerate(zip(shapes, dtypes)):
        stop = start + prod(shape)
        out.append(
            HookUnpack.apply(
                flat, start=start, stop=stop, shape=shape, dtype=dtype, reached=reached, index=index
            )
        )
        start = stop
    return out
