"""Second derivatives from double backward: ``hessian``, ``hvp``, ``vhp``, and ``jacobian``,
``vjp``, ``jvp`` with ``create_graph=True`` (``autograd/functional.py`` hands those here).

All of them take a first gradient with ``create_graph=True`` (``autograd/recorded.py``), so the
gradient is itself a function of the inputs, and differentiate it once more:

- Hessian: H[i][j] = d(grad_i f)/d x_j, one backward per element of grad_i f;
- ``hvp``: H v = d<grad f, v>/dx (one extra backward), ``vhp``: v^T H, the same for the symmetric
  Hessian of a twice-differentiable f;
- ``jvp``: J v by the double-backward trick: u -> J^T u is linear in u, so J v = d<J^T u, v>/du.
"""

from __future__ import annotations

from typing import Any, Callable

import numpy as np

from glassgrad.autograd.grad_mode import enable_grad
from glassgrad.errors import GraphError, ShapeError

__all__ = ["hessian", "hvp", "vhp", "jacobian_graph", "vjp_graph", "jvp_graph", "refuse_in_transform"]

#: the glassgrad.func transforms whose function may not call autograd.functional without create_graph
_REVERSE = frozenset({"grad", "grad_and_value", "vjp", "jacrev"})


def refuse_in_transform(op: str, create_graph: bool) -> None:
    """PyTorch's refusal of ``torch.autograd.functional.<op>`` (without ``create_graph``) inside the
    function of a reverse transform (``grad``, ``vjp``, ``jacrev``, ``hessian``): its result is a
    constant there, so the transform would return zeros for it, silently (round 66)."""
    from glassgrad.autograd import custom

    active = custom.transforms[0]
    if create_graph or active is None or active.name not in _REVERSE:
        return
    raise GraphError(
        "You are attempting to call Tensor.requires_grad_() (or perhaps using "
        f"torch.autograd.functional.* API: here {op}) inside of a function being transformed by a "
        f"functorch transform ({active.name}). This is unsupported, please attempt to use the "
        "functorch transforms (e.g. torch.func.grad, torch.func.jacrev) instead, or pass "
        "create_graph=True so that the result stays differentiable"
    )


def _tensor() -> type:
    from glassgrad.tensor import Tensor

    return Tensor


def fresh_leaf(x: Any) -> Any:
    """A new leaf over ``x``'s memory that requires grad. A subclass's (pypose's LieTensor) comes
    from ``x.detach()``, which asks its ``__torch_function__`` as PyTorch's ``_grad_preprocess``
    does, so ``fn`` sees the subclass (and its metadata) as in PyTorch; a plain Tensor's is made
    directly (port round 37)."""
    tensor = _tensor()
    if type(x) is tensor:
        return tensor(x._data, _wrap=True).requires_grad_()
    return x.detach().requires_grad_()


def _inputs(inputs: Any, create_graph: bool) -> tuple[tuple, bool]:
    """``inputs`` as the tensors to differentiate at: with ``create_graph`` an input that requires
    grad stays in its graph (a view of it), so the result can be differentiated w.r.t. it, as
    PyTorch's; every other one is a fresh leaf that requires grad."""
    tensor = _tensor()
    single = isinstance(inputs, tensor)
    xs = (inputs,) if single else tuple(inputs)
    for i, x in enumerate(xs):
        if not isinstance(x, tensor):
            raise TypeError(f"expected inputs to be Tensors, got {type(x).__name__} for input {i}")
    with enable_grad():
        out = tuple(x.view_as(x) if create_graph and x.requires_grad else fresh_leaf(x) for x in xs)
    return out, single


def _grads(outputs: Any, xs: tuple, seeds: Any, create_graph: bool) -> tuple:
    """``autograd.grad`` over the outputs that require grad (a constant one contributes nothing;
    ``grad`` itself refuses it, as PyTorch's does); all None when none does."""
    from glassgrad.autograd.functional import grad

    tensor = _tensor()
    outs = [outputs] if isinstance(outputs, tensor) else list(outputs)
    vs = [seeds] * len(outs) if seeds is None or isinstance(seeds, tensor) else list(seeds)
    live = [(o, v) for o, v in zip(outs, vs) if o.requires_grad]
    if not live:
        return (None,) * len(xs)
    if seeds is None:
        return grad(
            [o for o, _ in live], xs, None, retain_graph=True, create_graph=create_graph, allow_unused=True
        )
    return grad(
        [o for o, _ in live],
        xs,
        [v for _, v in live],
        retain_graph=True,
        create_graph=create_graph,
        allow_unused=True,
    )


def _zeros_for(gs: tuple, xs: tuple) -> tuple:
    tensor = _tensor()
    return tuple(g if g is not None else tensor(np.zeros_like(x._data), _wrap=True) for g, x in zip(gs, xs))


def _strict(op: str, strict: bool, gs: tuple, graph: bool = False) -> None:
    """PyTorch's ``strict=True``: a gradient that is None, or (``graph``: where it must be
    differentiated again) one without a graph, is an error, not zeros."""
    if strict:
        for j, g in enumerate(gs):
            if g is None:
                raise GraphError(f"{op}: the output is independent of input {j}, which strict=True refuses")
            if graph and not g.requires_grad:
                raise GraphError(
                    f"{op}: the gradient with respect to input {j} is independent of the inputs (e.g. a "
                    "linear function), which strict=True refuses"
                )


def _check_v(op: str, xs: tuple, vs: tuple) -> None:
    if len(vs) != len(xs):
        raise ValueError(f"{op}: expected one v per input ({len(xs)}), got {len(vs)}")
    for x, t in zip(xs, vs):
        if tuple(t.shape) != tuple(x.shape):
            raise ShapeError(f"{op}: expected v of the input's shape {tuple(x.shape)}, got {tuple(t.shape)}")


def _scalar(op: str, y: Any) -> None:
    if not isinstance(y, _tensor()) or y._data.size != 1:
        shape = tuple(y.shape) if isinstance(y, _tensor()) else type(y).__name__
        raise ShapeError(f"{op}: expected func to return a Tensor with a single element, got {shape}")


def jacobian_graph(fn: Callable, inputs: Any, strict: bool = False) -> Any:
    """``jacobian(fn, inputs, create_graph=True)``: each row one recorded backward, so the
    Jacobian has a graph back to ``inputs``. Shape: ``y.shape + x.shape`` per input."""
    from glassgrad.ops.joining import stack

    tensor = _tensor()
    xs, single = _inputs(inputs, True)
    with enable_grad():
        y = fn(*xs)
    if not isinstance(y, tensor):
        raise TypeError(f"jacobian: expected fn to return one Tensor, got {type(y).__name__}")
    rows: list[list] = [[] for _ in xs]
    reached: set = set()
    for k in range(y._data.size):
        seed = np.zeros(y._data.size, dtype=y._data.dtype)
        seed[k] = 1
        gs = (
            _grads(y, xs, tensor(seed.reshape(y.shape), _wrap=True), True)
            if y.requires_grad
            else (None,) * len(xs)
        )
        reached.update(j for j, g in enumerate(gs) if g is not None)
        _strict("jacobian", strict, tuple(True if g is None else g for g in gs), True)
        for j, g in enumerate(_zeros_for(gs, xs)):
            rows[j].append(g)
    if strict:
        _strict("jacobian", True, tuple(None if j not in reached else True for j in range(len(xs))))
    out = tuple(
        stack(r).reshape(tuple(y.shape) + tuple(x.shape))
        if r
        else tensor(np.zeros(tuple(y.shape) + tuple(x.shape)), _wrap=True)
        for r, x in zip(rows, xs)
    )
    return out[0] if single else out


def vjp_graph(fn: Callable, inputs: Any, v: Any = None, strict: bool = False) -> tuple:
    """``vjp(fn, inputs, v, create_graph=True)``: the output and v^T J with a graph."""
    xs, single = _inputs(inputs, True)
    with enable_grad():
        y = fn(*xs)
    gs = _grads(y, xs, v, True) if y.requires_grad else (None,) * len(xs)
    _strict("vjp", strict, gs, True)
    gs = _zeros_for(gs, xs)
    return y, (gs[0] if single else gs)


def jvp_graph(func: Callable, inputs: Any, v: Any = None, strict: bool = False) -> tuple:
    """``jvp(func, inputs, v, create_graph=True)``: J v by the double-backward trick (u -> J^T u
    is linear in u; J v = d<J^T u, v>/du), with a graph back to ``inputs`` and ``v``."""
    tensor = _tensor()
    xs, _ = _inputs(inputs, True)
    vs = (v,) if isinstance(v, tensor) else tuple(v) if v is not None else None
    if vs is None:
        if len(xs) != 1 or xs[0]._data.size != 1:
            raise ValueError("jvp: v can be None only for a single input with one element")
        vs = (tensor(np.ones_like(xs[0]._data), _wrap=True),)
    _check_v("jvp", xs, vs)
    with enable_grad():
        out = func(*xs)
    outs = (out,) if isinstance(out, tensor) else tuple(out)
    us = tuple(tensor(np.zeros_like(o._data), _wrap=True).requires_grad_() for o in outs)
    live = [(o, u) for o, u in zip(outs, us) if o.requires_grad]
    if live:
        gs = _grads([o for o, _ in live], xs, [u for _, u in live], True)
        _strict("jvp", strict, gs)
        pairs = [(g, w) for g, w in zip(gs, vs) if g is not None]
    else:
        pairs = []
    if pairs:
        tans = _grads([g for g, _ in pairs], [u for _, u in live], [w for _, w in pairs], True)
        it = iter(tans)
        tans = tuple(next(it) if o.requires_grad else None for o in outs)
    else:
        tans = (None,) * len(outs)
    if strict and any(t is None for t in tans):
        raise GraphError("jvp: an output does not depend on the inputs (strict=True)")
    tans = tuple(
        t if t is not None else tensor(np.zeros_like(o._data), _wrap=True) for t, o in zip(tans, outs)
    )
    return (outs[0], tans[0]) if isinstance(out, tensor) else (tuple(outs), tans)


def hessian(
    func: Callable,
    inputs: Any,
    create_graph: bool = False,
    strict: bool = False,
    vectorize: bool = False,
    outer_jacobian_strategy: str = "reverse-mode",
) -> Any:
    """The Hessian of scalar ``func`` at ``inputs``; PyTorch's signature.

    Shape: for one input ``x``, ``x.shape + x.shape``; for several, a tuple of tuples with
    ``H[i][j]`` of shape ``x_i.shape + x_j.shape``. ``vectorize`` only chooses how PyTorch
    computes the same matrix; ``outer_jacobian_strategy="forward-mode"`` is refused as PyTorch
    refuses it without ``vectorize``.

    >>> import glassgrad as gg
    >>> H = gg.autograd.functional.hessian(lambda x: (x ** 3).sum(), gg.tensor([1.0, 2.0]))
    >>> H
    tensor([[ 6.,  0.],
            [ 0., 12.]])
    """
    refuse_in_transform("hessian", create_graph)
    if outer_jacobian_strategy not in ("forward-mode", "reverse-mode"):
        raise ValueError(
            f'hessian: expected outer_jacobian_strategy "forward-mode" or "reverse-mode", got {outer_jacobian_strategy!r}'
        )
    if outer_jacobian_strategy == "forward-mode" and not vectorize:
        raise NotImplementedError(
            'hessian: outer_jacobian_strategy="forward-mode" is only implemented for vectorize=True'
        )
    tensor = _tensor()
    from glassgrad.ops.joining import stack

    xs, single = _inputs(inputs, create_graph)
    with enable_grad():
        y = func(*xs)
    _scalar("hessian", y)
    gs = _grads(y, xs, None, True) if y.requires_grad else (None,) * len(xs)
    _strict("hessian", strict, gs, True)
    rows = []
    for g, xi in zip(gs, xs):
        blocks = []
        for xj in xs:
            shape = tuple(xi.shape) + tuple(xj.shape)
            if g is None or not g.requires_grad:
                blocks.append(tensor(np.zeros(shape, dtype=xj._data.dtype), _wrap=True))
                continue
            parts = []
            for k in range(g._data.size):
                seed = np.zeros(g._data.size, dtype=g._data.dtype)
                seed[k] = 1
                (h,) = _grads(g, (xj,), tensor(seed.reshape(g.shape), _wrap=True), create_graph)
                parts.append(h if h is not None else tensor(np.zeros_like(xj._data), _wrap=True))
            blocks.append(stack(parts).reshape(shape) if parts else tensor(np.zeros(shape), _wrap=True))
        rows.append(tuple(b if create_graph else b.detach() for b in blocks))
    return rows[0][0] if single else tuple(rows)


def _hv(op: str, func: Callable, inputs: Any, v: Any, create_graph: bool, strict: bool) -> tuple:
    refuse_in_transform(op, create_graph)
    tensor = _tensor()
    xs, single = _inputs(inputs, create_graph)
    vs = (v,) if isinstance(v, tensor) else tuple(v) if v is not None else None
    if vs is None:
        if len(xs) != 1 or xs[0]._data.size != 1:
            raise ValueError(f"{op}: v can be None only for a single input with one element")
        vs = (tensor(np.ones_like(xs[0]._data), _wrap=True),)
    _check_v(op, xs, vs)
    with enable_grad():
        y = func(*xs)
    _scalar(op, y)
    gs = _grads(y, xs, None, True) if y.requires_grad else (None,) * len(xs)
    _strict(op, strict, gs, True)
    live = [(g, w) for g, w in zip(gs, vs) if g is not None and g.requires_grad]
    out = _grads([g for g, _ in live], xs, [w for _, w in live], create_graph) if live else (None,) * len(xs)
    out = _zeros_for(out, xs)
    if not create_graph:
        out = tuple(o.detach() for o in out)
    return (y if create_graph else y.detach()), (out[0] if single else out)


def hvp(
    func: Callable, inputs: Any, v: Any = None, create_graph: bool = False, strict: bool = False
) -> tuple:
    """``(func(inputs), H v)``, H the Hessian of scalar ``func``; PyTorch's signature."""
    return _hv("hvp", func, inputs, v, create_graph, strict)


def vhp(
    func: Callable, inputs: Any, v: Any = None, create_graph: bool = False, strict: bool = False
) -> tuple:
    """``(func(inputs), v^T H)``, H the Hessian of scalar ``func``; PyTorch's signature. The
    Hessian of a twice continuously differentiable f is symmetric, so this is ``hvp``'s H v."""
    return _hv("vhp", func, inputs, v, create_graph, strict)
