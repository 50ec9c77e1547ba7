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

import contextlib
from typing import Any, Callable

import numpy as np

from glassgrad.autograd import functional_checks as checks
from glassgrad.autograd.grad_mode import enable_grad
from glassgrad.errors import ArgumentAssertionError, GraphError

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


def _inputs(op: str, inputs: Any, create_graph: bool) -> tuple[tuple, bool]:
    """``inputs`` as the tensors to differentiate at: with ``create_graph`` an input that requires
    grad stays in its graph (a view of it), so the result can be differentiated w.r.t. it, as
    PyTorch's; every other one is a fresh leaf that requires grad. Anything but a Tensor or a
    tuple of them is PyTorch's ``TypeError``."""
    is_tuple, xs = checks.as_tuple(op, inputs, "inputs")
    with enable_grad():
        out = tuple(x.view_as(x) if create_graph and x.requires_grad else fresh_leaf(x) for x in xs)
    return out, not is_tuple


def _vectors(op: str, v: Any, refs: tuple, refs_tuple: bool, of_output: bool, create_graph: bool) -> tuple:
    """``v`` as one tensor per entry of ``refs`` (checked as PyTorch checks it); None is a ones
    seed, allowed only for one entry with one element. One that requires grad keeps its graph
    under ``create_graph`` (the result is differentiable w.r.t. it, as PyTorch's)."""
    tensor = _tensor()
    if v is None:
        if len(refs) != 1 or refs[0].numel() != 1:
            raise checks.v_none_error(op, of_output)
        return (tensor(np.ones_like(refs[0]._data), _wrap=True),)
    _, vs = checks.as_tuple(op, v, "v")
    checks.validate_v(op, vs, refs, refs_tuple)
    return tuple(t if create_graph and t.requires_grad else t.detach() for t in vs)


def _grads(outputs: Any, xs: tuple, seeds: Any, create_graph: bool) -> tuple:
    """``autograd.grad`` over the outputs that require grad (a constant one contributes nothing;
    ``grad`` itself refuses it, as PyTorch's does); all None when none does."""
    from glassgrad.autograd.functional import grad

    tensor = _tensor()
    outs = [outputs] if isinstance(outputs, tensor) else list(outputs)
    vs = [seeds] * len(outs) if seeds is None or isinstance(seeds, tensor) else list(seeds)
    live = [(o, v) for o, v in zip(outs, vs) if o is not None and o.requires_grad]
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


def _post(ts: tuple, create_graph: bool) -> tuple:
    """Results keep their graph only under ``create_graph`` (PyTorch's ``_grad_postprocess``)."""
    return ts if create_graph else tuple(t.detach() for t in ts)


def jacobian_graph(fn: Callable, inputs: Any, strict: bool = False) -> Any:
    """``jacobian(fn, inputs, create_graph=True)``: each row one recorded backward, so the
    Jacobian has a graph back to ``inputs``; recorded under ``no_grad`` too, as PyTorch's.

    Shape: ``y.shape + x.shape`` per output ``y`` and input ``x``: one Jacobian for one of each, a
    tuple over inputs (or outputs) for several, a tuple of tuples (output-major) for both.
    """
    from glassgrad.ops.joining import stack

    tensor = _tensor()
    with enable_grad():
        xs, single = _inputs("jacobian", inputs, True)
        out = fn(*xs)
        out_tuple, ys = checks.as_tuple("jacobian", out, "outputs of the user-provided function")
        checks.check_requires_grad("jacobian", ys, "outputs", strict)
        jacs = []
        for i, y in enumerate(ys):
            rows: list[list] = [[] for _ in xs]
            for k in range(y._data.size):
                seed = np.zeros(y._data.size, dtype=y._data.dtype)
                seed[k] = 1
                gs = _grads(y, xs, tensor(seed.reshape(y.shape), _wrap=True), True)
                for j, g in enumerate(gs):
                    if g is None and strict:
                        raise GraphError(
                            f"jacobian: Output {i} of the user-provided function is independent of input "
                            f"{j}. This is not allowed in strict mode."
                        )
                gs = checks.fill_in_zeros("jacobian", gs, xs, strict, True, "back")
                for j, g in enumerate(gs):
                    rows[j].append(g)
            jacs.append(
                tuple(
                    stack(r).reshape(tuple(y.shape) + tuple(x.shape))
                    if r
                    else tensor(np.zeros(tuple(y.shape) + tuple(x.shape), dtype=x._data.dtype), _wrap=True)
                    for r, x in zip(rows, xs)
                )
            )
    jacs = [j[0] if single else j for j in jacs]
    return tuple(jacs) if out_tuple else jacs[0]


def vjp_graph(fn: Callable, inputs: Any, v: Any = None, strict: bool = False) -> tuple:
    """``vjp(fn, inputs, v, create_graph=True)``: the output(s) and v^T J with a graph, recorded
    under ``no_grad`` too, as PyTorch's. Shape: v as the outputs; v^T J as the inputs."""
    with enable_grad():
        xs, single = _inputs("vjp", inputs, True)
        out = fn(*xs)
        out_tuple, ys = checks.as_tuple("vjp", out, "outputs of the user-provided function")
        checks.check_requires_grad("vjp", ys, "outputs", strict)
        vs = _vectors("vjp", v, ys, out_tuple, True, True)
        gs = checks.fill_in_zeros("vjp", _grads(ys, xs, vs, True), xs, strict, True, "back")
    return (ys if out_tuple else ys[0]), (gs[0] if single else gs)


def jvp_graph(
    func: Callable, inputs: Any, v: Any = None, strict: bool = False, create_graph: bool = True
) -> tuple:
    """``jvp(func, inputs, v, create_graph=True)`` (and ``strict=True``, whose checks need the
    reverse graph): J v by the double-backward trick (u -> J^T u is linear in u; J v =
    d<J^T u, v>/du), with a graph back to ``inputs`` and ``v`` under ``create_graph``, as
    PyTorch's. Shape: v as the inputs; J v as the outputs."""
    tensor = _tensor()
    with enable_grad():
        xs, single = _inputs("jvp", inputs, create_graph)
        vs = _vectors("jvp", v, xs, not single, False, create_graph)
        out = func(*xs)
        out_tuple, outs = checks.as_tuple("jvp", out, "outputs of the user-provided function")
        checks.check_requires_grad("jvp", outs, "outputs", strict)
        us = tuple(tensor(np.zeros_like(o._data), _wrap=True).requires_grad_() for o in outs)
        gs = _grads(outs, xs, us, True)
        checks.check_requires_grad("jvp", gs, "grad_inputs", strict)
        tans = _grads(gs, us, vs, create_graph)
        tans = checks.fill_in_zeros("jvp", tans, outs, strict, create_graph, "back_trick")
    outs, tans = _post(outs, create_graph), _post(tans, create_graph)
    return (outs, tans) if out_tuple else (outs[0], tans[0])


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
    refuses it without ``vectorize``, and ``strict`` with ``vectorize`` as PyTorch refuses it.

    >>> import glassgrad as gg
    >>> H = gg.autograd.functional.hessian(lambda x: (x ** 3).sum(), gg.tensor([1.0, 2.0]))
    >>> H
    tensor([[ 6.,  0.],
            [ 0., 12.]])
    """
    refuse_in_transform("hessian", create_graph)
    if outer_jacobian_strategy not in ("forward-mode", "reverse-mode"):
        raise ArgumentAssertionError(
            f'hessian: expected outer_jacobian_strategy "forward-mode" or "reverse-mode", got {outer_jacobian_strategy!r}'
        )
    if strict and vectorize:  # PyTorch's vectorized outer Jacobian cannot tell
        raise GraphError("hessian: strict=True and vectorize=True are not supported together")
    if outer_jacobian_strategy == "forward-mode" and not vectorize:
        raise NotImplementedError(
            'hessian: outer_jacobian_strategy="forward-mode" is only implemented for vectorize=True'
        )
    tensor = _tensor()
    from glassgrad.ops.joining import stack

    # PyTorch's hessian is a jacobian(create_graph=True) of jacobians: recorded under no_grad too
    with enable_grad() if create_graph else contextlib.nullcontext():
        xs, single = _inputs("hessian", inputs, create_graph)
        with enable_grad():
            y = checks.single_output("hessian", func(*xs), strict)
            gs = _grads(y, xs, None, True)
        checks.check_requires_grad(
            "hessian", checks.fill_in_zeros("hessian", gs, xs, False, False, "back"), "jacobian", strict
        )
        rows = []
        for i, (g, xi) in enumerate(zip(gs, xs)):
            blocks = []
            for j, xj in enumerate(xs):
                shape = tuple(xi.shape) + tuple(xj.shape)
                if g is None or not g.requires_grad:
                    blocks.append(tensor(np.zeros(shape, dtype=xj._data.dtype), _wrap=True))
                    continue
                parts = []
                for k in range(g._data.size):
                    seed = np.zeros(g._data.size, dtype=g._data.dtype)
                    seed[k] = 1
                    (h,) = _grads(g, (xj,), tensor(seed.reshape(g.shape), _wrap=True), create_graph)
                    if h is None and strict:  # the outer Jacobian's strict check, as PyTorch's
                        raise GraphError(
                            f"hessian: Output {i} of the user-provided function is independent of input "
                            f"{j}. This is not allowed in strict mode."
                        )
                    (h,) = checks.fill_in_zeros("hessian", (h,), (xj,), strict, create_graph, "back")
                    parts.append(h)
                blocks.append(
                    stack(parts).reshape(shape)
                    if parts
                    else tensor(np.zeros(shape, dtype=xj._data.dtype), _wrap=True)
                )
            rows.append(_post(tuple(blocks), create_graph))
    return rows[0][0] if single else tuple(rows)


def _hv(op: str, func: Callable, inputs: Any, v: Any, create_graph: bool, strict: bool) -> tuple:
    refuse_in_transform(op, create_graph)
    # the first gradient always has a graph; the second only under create_graph (then recorded
    # under no_grad too), as PyTorch's
    with enable_grad() if create_graph else contextlib.nullcontext():
        with enable_grad():
            xs, single = _inputs(op, inputs, create_graph)
            vs = _vectors(op, v, xs, not single, False, create_graph)
            y = checks.single_output(op, func(*xs), strict)
            gs = _grads(y, xs, None, True)
            checks.check_requires_grad(op, gs, "jacobian", strict)
        live = [(g, w) for g, w in zip(gs, vs) if g is not None and g.requires_grad]
        out = (
            _grads([g for g, _ in live], xs, [w for _, w in live], create_graph)
            if live
            else (None,) * len(xs)
        )
        stage = "double_back" if op == "vhp" else "double_back_trick"
        out = checks.fill_in_zeros(op, out, xs, strict, create_graph, stage)
    out = _post(out, create_graph)
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
