"""Whole-Jacobian tools: ``jacobian(fn, x)``, ``vjp(fn, x, v)``, ``jvp(fn, x, v)`` (by forward-mode
AD), ``grad(outputs, inputs)`` and ``backward(tensors)`` (several outputs in one pass)."""

from __future__ import annotations

from typing import Any, Callable

import numpy as np

from glassgrad.autograd import functional_checks as checks
from glassgrad.autograd import functional_second as second
from glassgrad.autograd import recorded
from glassgrad.autograd.batched_grad import batched_grad
from glassgrad.autograd.complex_gate import check_seed
from glassgrad.autograd.engine import _run_hooks, backward_roots, check_seed_device, run_backward
from glassgrad.autograd.engine_modes import keeps_graph
from glassgrad.autograd.grad_mode import enable_grad
from glassgrad.autograd.gradient_edge import backward_seeds, resolve
from glassgrad.autograd.tensor_hook_run import with_seeds
from glassgrad.errors import ArgumentAssertionError, GraphError, ShapeError
from glassgrad.meta_array import MetaArray, meta_array

hessian, hvp, vhp = second.hessian, second.hvp, second.vhp

__all__ = ["jacobian", "vjp", "jvp", "grad", "backward", "hessian", "hvp", "vhp"]


def _prepare(op: str, x: Any) -> tuple[tuple, bool]:
    is_tuple, xs = checks.as_tuple(op, x, "inputs")
    return tuple(second.fresh_leaf(t) for t in xs), not is_tuple


def seed_list(op: str, outs: list, seeds: Any) -> list:
    """One seed (or None) per output, as given; PyTorch's error when the counts differ."""
    from glassgrad.tensor import Tensor

    if seeds is None:
        return [None] * len(outs)
    seeds = [seeds] if isinstance(seeds, Tensor) else list(seeds)
    if len(seeds) != len(outs):
        raise RuntimeError(f"{op}: got {len(outs)} tensors and {len(seeds)} gradients")
    return seeds


def _roots(op: str, outs: list, seeds: Any, copy: bool = False) -> list:
    """``(output, seed array)`` pairs: a given seed of the output's shape (cast to its dtype; a copy
    with ``copy``, for seeds that may become a leaf's ``.grad``), or ones for a one-element output."""
    from glassgrad.tensor import Tensor

    roots = []
    for o, g in zip(outs, seed_list(op, outs, seeds)):
        if g is None:
            if o._data.size != 1 or o._data.dtype.kind == "c":
                raise GraphError(
                    f"{op}: grad can be implicitly created only for real scalar outputs, got shape "
                    f"{o.shape} {o.dtype}; pass grad_outputs"
                )
            g = np.ones_like(o._data)
        else:
            g = g._data if isinstance(g, Tensor) else np.asarray(g, dtype=o._data.dtype)
            check_seed_device(op, o._data, g)
            check_seed(op, g, o._data)  # a complex seed for a real output: refused, as PyTorch
            if g.shape != o.shape:
                raise ShapeError(f"{op}: expected grad_output of shape {o.shape}, got {g.shape}")
            g = g.astype(o._data.dtype, copy=copy)
        roots.append((o, g))
    return roots


def backward(
    tensors: Any,
    grad_tensors: Any = None,
    retain_graph: bool | None = None,
    create_graph: bool = False,
    grad_variables: Any = None,
    inputs: Any = None,
) -> None:
    """PyTorch's ``torch.autograd.backward``: the sum of ``tensors`` (each weighted by its
    ``grad_tensors`` entry; omitted for one-element tensors) backpropagated in one pass into the
    leaves' ``.grad``, or into ``inputs``' alone when given, as ``Tensor.backward``."""

    outs = resolve(tensors, "backward", outputs=True)[0]  # (a GradientEdge: its tensor or a stand-in)
    for i, o in enumerate(outs):
        if not o.requires_grad:
            raise GraphError(
                f"backward: element {i} of tensors does not require grad and does not have a grad_fn"
            )
    seeds = backward_seeds(grad_tensors, grad_variables)
    if create_graph:  # recorded gradients (autograd/recorded.py)
        recorded.warn_leaf_cycle()
        roots = [
            (o, recorded.seed("backward", o, g)) for o, g in zip(outs, seed_list("backward", outs, seeds))
        ]
        return backward_roots(roots, True if retain_graph is None else retain_graph, inputs, True)
    roots = _roots("backward", outs, seeds, copy=True)
    with_seeds(roots, seeds, lambda: backward_roots(roots, bool(retain_graph), inputs))


def grad(
    outputs: Any,
    inputs: Any,
    grad_outputs: Any = None,
    retain_graph: bool | None = None,
    create_graph: bool = False,
    only_inputs: bool = True,
    allow_unused: bool | None = None,
    is_grads_batched: bool = False,
    materialize_grads: bool = False,
) -> tuple:
    """d(outputs)/d(inputs), weighted by ``grad_outputs``; ``.grad`` attributes are not touched.

    An input the outputs do not depend on raises ``GraphError``, unless ``allow_unused=True``
    (its gradient is then None) or ``materialize_grads=True`` (zeros), as in PyTorch. An output
    that does not require grad (made under ``no_grad``, or a constant) raises ``GraphError`` (a
    ``RuntimeError``) whatever those flags say, also as in PyTorch.
    ``create_graph=True`` gives gradients with a graph of their own (``autograd/recorded.py``), to
    differentiate again; ``is_grads_batched=True`` reads the first dim of every ``grad_outputs``
    tensor as a batch of weightings and returns a batch of gradients (one backward per batch item,
    where PyTorch vmaps the backward).

    Returns a tuple with one array-backed Tensor (or None) per input.
    """
    from glassgrad.tensor import Tensor

    if is_grads_batched:
        return batched_grad(
            grad, outputs, inputs, grad_outputs, retain_graph, create_graph, allow_unused, materialize_grads
        )
    if materialize_grads and allow_unused is False:
        raise ValueError(
            "grad: expected allow_unused to be True or None with materialize_grads=True, got False"
        )
    allow_unused = bool(allow_unused) or materialize_grads
    retain_graph = create_graph if retain_graph is None else bool(retain_graph)
    retain_graph = retain_graph or keeps_graph()  # inside vmap's loop, before its last item

    outs = resolve(outputs, "grad", outputs=True)[0]  # (a GradientEdge: its tensor or a stand-in)
    ins, edges = resolve(inputs, "grad")
    # checked first, as PyTorch does: else allow_unused/materialize_grads would answer None/zeros
    # for an output made under no_grad, and the "input not used" error would blame the input
    for i, o in enumerate(outs):
        if not o.requires_grad:
            raise GraphError(
                f"grad: expected outputs that require grad, got output {i} of shape {o.shape} "
                "that does not (it has no grad_fn: made under no_grad or from tensors without "
                "requires_grad)"
            )
    if create_graph:  # seeds and gradients are recorded Tensors (autograd/recorded.py)
        roots = [
            (o, recorded.seed("grad", o, g)) for o, g in zip(outs, seed_list("grad", outs, grad_outputs))
        ]
    else:
        roots = _roots("grad", outs, grad_outputs)
    for i, t in enumerate(ins):  # else allow_unused would hand back None for it, hiding the mistake
        if not t.requires_grad:
            raise GraphError(
                f"grad: expected inputs that require grad, got input {i} of shape {t.shape} that does not"
            )
    sparse = {i: t for i, t in enumerate(ins) if getattr(t, "_vals", None) is not None}
    if sparse:  # autograd runs through a sparse tensor's values: its gradient is theirs, made sparse
        ins = [t._vals if i in sparse else t for i, t in enumerate(ins)]
    run = lambda: run_backward(roots, retain_graph=retain_graph, inputs=ins, create_graph=create_graph)  # noqa: E731
    found = run() if create_graph else with_seeds(roots, grad_outputs, run)
    result = []
    for t in ins:
        entry = found.get(id(t))
        if entry is None:
            if materialize_grads and id(t) in edges:
                raise RuntimeError("materialize_grads cannot be used when the given input is a GradientEdge")
            if materialize_grads:  # requiring grad under create_graph, as PyTorch's (BackPACK's R_op
                # differentiates the materialized zeros again)
                result.append(Tensor(np.zeros_like(t._data), _wrap=True).requires_grad_(create_graph))
                continue
            if allow_unused:
                result.append(None)
                continue
            raise GraphError(
                f"grad: an input of shape {t.shape} was not used to compute the outputs "
                "(pass allow_unused=True to get None for it)"
            )
        g = entry[1]
        if t._node is None and t._hooks:
            g = _run_hooks(t._hooks, g)  # a leaf's hooks see its gradient, as in backward()
        # each gradient in its input's dtype (a float64 op downstream must not upcast float32)
        if t._data.__class__ is MetaArray:  # backward on meta gave a stand-in: the gradient is meta
            result.append(Tensor(meta_array(t.shape, t._data.dtype), _wrap=True))
            continue
        # A contiguous input's gradient comes back contiguous, as PyTorch's formulas give it: an
        # op's VJP may hand back a transposed view (a weight gradient taken as (b a^T)^T), and
        # HVP/MAML code flattens autograd.grad's results with .view(-1)
        dense = t._data.flags.c_contiguous
        if g.__class__ is Tensor:  # a recorded gradient (create_graph)
            g = g.to(t.dtype) if g.dtype != t.dtype else g
            result.append(g.contiguous() if dense and not g._data.flags.c_contiguous else g)
            continue
        g = np.asarray(g).astype(t._data.dtype, copy=False)
        result.append(Tensor(g.copy() if dense and not g.flags.c_contiguous else g, _wrap=True))
    for i, s in sparse.items():
        if result[i] is not None:
            result[i] = s._grad_of_values(result[i])
    return tuple(result)


def jacobian(
    func: Callable,
    inputs: Any,
    create_graph: bool = False,
    strict: bool = False,
    vectorize: bool = False,
    strategy: str = "reverse-mode",
) -> Any:
    """The Jacobian of ``func`` at ``inputs``, one backward per output element; PyTorch's signature.

    ``create_graph=True`` gives a Jacobian with a graph back to ``inputs``; ``strict=True``
    refuses an input the output does not depend on (else its Jacobian is zeros). ``vectorize`` and
    ``strategy`` only choose how PyTorch computes the same matrix: checked as PyTorch checks them
    (not ``strict`` with ``vectorize``; forward mode only vectorized), then the same loop runs.

    Shape:
        For one input ``x`` and output ``y``: ``y.shape + x.shape``. For several inputs a tuple
        with one such Jacobian per input.

    >>> import glassgrad as gg
    >>> s = lambda x: x.softmax(0)
    >>> J = gg.autograd.functional.jacobian(s, gg.tensor([2.0, 1.0, 0.1], dtype=gg.float64))
    >>> tuple(J.shape)
    (3, 3)
    """

    second.refuse_in_transform("jacobian", create_graph)
    if strategy not in ("forward-mode", "reverse-mode"):  # PyTorch asserts
        raise ArgumentAssertionError(
            f'jacobian: expected strategy "forward-mode" or "reverse-mode", got {strategy!r}'
        )
    if strict and vectorize:  # refused as PyTorch refuses them (its vectorized path cannot tell)
        raise RuntimeError("jacobian: strict=True and vectorize=True are not supported together")
    if strategy == "forward-mode" and not vectorize:
        raise NotImplementedError('jacobian: strategy="forward-mode" is only implemented for vectorize=True')
    if create_graph:
        return second.jacobian_graph(func, inputs, strict)
    xs, single = _prepare("jacobian", inputs)
    with enable_grad():
        y = func(*xs)
    # a tuple of outputs: a tuple of Jacobians, as PyTorch's
    out_tuple, ys = checks.as_tuple("jacobian", y, "outputs of the user-provided function")
    checks.check_requires_grad("jacobian", ys, "outputs", strict)
    rows = []
    for i, o in enumerate(ys):  # strict: each output must depend on each input
        reached: set = set()
        rows.append(_jacobian_rows(o, xs, reached, strategy == "forward-mode"))
        _check_strict("jacobian", strict, reached, len(xs), i)
    rows = tuple(r[0] if single else r for r in rows)
    return rows if out_tuple else rows[0]


def _jacobian_rows(y: Any, xs: tuple, reached: set, forward: bool = False) -> tuple:
    """One output's Jacobian with respect to each of ``xs`` (one backward per output element), in
    the dtype PyTorch's strategy gives: the input's by reverse mode (its rows are gradients of the
    input), the output's by forward mode (its columns are tangents of the output)."""
    from glassgrad.tensor import Tensor

    if y._data.dtype.kind == "c":  # one-hot real seeds would give conj(dy/dx): PyTorch refuses
        raise GraphError(
            "jacobian: grad can be implicitly created only for real scalar outputs, got a "
            f"{y.dtype} output; take the Jacobian of view_as_real(func(...))"
        )
    # a complex input's rows are complex (its gradients: dL/dx + i dL/dy), as PyTorch's
    jac = [
        np.zeros(
            (y._data.size,) + x.shape,
            dtype=y._data.dtype if forward and not x.is_complex() else x._data.dtype,
        )
        for x in xs
    ]
    if y.requires_grad:
        for k in range(y._data.size):
            seed = np.zeros(y._data.size, dtype=y._data.dtype)
            seed[k] = 1
            found = run_backward([(y, seed.reshape(y.shape))], retain_graph=True, inputs=list(xs))
            for j, x in enumerate(xs):
                entry = found.get(id(x))
                if entry is not None:
                    jac[j][k] = entry[1]
                    reached.add(j)
    return tuple(Tensor(J.reshape(y.shape + x.shape), _wrap=True) for J, x in zip(jac, xs))


def vjp(
    func: Callable, inputs: Any, v: Any = None, create_graph: bool = False, strict: bool = False
) -> tuple:
    """``(func(inputs), v^T J)``: the output and the vector-Jacobian product with ``v``; PyTorch's
    signature (``create_graph=True``: both with a graph; ``strict=True`` refuses an input ``func`` ignores)."""
    from glassgrad.tensor import Tensor

    second.refuse_in_transform("vjp", create_graph)
    if create_graph:
        return second.vjp_graph(func, inputs, v, strict)
    xs, single = _prepare("vjp", inputs)
    with enable_grad():
        y = func(*xs)
    out_tuple, ys = checks.as_tuple("vjp", y, "outputs of the user-provided function")
    checks.check_requires_grad("vjp", ys, "outputs", strict)
    if v is None:  # ones only for one one-element output, else a silent sum over its elements
        if len(ys) != 1 or ys[0].numel() != 1:
            raise checks.v_none_error("vjp", True)
        vs = (np.ones_like(ys[0]._data),)
    else:
        vs = checks.as_tuple("vjp", v, "v")[1]
        checks.validate_v("vjp", vs, ys, out_tuple)
        vs = tuple(t._data.astype(o._data.dtype, copy=False) for t, o in zip(vs, ys))
    roots = [(o, t) for o, t in zip(ys, vs) if o.requires_grad]
    found = run_backward(roots, retain_graph=False, inputs=list(xs)) if roots else {}
    grads = tuple(Tensor(found[id(x)][1], _wrap=True) if id(x) in found else None for x in xs)
    grads = checks.fill_in_zeros("vjp", grads, xs, strict, False, "back")
    outs = tuple(o.detach() for o in ys)
    return (outs if out_tuple else outs[0]), (grads[0] if single else grads)


def jvp(
    func: Callable, inputs: Any, v: Any = None, create_graph: bool = False, strict: bool = False
) -> tuple:
    """``(func(inputs), J v)``: the output and the Jacobian-vector product with ``v``, computed in
    one forward pass with forward-mode AD (``autograd.forward_ad``); PyTorch's signature.

    ``v`` may be None only for one input with one element (then v = 1). An output that does not
    depend on the inputs gets a zero JVP (PyTorch's ``strict=False``; ``strict=True`` raises).

    Shape:
        inputs: a Tensor or a tuple of them; v: the same structure and shapes. Returns the outputs
        (detached) and, per output, a JVP of that output's shape, in func's structure.

    >>> import glassgrad as gg
    >>> out, t = gg.autograd.functional.jvp(lambda x: x ** 2, gg.tensor([3.0]), gg.tensor([1.0]))
    >>> t
    tensor([6.])
    """
    from glassgrad.autograd import forward_ad as fwAD
    from glassgrad.tensor import Tensor

    second.refuse_in_transform("jvp", create_graph)
    if create_graph or strict:  # by double backward, so that J v has a graph (strict: so that the
        # outputs' and first gradients' graphs can be checked, as PyTorch's)
        return second.jvp_graph(func, inputs, v, strict, create_graph)
    in_tuple, xs = checks.as_tuple("jvp", inputs, "inputs")
    if v is None:
        if len(xs) != 1 or xs[0]._data.size != 1:
            raise checks.v_none_error("jvp", False)
        vs = (Tensor(np.ones_like(xs[0]._data), _wrap=True),)
    else:
        vs = checks.as_tuple("jvp", v, "v")[1]
        checks.validate_v("jvp", vs, xs, in_tuple)
    with fwAD.dual_level():
        out = func(*(fwAD.make_dual(x.detach(), t.detach()) for x, t in zip(xs, vs)))
        out_tuple, outs = checks.as_tuple("jvp", out, "outputs of the user-provided function")
        prims, tans = [], []
        for o in outs:
            primal, tangent = fwAD.unpack_dual(o)
            if tangent is None:
                tangent = Tensor(np.zeros_like(o._data), _wrap=True)
            prims.append(primal.detach())
            tans.append(Tensor(tangent._data, _wrap=True))
    if not out_tuple:
        return prims[0], tans[0]
    return tuple(prims), tuple(tans)


def _check_strict(op: str, strict: bool, reached: set, n: int, out: int = 0) -> None:
    """PyTorch's ``strict=True``: an input the output does not depend on is an error, not zeros."""
    for j in range(n):
        if strict and j not in reached:
            raise GraphError(
                f"{op}: Output {out} of the user-provided function is independent of input {j}. This is "
                "not allowed in strict mode."
            )
