"""Reverse-mode transforms: ``grad``, ``grad_and_value``, ``vjp``, ``jacrev``, ``hessian`` (by
double backward); and the one glassgrad cannot give, ``vmap``, as a clear error.

Each runs on glassgrad's ordinary autograd: the differentiated arguments become fresh leaves that
require grad (sharing memory with what was passed), ``func`` runs with grad mode on, and
``autograd.grad`` takes the gradients. As in PyTorch, a ``no_grad()`` around the transform is
ignored (the transform is a new level of differentiation) and a ``no_grad()`` inside ``func`` is
respected.

Where PyTorch's result is differentiable in the caller's graph (grad mode on at the call, and an
input or a tensor ``func`` uses requires grad), the derivative is recorded by double backward and
the inputs stay linked to the caller's (``derivatives.py``); so reverse transforms nest
(``grad(grad(f))``, ``jacrev(jacrev(f))``, MAML's inner step) as PyTorch's do. Elsewhere the
results are constants. A reverse transform inside a forward one, or inside a dual level, raises
``NotImplementedError`` (forward mode does not see recorded gradients); an op without a recorded
rule turns the result into a constant, with a ``UserWarning`` naming the op (``_levels.py``).
"""

from __future__ import annotations

import functools
import weakref
from typing import Any, Callable

import numpy as np

from glassgrad.autograd.grad_mode import is_grad_enabled
from glassgrad.autograd.transform_leaves import transform_leaves
from glassgrad.errors import ArgumentError, DTypeError, GraphError, ShapeError, TransformArgumentError
from glassgrad.func._levels import (
    check_no_dual_level,
    check_nonempty,
    check_not_nested,
    detached,
    level,
    normalize_argnums,
    outer_graph,
    retire,
    split_aux,
    unflatten_groups,
)
from glassgrad.func.derivatives import derivatives, links
from glassgrad.ops.joining import stack
from glassgrad.random import draws_watched
from glassgrad.tensor import Tensor
from glassgrad.utils._pytree import tree_flatten, tree_unflatten

__all__ = ["grad", "grad_and_value", "vjp", "jacrev", "hessian"]

#: the transforms that differentiate complex inputs, as PyTorch's (jacrev and hessian refuse them)
_COMPLEX_OK = frozenset({"grad", "grad_and_value", "vjp"})


def fresh_leaves(arg: Any, op: str, where: str, link: bool = False) -> tuple[Any, list[Tensor], Any]:
    """``(tree of new leaves, their flat list, spec)`` for one differentiated argument (a pytree;
    ``None`` is a leaf, so a refused one, as PyTorch's; an empty container has no leaves and gets
    an empty derivative, as there); with ``link``, a tensor that requires grad becomes a view of
    itself instead, so a recorded derivative stays in the caller's graph (``derivatives.py``).
    Complex leaves only for ``grad`` and ``vjp``: PyTorch's ``jacrev``/``hessian`` expect real
    inputs."""
    flat, spec = tree_flatten(arg)
    leaves = []
    for t in flat:
        if not isinstance(t, Tensor):
            raise TransformArgumentError(
                f"{op}: expected {where} to be a Tensor or a pytree of Tensors, got {type(t).__name__}"
            )
        if not (t.is_floating_point() or (t.is_complex() and op in _COMPLEX_OK)):
            kinds = "floating-point or complex" if op in _COMPLEX_OK else "real floating-point"
            raise DTypeError(f"{op}: expected {kinds} inputs to differentiate, got {t.dtype} in {where}")
        # shares memory and the version counter (an in-place change under no_grad inside f is seen
        # by the caller's graphs that saved t, as in PyTorch); no graph behind
        if link and t.requires_grad:
            leaf = t.view_as(t)
            transform_leaves[leaf._node] = weakref.ref(leaf._base)  # written in place: raises, as a leaf
        else:
            leaf = t.detach().requires_grad_()
        leaves.append(leaf)
    return tree_unflatten(leaves, spec), leaves, spec


def fresh_args(
    args: Any, nums: Any, op: str, what: str, link: bool = False
) -> tuple[list, list, list[Tensor], list]:
    """``(args with fresh leaves at nums, [(spec, leaf count)] per differentiated argument, every
    fresh leaf in order, the original tensors they replace)``; errors name ``f"{what} {i}"``."""
    args = list(args)
    specs, flat, inputs = [], [], []
    for i in nums:
        inputs += tree_flatten(args[i])[0]
        args[i], leaves, spec = fresh_leaves(args[i], op, f"{what} {i}", link)
        specs.append((spec, len(leaves)))
        flat += leaves
    return args, specs, flat, inputs


def check_outputs(outs: list, op: str) -> None:
    """Tensors of a floating or complex dtype, as PyTorch's vjp/jacrev require of f's outputs."""
    for o in outs:
        if not isinstance(o, Tensor):
            raise TransformArgumentError(
                f"{op}: expected f's outputs to be Tensors (or a pytree of them), got {type(o).__name__}"
            )
        if not (o.is_floating_point() or o.is_complex()):
            raise DTypeError(
                f"{op}: expected f's outputs to be floating-point or complex Tensors, got {o.dtype}"
            )


def _grad_and_value(func: Callable, argnums: Any, has_aux: bool, op: str, args: tuple, kwargs: dict) -> tuple:
    nums = normalize_argnums(argnums, len(args), op)
    with level(op, func=func, given=(args, kwargs)) as outer_grad:
        linked = links(args, nums, outer_grad)
        args, specs, flat, inputs = fresh_args(args, nums, op, "argument", linked)
        out = func(*args, **kwargs)
    retire(flat)  # its level is over: a constant to later transforms (_levels.retire)
    out, aux = split_aux(out, has_aux, op, detach=False)
    if not isinstance(out, Tensor):
        raise TransformArgumentError(f"{op}: expected f(*args) to return a Tensor, got {type(out).__name__}")
    if out.dim() != 0:
        raise ShapeError(
            f"{op}: expected f(*args) to return a scalar (0-dim) Tensor, got shape {tuple(out.shape)} "
            "(vjp or jacrev take a non-scalar output)"
        )
    (grads,), recorded = derivatives(op, [out], [[None]], flat, inputs, outer_grad, linked, linked)
    grads = unflatten_groups(grads, specs)
    g = grads[0] if isinstance(argnums, int) else tuple(grads)
    value = out if recorded else out.detach()
    aux = aux if recorded else detached(aux)
    return (g, (value, aux)) if has_aux else (g, value)


def grad_and_value(func: Callable, argnums: int | tuple[int, ...] = 0, has_aux: bool = False) -> Callable:
    """Like :func:`grad`, but the function returns ``(gradient, value)`` (or
    ``(gradient, (value, aux))`` with ``has_aux``); ``value`` is ``func``'s output (detached unless
    the gradient is recorded, as ``grad``'s)."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> tuple:
        return _grad_and_value(func, argnums, has_aux, "grad_and_value", args, kwargs)

    return wrapper


def grad(func: Callable, argnums: int | tuple[int, ...] = 0, has_aux: bool = False) -> Callable:
    """The function ``args -> d func(*args) / d args[argnums]``.

    ``func`` must return a 0-dim Tensor (or ``(output, aux)`` with ``has_aux``). Each differentiated
    argument may be a Tensor or a tuple/list/dict of Tensors; keyword arguments pass through
    undifferentiated. An input the output does not depend on gets zeros, as in PyTorch.

    Returns:
        a function giving the gradient with the structure and shapes of ``args[argnums]`` (a tuple
        of those for a tuple ``argnums``), or ``(gradient, aux)`` with ``has_aux``. Gradients (and
        aux) are differentiable in the caller's graph where PyTorch's are (``derivatives.py``), so
        ``grad(grad(f))`` works; constants elsewhere.

    Shape:
        each gradient has its input's shape and dtype.

    >>> import glassgrad as gg
    >>> gg.func.grad(lambda x: (x ** 2).sum())(gg.tensor([1.0, 2.0])).tolist()
    [2.0, 4.0]
    """

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        g, value = _grad_and_value(func, argnums, has_aux, "grad", args, kwargs)
        return (g, value[1]) if has_aux else g  # with has_aux, value is (output, aux)

    return wrapper


def vjp(func: Callable, *primals: Any, has_aux: bool = False) -> tuple:
    """``(func(*primals), vjp_fn)`` (and ``aux`` third with ``has_aux``).

    ``vjp_fn(cotangents)`` takes cotangents with the structure and shapes of the output and returns
    a tuple with one entry per primal (each with that primal's structure): ``cotangents^T J``. It may
    be called several times (the graph is kept while ``vjp_fn`` lives; ``retain_graph=False`` frees
    it after that call).

    Shape:
        cotangents: as the output; results: as the primals.
    """
    everything = range(len(primals))
    with level("vjp", func=func, given=primals) as outer_grad:
        linked = links(primals, everything, outer_grad)
        leaves_args, specs, flat, inputs = fresh_args(primals, everything, "vjp", "primal", linked)
        out = func(*leaves_args)
    retire(flat)
    out, aux = split_aux(out, has_aux, "vjp", detach=False)
    outs, out_spec = tree_flatten(out)
    check_nonempty(outs, "vjp")
    check_outputs(outs, "vjp")
    record = outer_grad and (linked or outer_graph(outs, flat))  # (derivatives.py)

    def vjp_fn(cotangents: Any, *, retain_graph: bool = True, create_graph: bool = False) -> tuple:
        check_not_nested("vjp_fn", reverse_ok=True)
        check_no_dual_level("vjp_fn")
        cts, ct_spec = tree_flatten(cotangents)
        if ct_spec != out_spec:  # ArgumentError: a RuntimeError too, as PyTorch's
            raise ArgumentError(
                f"vjp_fn: expected cotangents with the pytree structure of the outputs, {out_spec}, "
                f"got {ct_spec}"
            )
        for k, (o, c) in enumerate(zip(outs, cts)):
            if not isinstance(c, Tensor) or tuple(c.shape) != tuple(o.shape):
                got = tuple(c.shape) if isinstance(c, Tensor) else type(c).__name__
                raise ShapeError(f"vjp_fn: expected cotangent {k} of shape {tuple(o.shape)}, got {got}")
        # grad mode off at the call (vjp_fn under no_grad()): constants, as PyTorch's
        grad_on = is_grad_enabled()
        (grads,), _ = derivatives(
            "vjp_fn",
            outs,
            [cts],
            flat,
            inputs,
            (outer_grad or create_graph) and grad_on,
            linked,
            retain_graph or linked,
            grad_on
            and (record or create_graph or any(c.requires_grad for c in cts)),  # (a cotangent in a graph)
        )
        return tuple(unflatten_groups(grads, specs))

    primal_out = tree_unflatten([o if record else o.detach() for o in outs], out_spec)
    aux = aux if record else detached(aux)
    return (primal_out, vjp_fn, aux) if has_aux else (primal_out, vjp_fn)


def jacrev(
    func: Callable,
    argnums: int | tuple[int, ...] = 0,
    *,
    has_aux: bool = False,
    chunk_size: int | None = None,
    _preallocate_and_copy: bool = False,
) -> Callable:
    """The function ``args -> Jacobian of func at args`` by reverse mode.

    One backward per output element (the loop ``autograd.functional.jacobian`` uses; PyTorch
    vmaps these, glassgrad has no vmap), so it suits few outputs and many inputs. ``chunk_size`` is
    checked and otherwise unused.

    Returns:
        the output's structure, each output leaf holding the Jacobian w.r.t. ``args[argnums]`` (with
        that argument's structure; a tuple over ``argnums`` for a tuple), plus ``aux`` with
        ``has_aux``.

    Shape:
        each Jacobian is ``out.shape + in.shape``, in the input's dtype.

    >>> import glassgrad as gg
    >>> tuple(gg.func.jacrev(lambda x: x.sin())(gg.zeros(3)).shape)
    (3, 3)
    """
    if chunk_size is not None and (not isinstance(chunk_size, int) or chunk_size <= 0):
        raise ValueError(f"jacrev: expected chunk_size to be None or a positive int, got {chunk_size!r}")

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        nums = normalize_argnums(argnums, len(args), "jacrev")
        with level("jacrev", func=func, given=(args, kwargs)) as outer_grad:
            linked = links(args, nums, outer_grad)
            args, specs, flat, inputs = fresh_args(args, nums, "jacrev", "argument", linked)
            out = func(*args, **kwargs)
        retire(flat)
        out, aux = split_aux(out, has_aux, "jacrev", detach=False)
        outs, out_spec = tree_flatten(out)
        check_nonempty(outs, "jacrev")
        check_outputs(outs, "jacrev")
        for k, o in enumerate(outs):
            if o.is_complex():  # a real Jacobian would drop the imaginary part's rows silently
                raise DTypeError(
                    "jacrev: Expected all outputs to be real but received complex tensor at flattened "
                    f"input idx: {k} (dtype {o.dtype}, shape {tuple(o.shape)}); as PyTorch, jacrev "
                    "takes real outputs only: return torch.view_as_real(out), or out.real and out.imag"
                )
        single = isinstance(argnums, int)
        per_out = [_jacobian_of(o, flat, specs, single, inputs, outer_grad, linked) for o in outs]
        jac = tree_unflatten(per_out, out_spec)
        if not has_aux:
            return jac
        # aux stays in the caller's graph only where PyTorch's would (as grad's): not under
        # no_grad, nor when nothing f used requires grad
        recorded = outer_grad and (linked or outer_graph([*outs, *tree_flatten(aux)[0]], flat))
        return jac, aux if recorded else detached(aux)

    return wrapper


def _jacobian_of(
    o: Tensor, flat: list[Tensor], specs: list, single: bool, inputs: list, outer_grad: bool, linked: bool
) -> Any:
    """d o / d flat by one backward per element of ``o`` (recorded where PyTorch's Jacobian would
    be differentiable, ``derivatives.py``), as the argnums' pytrees (one, or a tuple)."""
    units = np.eye(o.numel(), dtype=o._data.dtype).reshape((o.numel(), *o.shape))  # row k: output k
    rows, _ = derivatives("jacrev", [o], [[u] for u in units], flat, inputs, outer_grad, linked, True)
    shape = tuple(o.shape)
    jacs = [
        stack([r[i] for r in rows]).reshape(shape + tuple(t.shape))
        if rows
        else Tensor(np.zeros(shape + tuple(t.shape), dtype=t._data.dtype), _wrap=True)
        for i, t in enumerate(flat)
    ]
    trees = unflatten_groups(jacs, specs)
    return trees[0] if single else tuple(trees)


def hessian(func: Callable, argnums: int | tuple[int, ...] = 0) -> Callable:
    """The function ``args -> Hessian of func at args``: PyTorch's ``jacfwd(jacrev(func))``, here
    ``jacrev(jacrev(func))``: the inner Jacobian is recorded (double backward), the outer one
    differentiates it. Recorded itself where PyTorch's would be differentiable, as ``jacrev``.

    Returns:
        for an int ``argnums``, ``out.shape + x.shape + x.shape``; for a tuple, ``H[i][j]`` of shape
        ``out.shape + x_i.shape + x_j.shape`` (pytrees of inputs as ``jacrev`` gives them).

    PyTorch's outer ``jacfwd`` runs with ``randomness="error"``: a ``func`` that draws random
    numbers (dropout in training mode, ``torch.rand``) is refused, here too (``GraphError``, a
    ``RuntimeError``), once it has run.

    >>> import glassgrad as gg
    >>> gg.func.hessian(lambda x: (x ** 3).sum())(gg.tensor([1.0, 2.0])).tolist()
    [[6.0, 0.0], [0.0, 12.0]]
    """
    jac = jacrev(jacrev(func, argnums), argnums)

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        with draws_watched() as drawn:
            out = jac(*args, **kwargs)
        if drawn:
            raise GraphError(
                "hessian: expected f to draw no random numbers (PyTorch's hessian is jacfwd(jacrev(f)) "
                "with randomness='error'), got a draw; draw the random numbers outside, or use "
                "jacfwd(jacrev(f), randomness='same' or 'different')"
            )
        return out

    return wrapper
