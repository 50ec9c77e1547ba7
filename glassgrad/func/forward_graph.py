"""``jvp`` whose results are differentiable in the caller's graph, as PyTorch's are.

PyTorch's ``torch.func.jvp`` returns an output and a tangent that a later ``backward`` reaches
through: to the weights ``f`` uses from its closure, to primals and tangents that require grad.
Physics-informed training relies on it (DeepXDE's forward-mode ``dde.grad.jacobian`` is
``jvp(net, (x,), (e_j,))``, and its loss trains the net through that tangent; its Hessian nests
one ``jvp`` in another). glassgrad's forward mode (``forward_ad``) gives constants, so where the
result must be differentiable, ``jvp`` computes it here instead by the double-backward trick:

    out = f(x);  g = J^T u  (a vjp with a dummy cotangent u, recorded);  J v = d<g, v>/du

Both steps are recorded (``create_graph``), so ``out`` and ``J v`` carry the whole graph: the
caller's weights, ``x``, ``v``, and an enclosing transform (nested ``jvp``, or ``grad`` around it).
"""

from __future__ import annotations

from typing import Callable

from glassgrad.autograd import functional
from glassgrad.autograd.grad_mode import is_grad_enabled
from glassgrad.autograd.gradient_edge import get_gradient_edge
from glassgrad.errors import GraphError, TransformArgumentError
from glassgrad.factories_like import zeros_like
from glassgrad.func._levels import _active, detached, level, outer_graph, split_aux
from glassgrad.tensor import Tensor
from glassgrad.utils._pytree import tree_flatten, tree_unflatten

__all__ = ["NoGraphError", "run_graph", "wants_graph"]


class NoGraphError(Exception):
    """The function's outputs are not real floating point: the double-backward trick does not apply."""


def _real_float(t: Tensor) -> bool:
    return t.dtype.is_floating_point


def wants_graph(args: list, where: dict) -> bool:
    """Whether PyTorch's result is known to be differentiable before ``f`` runs: grad mode on and
    a primal or tangent requiring grad, or ``jvp`` nested in a recording transform (``grad``, or
    an outer ``jvp`` taking this path). All real floating point (complex: the forward path)."""
    if not is_grad_enabled() and not _active.reverse:
        return False
    leaves = []
    for i in {i for i, _ in where}:
        flat, _ = tree_flatten(args[i])
        leaves += [(flat[j], where[(i, j)]) for (k, j) in where if k == i]
    if not all(_real_float(p) and _real_float(t) for p, t in leaves):
        return False
    return _active.reverse or any(p.requires_grad or t.requires_grad for p, t in leaves)


def run_graph(
    func: Callable,
    args: list,
    where: dict,
    has_aux: bool,
    op: str,
    kwargs: dict,
    strict: bool,
    nested_only: bool = False,
    columns: list | None = None,
) -> tuple:
    """``_run_dual``'s ``(primal outputs, tangent outputs, output spec, aux)``, recorded.

    With ``columns`` (dicts from some of ``where``'s keys to tangents; jacfwd's one-hot
    directions), ``f`` still runs once and the tangent outputs are a list with one entry per
    column (each a list over the outputs): a write ``f`` makes to its arguments lands once, as in
    PyTorch's single vmapped run."""
    keys = sorted(where)
    with level(
        op, record=True, func=func, given=(args, kwargs)
    ) as outer_grad:  # grad on; reverse transforms, graph jvps nest inside
        call, xs, copies = list(args), {}, []
        for i in {i for i, _ in keys}:
            flat, spec = tree_flatten(args[i])
            for j, t in enumerate(flat):
                if (i, j) not in where:
                    continue
                if t.requires_grad:  # the caller's own tensor stays in the graph (a view of it)
                    flat[j] = xs[(i, j)] = t.view_as(t)
                elif where[(i, j)].requires_grad:  # a leaf, as PyTorch's dual of such a tangent:
                    flat[j] = xs[(i, j)] = t.detach().requires_grad_(True)  # written: raises
                else:
                    # f gets a copy that is no leaf: PyTorch's f may write its primal in place (a
                    # leaf requiring grad refuses that); the write reaches t after f
                    xs[(i, j)] = t.detach().requires_grad_(True)
                    flat[j] = xs[(i, j)].clone()
                    copies.append((t, flat[j]))
            call[i] = tree_unflatten(flat, spec)
        before = {k: (x._version, _root_edge(x)) for k, x in xs.items()}
        out = func(*call, **kwargs)
        for t, given in copies:
            if given._version:
                t._data[...] = given._data  # raw: no graph (t requires no grad); one bump per write
                t._version = t._version + given._version
        out, aux = split_aux(out, has_aux, op, detach=False)
        outs, spec = tree_flatten(out)
        for o in outs:
            if not isinstance(o, Tensor):
                raise TransformArgumentError(
                    f"{op}: expected f's outputs to be Tensors (or a pytree of them), got {type(o).__name__}"
                )
            if o.requires_grad and not _real_float(o):
                raise NoGraphError
        live = [n for n, o in enumerate(outs) if o.requires_grad]
        us = [zeros_like(outs[n]).requires_grad_(True) for n in live] if live else []
        changed = {k for k in keys if xs[k]._version != before[k][0] and before[k][1] is not None}
        inputs = [before[k][1] if k in changed else xs[k] for k in keys]
        gs = (
            functional.grad([outs[n] for n in live], inputs, us, create_graph=True, allow_unused=True)
            if live and inputs
            else [None] * len(inputs)
        )
        gs = [_of_primal(g, xs[k]) if k in changed and g is not None else g for g, k in zip(gs, keys)]
        if columns is None:
            tangents = _push(gs, keys, where, us, outs, live, op, strict)
        else:
            tangents = [_push(gs, keys, col, us, outs, live, op, False) for col in columns]
    internal = [x for x in xs.values() if x._node is None] + us
    if not outer_grad or (nested_only and not outer_graph([outs, tangents], internal)):
        # under no_grad, or nesting alone brought us here and nothing outside requires grad
        # (jvp(jacrev(f)) on plain tensors): constants, as PyTorch's
        outs, tangents, aux = detached(outs), detached(tangents), detached(aux)
    return outs, tangents, spec, aux


def _push(gs: list, keys: list, where: dict, us: list, outs: list, live: list, op: str, strict: bool) -> list:
    """The tangent of every output for the direction ``where`` (key -> tangent; a key missing:
    no tangent): ``J v = d<g, v>/du``, recorded, from the recorded ``g = J^T u`` (``gs`` per
    key, ``us`` per live output)."""
    pairs = [(g, where[k]) for g, k in zip(gs, keys) if k in where and g is not None and g.requires_grad]
    ts = (
        functional.grad(
            [g for g, _ in pairs], us, [v for _, v in pairs], create_graph=True, allow_unused=True
        )
        if pairs
        else [None] * len(us)
    )
    tangents = [None] * len(outs)
    for n, t in zip(live, ts):
        tangents[n] = t
    for n, o in enumerate(outs):
        if tangents[n] is None:
            if strict:
                raise GraphError(
                    f"{op}: expected every output of f to depend on the primals with strict=True, got "
                    f"an output of shape {tuple(o.shape)} independent of them"
                )
            tangents[n] = zeros_like(o)
    return tangents


def _root_edge(x: Tensor) -> object:
    """The gradient edge of the memory's owner of primal ``x`` (a view of the caller's tensor) as
    it is before ``f`` runs, or None where it needs no grad.

    ``f`` may write its primal in place (``a.mul_(2)``): glassgrad then rebases the owner, whose new
    graph reaches the old value through the owner's old node, not through ``x``'s (as PyTorch's
    ``CopySlices``). ``J v`` is taken at the value f was given (PyTorch's dual tangent follows the
    write), so the gradient is read at that old node instead."""
    root = x._base if x._base is not None else x
    whole = x.shape == root.shape and x.stride() == root.stride()
    if not root.requires_grad or not (whole or root.is_contiguous()):  # (_of_primal reads C order)
        return None
    return get_gradient_edge(root)


def _of_primal(g_root: Tensor, x: Tensor) -> Tensor:
    """The part of the owner's gradient ``g_root`` (the owner's shape) that belongs to primal ``x``
    (a view of the owner: ``x``'s shape)."""
    root = x._base
    if root is None or (x.shape == root.shape and x.stride() == root.stride()):
        return g_root
    return g_root.contiguous().as_strided(
        tuple(x.shape), x.stride(), x.storage_offset() - root.storage_offset()
    )
