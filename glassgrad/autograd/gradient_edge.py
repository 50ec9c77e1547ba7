"""``torch.autograd.graph``'s ``GradientEdge``, ``get_gradient_edge``, ``increment_version`` and
``allow_mutation_on_saved_tensors``.

- ``get_gradient_edge(t)``: the edge where ``t``'s gradient is computed, ``GradientEdge(node,
  output_nr, ownership_token)``: ``t.grad_fn`` (its op's node, as ``next_functions`` shows it) or,
  for a leaf, its ``AccumulateGrad``. ``autograd.grad`` and ``autograd.backward`` (and
  ``Tensor.backward``'s ``inputs=``) take an edge wherever they take a tensor, as in PyTorch:
  ``grad(loss, get_gradient_edge(h))`` equals ``grad(loss, h)`` and keeps working after ``h`` is
  gone; an edge as an output starts backward at that node, with the given gradient (or ones for
  a one-element output). ``backward(inputs=edge)`` fills a leaf's ``.grad`` and stores nothing for
  a non-leaf (PyTorch has no tensor there). ``materialize_grads=True`` refuses an unreached edge.
  A ``GradientEdge`` made by hand for an op's node works when ``get_gradient_edge`` was called on
  that output before (glassgrad's nodes do not keep their outputs' shapes), or for a leaf's
  ``AccumulateGrad``.
- ``increment_version(t)``: bump the version counter of ``t`` (or of each tensor of an iterable),
  for code that changes a tensor's memory behind autograd's back: backward then refuses a value
  saved before, as for any in-place change.
- ``allow_mutation_on_saved_tensors()``: inside, a tensor saved for backward may be changed in
  place afterwards; backward uses the value it had when saved. PyTorch clones a saved tensor when
  it is first changed; glassgrad copies each saved value when it is saved (same gradients, more
  memory). Backward must run inside the same context, as PyTorch requires; nesting is refused.
"""

from __future__ import annotations

import contextlib
import warnings
import weakref
from collections.abc import Mapping
from typing import Any, Iterable, Iterator, NamedTuple

from glassgrad.autograd.function import Node, _tensor_cls

__all__ = ["GradientEdge", "get_gradient_edge", "increment_version", "allow_mutation_on_saved_tensors"]


class GradientEdge(NamedTuple):
    """Where a given gradient is computed in the autograd graph: ``node`` and which of its
    outputs, ``output_nr``; ``ownership_token`` as PyTorch's (None here: glassgrad's Python nodes
    keep their graph alive themselves)."""

    node: Any
    output_nr: int
    ownership_token: Any = None


# shown node -> {output_nr: (weak reference to the engine's node, shape, dtype)}
_outputs: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def get_gradient_edge(tensor: Any) -> GradientEdge:
    """The gradient edge of ``tensor``: ``grad(loss, get_gradient_edge(t))`` is ``grad(loss, t)``."""
    from glassgrad.autograd.node_views import edge

    if not isinstance(tensor, _tensor_cls[0]):
        raise TypeError(f"get_gradient_edge: expected a Tensor, got {type(tensor).__name__}")
    if not tensor.requires_grad:
        raise RuntimeError(
            "It is not possible to get the gradient edge for a Tensor that does not require gradients"
        )
    node, nr = edge(tensor._node if tensor._node is not None else tensor)
    if tensor._node is not None:
        real = tensor._node
        _outputs.setdefault(node, {})[nr] = (weakref.ref(real), tuple(tensor.shape), tensor._data.dtype)
    return GradientEdge(node, nr, None)


def _stand_in(e: GradientEdge, op: str) -> Any:
    """The tensor the engine works with for edge ``e``: a leaf's own tensor, else a tensor of the
    output's shape and dtype (no memory: a broadcast zero) whose node is the edge's."""
    from glassgrad.autograd.node_views import AccumulateGrad
    from glassgrad.backend import array_module

    node = e.node
    if isinstance(node, AccumulateGrad):
        leaf = node.variable
        if leaf is None:
            raise RuntimeError(
                f"{op}: the leaf tensor of this GradientEdge's AccumulateGrad no longer exists"
            )
        return leaf
    entry = _outputs.get(node, {}).get(e.output_nr) if isinstance(node, Node) else None
    real = entry[0]() if entry is not None else None
    if real is None:
        raise RuntimeError(
            f"{op}: expected a GradientEdge made by get_gradient_edge, got {e!r}; glassgrad knows "
            "the shape of a node's output only for the outputs get_gradient_edge was called on"
        )
    _, shape, dtype = entry
    xp = array_module()
    t = _tensor_cls[0](xp.broadcast_to(xp.zeros((), dtype=dtype), shape), _wrap=True)
    t.requires_grad = True
    t._node = real
    return t


def resolve(items: Any, op: str, outputs: bool = False) -> tuple:
    """``items`` (a tensor, an edge or a sequence of them) as a list of tensors, and the set of ids
    of those given as edges (``backward(inputs=...)`` stores nothing for a non-leaf one's stand-in,
    ``materialize_grads`` refuses them). Anything else is refused with PyTorch's class: an
    ``AssertionError`` among the ``outputs``, a ``RuntimeError`` among the inputs."""
    if isinstance(items, (_tensor_cls[0], GradientEdge)):
        items = [items]
    out, made = [], set()
    for x in items:
        if isinstance(x, GradientEdge):
            x = _stand_in(x, op)
            made.add(id(x))
        elif not isinstance(x, _tensor_cls[0]):
            if outputs:
                raise AssertionError(f"{op}: Expected output to be a torch.Tensor, got {type(x).__name__}")
            raise RuntimeError(
                f"{op}: all inputs have to be Tensors or GradientEdges, but got {type(x).__name__}"
            )
        out.append(x)
    return out, made


def grad_inputs(inputs: Any) -> tuple:
    """``autograd.grad``'s ``inputs`` as ``(keys, inputs)``: a dict's keys (for a dict of
    gradients back, as PyTorch's) and values, else None and the inputs as given; checked as
    PyTorch checks them before any work (none given, a Mapping that is not a dict)."""
    keys = None
    if type(inputs) is dict:
        keys, inputs = list(inputs), tuple(inputs.values())
    elif isinstance(inputs, Mapping):
        raise TypeError(
            f"grad: `inputs` argument to `grad()` must be a dict, not {type(inputs).__name__}. "
            "Other Mapping types are not supported."
        )
    elif not isinstance(inputs, (_tensor_cls[0], GradientEdge)):
        inputs = tuple(inputs)
    if isinstance(inputs, tuple) and not isinstance(inputs, GradientEdge) and not inputs:
        raise RuntimeError("grad: `inputs` argument to `grad()` cannot be empty.")
    return keys, inputs


def backward_inputs(inputs: Any) -> tuple:
    """``backward``'s ``inputs=`` as a list of tensors (an edge's, a sparse tensor's values: its
    gradient is theirs) and the ids of the edges' stand-ins; PyTorch's errors for none given and
    for one that does not require grad."""
    ins, edges = resolve(inputs, "backward")
    ins = [t._vals if getattr(t, "_vals", None) is not None else t for t in ins]
    if not ins:
        raise RuntimeError("backward: `inputs` argument to `backward()` cannot be empty.")
    for t in ins:
        if not t.requires_grad:
            raise RuntimeError(
                f"backward: expected inputs that require grad, got one of shape {tuple(t.shape)} that does not"
            )
    return ins, edges


def shared_grads(inputs: Any, result: tuple) -> tuple:
    """``result`` with an input given twice getting the same gradient object at each place, as
    PyTorch's (``grad(loss, [x, x])[0] is [1]``)."""
    first: dict = {}
    for i, t in enumerate(inputs):
        first.setdefault(id(t), i)
    if len(first) == len(result):
        return result
    return tuple(result[first[id(t)]] for t in inputs)


def backward_seeds(grad_tensors: Any, grad_variables: Any) -> Any:
    """``autograd.backward``'s gradients: ``grad_tensors``, or ``grad_variables`` (its old name),
    with PyTorch's warning for the old name and its error for both."""
    if grad_variables is None:
        return grad_tensors
    warnings.warn("`grad_variables` is deprecated. Use `grad_tensors` instead.", FutureWarning, stacklevel=3)
    if grad_tensors is not None:
        raise RuntimeError(
            "backward: `grad_tensors` and `grad_variables` (deprecated) arguments both passed to "
            "`backward()`. Please only use `grad_tensors`."
        )
    return grad_variables


def increment_version(tensor: Any) -> None:
    """Record an in-place change of ``tensor`` (or of each tensor of an iterable) made without
    autograd knowing: backward then refuses a value of it saved before, as for any in-place op."""
    tensors: Iterable = (tensor,) if isinstance(tensor, _tensor_cls[0]) else tensor
    for t in tensors:
        if not isinstance(t, _tensor_cls[0]):
            raise TypeError(f"increment_version: expected a Tensor or tensors, got {type(t).__name__}")
        t._version = t._version + 1


class _AllowMutationOnSavedContext:
    """What ``allow_mutation_on_saved_tensors`` yields: the values saved inside (``original``,
    by handle), emptied on exit; ``cloned`` stays empty (glassgrad copies at save time)."""

    def __init__(self) -> None:
        self.cloned: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
        self.original: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()

    def clear(self) -> None:
        self.cloned.clear()
        self.original.clear()


class _Handle:
    pass


_enabled = [False]
_OUTSIDE = (
    "Trying to backward outside of the 'allow_mutation_on_saved_tensors' context"
    "in which the graph was originally recorded."
)


@contextlib.contextmanager
def allow_mutation_on_saved_tensors() -> Iterator[_AllowMutationOnSavedContext]:
    """Inside, tensors saved for backward may be changed in place; backward (run inside too) uses
    the values they had when saved."""
    from glassgrad.autograd.graph import saved_tensors_hooks

    ctx = _AllowMutationOnSavedContext()

    def pack(t: Any) -> _Handle:
        h = _Handle()
        ctx.original[h] = _tensor_cls[0](t._data.copy(), _wrap=True)
        return h

    def unpack(h: _Handle) -> Any:
        if not _enabled[0] or h not in ctx.original:
            raise AssertionError(_OUTSIDE)
        return ctx.original[h]

    with saved_tensors_hooks(pack, unpack):
        try:
            if _enabled[0]:
                raise RuntimeError("allow_mutation_on_saved_tensors contexts cannot be nested")
            _enabled[0] = True
            yield ctx
        finally:
            ctx.clear()
            _enabled[0] = False
