"""The backward engine: an iterative walk of the recorded graph in topological order (of the
nodes ready to run, the one created last first, as PyTorch's engine orders them by sequence number).

No recursion (a 1,000-step RNN must not hit Python's recursion limit). Each node's backward runs
once, after every consumer of its output has passed its gradient down; gradients are keyed by node
identity and summed; leaves accumulate into ``.grad``. Saved arrays are freed unless
``retain_graph=True`` (a graph whose nodes saved nothing can be walked again).
"""

from __future__ import annotations

from heapq import heapify, heappop, heappush
from itertools import count
from typing import Any

import numpy as np

from glassgrad.autograd import custom as _custom  # (partly loaded here: read at backward time)
from glassgrad.autograd import recorded
from glassgrad.autograd.accumulate_hooks import registered as _post_hooks
from glassgrad.autograd.accumulate_hooks import run_accumulate_hooks
from glassgrad.autograd.complex_gate import check_seed
from glassgrad.autograd.engine_checks import _check_versions, _reshaped_leaf, no_grad_view_leaf
from glassgrad.autograd.engine_hooked import _NEVER, input_floor, prune, run_hooked, take_input
from glassgrad.autograd.engine_modes import in_pass_mode, passes
from glassgrad.autograd.function import _FREED, Node, _freed_message, _tensor_cls, observers
from glassgrad.autograd.grad_accumulation import accumulating, add_into, laid_as
from glassgrad.autograd.gradient_edge import backward_inputs
from glassgrad.autograd.hooks import retain_grad
from glassgrad.autograd.shapes import unbroadcast
from glassgrad.autograd.sparse_grad import SparseRows, dense_each, store
from glassgrad.autograd.tensor_hook_run import run_tensor_hooks as _run_hooks
from glassgrad.autograd.tensor_hook_run import with_seeds
from glassgrad.backend import array_module, asarray, ndarray, quiet_end, quiet_start
from glassgrad.errors import GraphError, ShapeError
from glassgrad.meta_array import MetaArray, meta_array

__all__ = ["backward", "run_backward", "pass_id"]

#: Numbers backward passes over all threads: per-pass scratch (split's shared gradient buffer)
#: tells a new pass apart, and an outer pass gets its number back when a nested one ends.
_pass_ids = count(1)


def pass_id() -> int:
    """The number of the backward pass running now in this thread (or of its last one)."""
    return passes.id


def backward(
    tensor, gradient=None, retain_graph: bool | None = None, create_graph: bool = False, inputs: Any = None
) -> None:
    """Accumulate d(tensor)/d(leaf) into every leaf's ``.grad``, or, given ``inputs`` (tensors),
    into theirs only, non-leaves included (see ``Tensor.backward``)."""
    if not tensor.requires_grad:
        raise GraphError(
            "backward: expected a tensor that requires grad (the result of ops on a tensor with "
            "requires_grad=True, recorded outside no_grad), got one that does not"
        )
    if create_graph:  # the gradients are recorded Tensors (autograd/recorded.py)
        recorded.warn_leaf_cycle()
        root = (tensor, recorded.seed("backward", tensor, gradient))
        return backward_roots([root], True if retain_graph is None else retain_graph, inputs, True)
    data = tensor._data
    xp = array_module(data)
    if gradient is None:
        if data.size != 1 or data.dtype.kind == "c":
            raise GraphError(
                f"backward: grad can be implicitly created only for real scalar outputs, got shape "
                f"{data.shape} {data.dtype}; pass gradient= of that shape"
            )
        grad = xp.ones(data.shape, dtype=data.dtype)  # (not ones_like: a meta root's seed is plain)
    else:
        # A copy: the seed may end up as a leaf's .grad, which optimizers and zero_grad() change
        # in place; the caller's tensor must not change with it.
        src = gradient._data if isinstance(gradient, _tensor_cls[0]) else gradient
        check_seed_device("backward", data, src)
        check_seed("backward", src, data)  # a complex seed for a real output: refused, as PyTorch
        grad = xp.array(src, dtype=data.dtype, copy=True)  # every gradient has its tensor's dtype
        if grad.shape != data.shape:
            raise ShapeError(f"backward: expected gradient of shape {data.shape}, got {grad.shape}")
    roots = [(tensor, grad)]
    if gradient.__class__ is _tensor_cls[0]:  # its hooks get the caller's Tensor (tensor_hook_run)
        return with_seeds(roots, gradient, lambda: backward_roots(roots, retain_graph, inputs))
    backward_roots(roots, retain_graph, inputs)


def backward_roots(
    roots: list, retain_graph: bool | None, inputs: Any = None, create_graph: bool = False
) -> None:
    """One backward pass from ``roots`` (pairs of tensor and seed) into every leaf's ``.grad``, or
    into ``inputs``' alone (tensors, leaves or not, or GradientEdges; an unreached one keeps None);
    with ``create_graph`` the seeds and gradients are recorded Tensors."""
    if inputs is not None:
        ins, edges = backward_inputs(inputs)  # checked; a GradientEdge's tensor or stand-in
        for t in ins:
            if t._node is not None and id(t) not in edges:  # as PyTorch: its .grad is stored by
                retain_grad(t)  # its retain_grad hook, in every pass (an edge's stand-in: nothing)
        found = run_backward(roots, retain_graph, ins, run_inputs=True, create_graph=create_graph)
        leaves = {id(t): found[id(t)] for t in ins if id(t) in found and t._node is None}
    else:  # (a hooked leaf accumulates during the walk, once its last feed ran: PyTorch's order)
        leaves = run_backward(roots, retain_graph, None, True, create_graph=create_graph)
    in_pass_mode(create_graph, _accumulate_leaves, leaves)  # (their hooks: in the pass's grad mode)


def check_seed_device(op: str, data: Any, seed: Any) -> None:
    """A gradient given for an output must be on its device (a meta seed has no values for a CPU
    graph, a CPU one none a meta graph can use), as PyTorch checks."""
    if (seed.__class__ is MetaArray) is not (data.__class__ is MetaArray) and hasattr(seed, "shape"):
        where, other = ("meta", "cpu") if data.__class__ is MetaArray else ("cpu", "meta")
        raise RuntimeError(f"{op}: invalid gradient - expected device {where} but got {other}")


def run_backward(
    roots: list,
    retain_graph: bool = False,
    inputs: list | None = None,
    accumulate: bool = False,
    run_inputs: bool = False,
    create_graph: bool = False,
) -> dict:
    """``_propagate`` with NumPy's floating-point warnings off: a gradient may be inf or nan on
    purpose (the backward of 1/x at 0), and PyTorch says nothing then; set once per pass."""
    token = quiet_start()
    running, outer = passes.running, passes.id
    depth = len(running)
    passes.id = next(_pass_ids)  # (atomic under the GIL)
    passes.all_leaves.append(inputs is None)  # what torch.autograd._is_checkpoint_valid() reads
    try:  # in grad mode create_graph, as PyTorch's engine (engine_modes.in_pass_mode)
        args = (roots, retain_graph, inputs, accumulate, run_inputs, create_graph)
        return in_pass_mode(create_graph, _propagate, *args)
    finally:
        del running[depth:]
        passes.all_leaves.pop()
        if passes.all_leaves:  # a nested pass ended: the outer one's id again (the last one's stays)
            passes.id = outer
        quiet_end(token)


def _propagate(
    roots: list,
    retain_graph: bool = False,
    inputs: list | None = None,
    accumulate: bool = False,
    run_inputs: bool = False,
    create_graph: bool = False,
) -> dict:
    """Propagate gradients from ``roots`` (pairs of tensor and gradient array; with
    ``create_graph``, of tensor and gradient Tensor, each node running its recorded rule).

    Returns ``{id(leaf): [leaf, grad]}`` for the leaves reached, summed but not yet stored. When
    ``inputs`` (tensors) is given, their gradients are captured too, keyed by ``id(tensor)``, for
    ``autograd.grad``-style use without touching ``.grad``. With ``accumulate=True`` (``backward``),
    a leaf with hooks (``register_hook``, post-accumulate-grad hooks) runs them and gets its
    ``.grad`` as soon as every node that feeds it has run, as PyTorch does (hooks fire in PyTorch's
    order; an optimizer step in a post-accumulate hook frees that gradient before the rest of
    backward); it is then absent from the result.
    With ``inputs``, only the nodes that lead to one run, as in PyTorch (``engine_hooked.prune``;
    ``run_inputs``: the inputs' own nodes run too, as ``backward(inputs=...)`` does).
    """
    grads: dict[Node, object] = {}
    leaves: dict[int, list] = {}
    early: dict[int, int] | None = {} if accumulate else None  # hooked leaf -> feeds still to come
    starts = []
    for t, g in roots:
        if t._node is None:
            _add_leaf(leaves, t, g)
        else:
            _add(grads, t._node, g)
            starts.append(t._node)
    if len(starts) > 1:
        starts = list(dict.fromkeys(starts))
    capture = {id(t._node): t for t in inputs if t._node is not None} if inputs else None

    # Count each node's consumers in this graph (one older than every input never runs: input_floor).
    pending: dict[Node, int] = {}
    stack = starts[:]
    seen = set(stack)
    floor = input_floor(inputs, accumulate)
    while stack:
        node = stack.pop()
        for nxt in node.next:
            if isinstance(nxt, Node):
                if nxt in pending:
                    pending[nxt] += 1
                elif floor >= 0 and nxt.seq < floor:  # (a plain backward reads no seq here)
                    pending[nxt] = _NEVER
                else:
                    pending[nxt] = 1
                if nxt not in seen:
                    seen.add(nxt)
                    if floor < 0 or nxt.seq >= floor:
                        stack.append(nxt)
            elif early is not None and nxt is not None and (nxt._hooks or id(nxt) in _post_hooks):
                early[id(nxt)] = early.get(id(nxt), 0) + 1

    need = prune(starts, pending, capture, inputs, run_inputs) if inputs else None
    passes.running.append([starts, need, None])
    # Of the nodes whose gradient is complete, the newest (highest ``seq``) runs first, as in
    # PyTorch's engine: hooks that pair backward calls with forward calls in reverse (Opacus'
    # per-sample gradients of a cell called once per time step) see the same order.
    # (A heap of plain ints, -seq, with the nodes by key: cheaper than a heap of tuples.)
    waiting = {-n.seq: n for n in starts if n not in pending}
    ready = list(waiting)
    heapify(ready)
    watch_backward = observers.backward
    while ready:
        node = waiting.pop(heappop(ready))
        if node.saved is _FREED:  # only a node that runs reads its saved arrays: autograd.grad
            raise GraphError(_freed_message(node))  # stops at its inputs, before a freed producer
        grad = grads.pop(node, None)
        if node.node_hooks:  # grad_fn.register_(pre)hook: one truth test per node (engine_hooked.py)
            in_grads = run_hooked(node, grad, capture, leaves, need, watch_backward, create_graph)
            if in_grads is None:
                continue
        elif grad is not None:
            if capture and id(node) in capture:  # an input's node (engine_hooked.take_input)
                grad = take_input(node, grad, capture, leaves, need)
                if grad is None:
                    continue  # autograd.grad takes an input's gradient; nothing past it is needed
            elif node.hooks:
                grad = _run_hooks(node.hooks, grad)
            if node.versions:
                _check_versions(node)
            in_grads = recorded.vjp(node, grad) if create_graph else node.fn.backward(node, grad)
            if in_grads.__class__ is not tuple:
                in_grads = (in_grads,)
            if watch_backward:
                if need is not None:  # tracers see what PyTorch computes: None for what leads nowhere
                    in_grads = need.computed(node, in_grads)
                shown = recorded.arrays(grad, in_grads) if create_graph else (grad, dense_each(in_grads))
                for obs in watch_backward:
                    obs(node, *shown)
            if len(in_grads) != len(node.next):
                raise GraphError(
                    f"{node.fn.name}: backward expected to return {len(node.next)} gradients, got {len(in_grads)}"
                )
        else:
            in_grads = (None,) * len(node.next)
        casts = node.in_dtypes
        # a fused op whose PyTorch graph reaches its leaves in another order (Linear: addmm's bias,
        # then the weight through TBackward0) says so; its hooked leaves become ready in that order
        later = [] if early and getattr(node.fn, "leaf_order", None) is not None else None
        for i, (nxt, g, shape) in enumerate(zip(node.next, in_grads, node.shapes)):
            if nxt is None:
                continue
            if g is not None and g.shape != shape:
                g = _unbroadcast_for(node, g, shape)
            if casts is not None and g is not None:
                g = _cast_for(g, casts[i])
            if isinstance(nxt, Node):
                if g is not None:
                    _add(grads, nxt, g)
                left = pending[nxt] - 1
                pending[nxt] = left
                if left == 0:
                    waiting[-nxt.seq] = nxt
                    heappush(ready, -nxt.seq)
            else:
                if g is not None:
                    _add_leaf(leaves, nxt, g)
                if early and id(nxt) in early:
                    if later is None:
                        _leaf_ready(early, leaves, nxt)
                    else:
                        later.append((i, nxt))
        if later:
            rank = node.fn.leaf_order(node)  # per input index, its place in PyTorch's order
            for _, t in sorted(later, key=lambda pair: rank[pair[0]]):
                _leaf_ready(early, leaves, t)
        if not retain_graph and node.saved:
            if node.versions or _holds_arrays(node.saved):
                # Only saved arrays are freed: a node that saved none (add, sum, a product with a
                # Python number ...) can run again, as in PyTorch, where the error comes from
                # reading freed saved tensors.
                node.saved = _FREED
                node.versions = None
            elif node.saved[0].__class__ is _custom.FunctionCtx:  # a user Function's: its saved_tensors
                node.saved[0].release()  # raise from now on, when read (PyTorch's release_variables)
        elif retain_graph and node.versions is not None and node.versions.__class__ is not list:
            node.saved = node.versions.template  # saved-tensor hooks: drop the unpacked values again
    return leaves


def _leaf_ready(early: dict, leaves: dict, t) -> None:
    """One more feed of hooked leaf ``t`` has run; after the last, store its gradient and run its
    post-accumulate hooks now."""
    left = early[id(t)] - 1
    if left:
        early[id(t)] = left
        return
    del early[id(t)]
    entry = leaves.pop(id(t), None)
    if entry is not None:
        if t.grad is None and entry[1].__class__ is not _tensor_cls[0]:
            # backward is still running: the array may also be on its way to other nodes or leaves
            # (add hands one array to both inputs), and the hooks may change .grad in place
            entry[1] = entry[1].copy()
        _accumulate_leaves({id(t): entry})


def _holds_arrays(saved: tuple) -> bool:
    return any(s.__class__ is ndarray or s.__class__ is tuple for s in saved)


def _unbroadcast_for(node: Node, g, shape: tuple):
    try:
        return unbroadcast(g, shape) if g.__class__ is not _tensor_cls[0] else recorded.unbroadcast(g, shape)
    except ShapeError:
        raise ShapeError(
            f"{node.fn.name}: backward returned a gradient of shape {g.shape} for an input of shape {shape}"
        ) from None


def _cast_for(g, dtype):
    """An input's gradient in the input's float dtype (a float32 operand of a float64 op gets a
    float32 gradient, rounded here, as PyTorch's engine casts it)."""
    if g.__class__ is _tensor_cls[0]:  # create_graph: a recorded cast, so that it is differentiated too
        from glassgrad.ops.conversion import cast  # (ops import the autograd package)

        d = g._data.dtype
        return cast(g, dtype) if d != dtype and d.kind == "f" else g
    if (g.__class__ is ndarray or isinstance(g, np.generic)) and g.dtype != dtype and g.dtype.kind == "f":
        return g.astype(dtype)  # (a 0-d op's backward may give a NumPy scalar)
    return g


def _add(grads: dict, node: Node, g) -> None:
    if g.__class__ is SparseRows:  # a node's backward works on arrays: the table's dense gradient
        g = g.dense()
    prev = grads.get(node)
    grads[node] = g if prev is None else prev + g


def _add_leaf(leaves: dict, t, g) -> None:
    entry = leaves.get(id(t))
    if entry is None:
        leaves[id(t)] = [t, g]
    else:
        entry[1] = entry[1] + g


def _accumulate_leaves(leaves: dict) -> None:
    given: set[int] = set()
    for t, g in leaves.values():
        if t._hooks:
            g = _run_hooks(t._hooks, g)
        with accumulating:  # (another thread's pass may be storing into this leaf: grad_accumulation)
            if _post_hooks and id(t) in _post_hooks:  # hooks around accumulation (accumulate_hooks.py)
                run_accumulate_hooks(t, g, given, _store_grad)
            else:
                _store_grad(t, g, given)


def _store_grad(t, g, given: set) -> None:
    """Add ``g`` into leaf ``t``'s ``.grad`` (``given``: ids of the arrays already made a .grad)."""
    if not t.requires_grad:  # turned off after the graph recorded it (requires_grad_(False)):
        return None  # PyTorch's AccumulateGrad drops it, so a frozen parameter gets no step
    if t._base is not None and no_grad_view_leaf(t):  # made in no_grad mode: no gradient, as PyTorch
        return None
    tensor_cls = _tensor_cls[0]
    if g.__class__ is tensor_cls:
        return recorded.store_grad(t, g)
    if g.dtype != t._data.dtype:
        g = g.astype(t._data.dtype)
    if g.__class__ is SparseRows and g.shape == t._data.shape:  # embedding(sparse=True)'s table:
        return store(t, g, observers.leaf)  # a sparse .grad (sparse_grad.py)
    if g.shape != t._data.shape or (t.grad is not None and t.grad._data.shape != g.shape):
        _reshaped_leaf(t, g)
    if observers.leaf:
        for obs in observers.leaf:
            obs(t, g)
    if t._data.__class__ is MetaArray:  # a meta leaf: its gradient has no data either
        if t.grad is None:
            t._grad = tensor_cls(meta_array(g.shape, g.dtype), _wrap=True)
    elif t.grad is None:
        # Backward may hand back views or one array shared by several inputs; a leaf's
        # .grad must own its memory because optimizers and zero_grad() change it in place.
        if g.__class__ is not ndarray:
            g = asarray(g)  # a NumPy scalar from a 0-d backward
        elif g.base is not None or not g.flags.writeable or id(g) in given:
            g = g.copy()
        given.add(id(g))
        t._grad = tensor_cls(g if t._data.flags.c_contiguous else laid_as(t._data, g), _wrap=True)
    else:
        # embedding(sparse=True)'s sparse .grad plus a dense gradient: a new dense one, as PyTorch's
        if t.grad.__class__ is not tensor_cls and t.grad.is_sparse:
            t._grad = t.grad.to_dense()
        add_into(t, g)  # in place: a .grad viewing a flat buffer keeps the buffer the gradient
