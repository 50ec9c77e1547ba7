"""Reverse-mode transforms: ``grad``, ``grad_and_value``, ``vjp``, ``jacrev``; and the two that
glassgrad cannot give, ``vmap`` and ``hessian``, as clear errors.

Each runs on glassgrad's ordinary autograd: the differentiated arguments become fresh leaves that
require grad (sharing memory with what was passed), ``func`` runs with grad mode on, and
``autograd.grad`` takes the gradients, which come back as constants (first order: there is no
double backward). As in PyTorch, a ``no_grad()`` around the transform is ignored (the transform
is a new level of differentiation) and a ``no_grad()`` inside ``func`` is respected.

Transforms do not nest: ``grad(grad(f))`` differentiates a gradient, which needs double backward.
A transform called while another one runs ``func`` raises ``NotImplementedError`` at once rather
than returning a gradient with the inner derivative's terms missing.
"""

from __future__ import annotations

import contextlib
import functools
import sys
import threading
import warnings
from collections.abc import Iterator
from typing import Any, Callable

import numpy as np

from glassgrad.autograd.functional import grad as _autograd_grad
from glassgrad.autograd.grad_mode import enable_grad, is_grad_enabled
from glassgrad.errors import DTypeError, ShapeError
from glassgrad.func._pytree import tree_flatten, tree_map, tree_unflatten
from glassgrad.tensor import Tensor

__all__ = ["grad", "grad_and_value", "vjp", "jacrev", "vmap", "hessian"]


class _Active(threading.local):
    name: str | None = None  # the transform running ``func`` in this thread, if any
    outer_grad: bool = True  # grad mode where that transform was called


_active = _Active()

_NESTED = (
    "{inner}: expected no glassgrad.func transform inside another, got {inner} called while {outer} "
    "runs its function: composing transforms (grad(grad(f)), jacrev(jacrev(f)), jvp(grad(f)), "
    "hessian) differentiates a derivative, and glassgrad has no higher-order AD: backward is first "
    "order by design (no double backward: gradients are arrays, not recorded Tensors) and forward_ad "
    "holds one dual level at a time"
)


@contextlib.contextmanager
def _level(name: str, record: bool = True) -> Iterator[None]:
    """Mark ``name`` as the running transform (refusing nesting); turn grad mode on if ``record``."""
    check_not_nested(name)
    _active.name, _active.outer_grad = name, is_grad_enabled()
    try:
        if record:
            with enable_grad():  # an outer no_grad() does not reach inside a transform (PyTorch)
                yield
        else:
            yield
    finally:
        _active.name = None


def check_not_nested(name: str) -> None:
    """Raise ``NotImplementedError`` if another transform is running its function in this thread."""
    if _active.name is not None:
        raise NotImplementedError(_NESTED.format(inner=name, outer=_active.name))


def normalize_argnums(argnums: Any, nargs: int, op: str) -> tuple[int, ...]:
    """``argnums`` (an int or a tuple of ints, negative counting from the end) as a tuple."""
    many = isinstance(argnums, tuple)
    nums = argnums if many else (argnums,)
    if many and not nums:
        raise ValueError(f"{op}: expected argnums to be a non-empty tuple of ints, got ()")
    out = []
    for a in nums:
        if isinstance(a, bool) or not isinstance(a, int):
            raise TypeError(f"{op}: expected argnums to be an int or a tuple of ints, got {argnums!r}")
        if not -nargs <= a < nargs:
            raise ValueError(
                f"{op}: expected argnums within the {nargs} positional inputs, got argnums={argnums!r}"
            )
        out.append(a % nargs)
    if len(set(out)) != len(out):
        raise ValueError(f"{op}: expected argnums without repeats, got {argnums!r}")
    return tuple(out)


def fresh_leaves(arg: Any, op: str, where: str) -> tuple[Any, list[Tensor], Any]:
    """``(tree of new leaves, their flat list, spec)`` for one differentiated argument (a pytree)."""
    flat, spec = tree_flatten(arg)
    if not flat:
        raise ValueError(f"{op}: expected {where} to hold at least one Tensor, got {arg!r}")
    leaves = []
    for t in flat:
        if not isinstance(t, Tensor):
            raise TypeError(
                f"{op}: expected {where} to be a Tensor or a pytree of Tensors, got {type(t).__name__}"
            )
        if not t.is_floating_point():
            raise DTypeError(
                f"{op}: expected floating-point inputs to differentiate, got {t.dtype} in {where}"
            )
        leaves.append(Tensor(t._data, _wrap=True).requires_grad_())  # shares memory, no graph behind
    _warn_outer_graph(op, flat)
    return tree_unflatten(leaves, spec), leaves, spec


def _warn_outer_graph(op: str, flat: list) -> None:
    # PyTorch would record the returned derivative in the outer graph (second order, as in MAML);
    # glassgrad returns a constant, so say so rather than let a later backward differ silently
    if _active.outer_grad and any(t.requires_grad for t in flat):
        warnings.warn(
            f"{op}: an input requires grad, but the derivative comes back as a constant: glassgrad "
            "has no double backward, so a later backward through it drops the second-order terms "
            "PyTorch would keep (first-order MAML). Pass detached inputs to silence this.",
            UserWarning,
            stacklevel=_user_stacklevel(),
        )


def _user_stacklevel() -> int:
    """The ``stacklevel`` that points a warning at the first caller outside glassgrad.func."""
    level, frame = 1, sys._getframe(1)
    while frame is not None and frame.f_globals.get("__name__", "").startswith("glassgrad.func"):
        frame, level = frame.f_back, level + 1
    return level


def split_aux(out: Any, has_aux: bool, op: str) -> tuple[Any, Any]:
    if not has_aux:
        return out, None
    if not (isinstance(out, tuple) and len(out) == 2):
        raise TypeError(
            f"{op}: expected f(*args) to return a tuple (output, aux) with has_aux=True, got {type(out).__name__}"
        )
    return out[0], tree_map(lambda a: a.detach() if isinstance(a, Tensor) else a, out[1])


def backward_all(outs: list[Tensor], seeds: list, leaves: list[Tensor], retain: bool) -> list[np.ndarray]:
    """Sum over ``outs`` of seed^T d(out)/d(leaf), one array per leaf (zeros where unreached)."""
    pairs = [(o, s) for o, s in zip(outs, seeds) if o.requires_grad]
    if not pairs:
        return [np.zeros_like(t._data) for t in leaves]
    grads = _autograd_grad(
        [o for o, _ in pairs], leaves, [s for _, s in pairs], retain_graph=retain, materialize_grads=True
    )
    return [g._data for g in grads]


def _grad_and_value(func: Callable, argnums: Any, has_aux: bool, op: str, args: tuple, kwargs: dict) -> tuple:
    nums = normalize_argnums(argnums, len(args), op)
    args = list(args)
    specs, flat = [], []
    with _level(op):
        for i in nums:
            args[i], leaves, spec = fresh_leaves(args[i], op, f"argument {i}")
            specs.append((spec, len(leaves)))
            flat += leaves
        out = func(*args, **kwargs)
    out, aux = split_aux(out, has_aux, op)
    if not isinstance(out, Tensor):
        raise TypeError(f"{op}: expected f(*args) to return a Tensor, got {type(out).__name__}")
    if out.dim() != 0:
        raise ShapeError(
            f"{op}: expected f(*args) to return a scalar (0-dim) Tensor, got shape {tuple(out.shape)} "
            "(vjp or jacrev take a non-scalar output)"
        )
    arrays = backward_all([out], [None], flat, retain=False)
    grads, k = [], 0
    for spec, n in specs:
        grads.append(tree_unflatten([Tensor(a, _wrap=True) for a in arrays[k : k + n]], spec))
        k += n
    g = grads[0] if isinstance(argnums, int) else tuple(grads)
    value = out.detach()
    return (g, (value, aux)) if has_aux else (g, value)


def grad_and_value(func: Callable, argnums: int | tuple[int, ...] = 0, has_aux: bool = False) -> Callable:
    """Like :func:`grad`, but the function returns ``(gradient, value)`` (or
    ``(gradient, (value, aux))`` with ``has_aux``); ``value`` is ``func``'s output, detached."""

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
        of those for a tuple ``argnums``), or ``(gradient, aux)`` with ``has_aux``. Gradients are
        constants: ``grad(grad(f))`` raises ``NotImplementedError`` (no double backward).

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
    specs, flat = [], []
    leaves_args = []
    with _level("vjp"):
        for i, p in enumerate(primals):
            tree, leaves, spec = fresh_leaves(p, "vjp", f"primal {i}")
            leaves_args.append(tree)
            specs.append((spec, len(leaves)))
            flat += leaves
        out = func(*leaves_args)
    out, aux = split_aux(out, has_aux, "vjp")
    outs, out_spec = tree_flatten(out)
    for o in outs:
        if not isinstance(o, Tensor):
            raise TypeError(
                f"vjp: expected f(*primals) to return Tensors (or a pytree of them), got {type(o).__name__}"
            )

    def vjp_fn(cotangents: Any, *, retain_graph: bool = True, create_graph: bool = False) -> tuple:
        check_not_nested("vjp_fn")
        if create_graph:
            raise NotImplementedError(
                "vjp_fn: create_graph=True needs double backward, which glassgrad does not have"
            )
        cts, ct_spec = tree_flatten(cotangents)
        if ct_spec != out_spec:
            raise ValueError(
                "vjp_fn: expected cotangents with the pytree structure of the outputs, got another structure"
            )
        for k, (o, c) in enumerate(zip(outs, cts)):
            if not isinstance(c, Tensor) or tuple(c.shape) != tuple(o.shape):
                got = tuple(c.shape) if isinstance(c, Tensor) else type(c).__name__
                raise ShapeError(f"vjp_fn: expected cotangent {k} of shape {tuple(o.shape)}, got {got}")
        arrays = backward_all(outs, cts, flat, retain=retain_graph)
        result, k = [], 0
        for spec, n in specs:
            result.append(tree_unflatten([Tensor(a, _wrap=True) for a in arrays[k : k + n]], spec))
            k += n
        return tuple(result)

    primal_out = tree_unflatten([o.detach() for o in outs], out_spec)
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
        args = list(args)
        specs, flat = [], []
        with _level("jacrev"):
            for i in nums:
                args[i], leaves, spec = fresh_leaves(args[i], "jacrev", f"argument {i}")
                specs.append((spec, len(leaves)))
                flat += leaves
            out = func(*args, **kwargs)
        out, aux = split_aux(out, has_aux, "jacrev")
        outs, out_spec = tree_flatten(out)
        per_out = []
        for o in outs:
            if not isinstance(o, Tensor):
                raise TypeError(
                    f"jacrev: expected f(*args) to return Tensors (or a pytree of them), got {type(o).__name__}"
                )
            rows = [np.zeros((o.numel(),) + tuple(t.shape), dtype=t._data.dtype) for t in flat]  # (m, *in)
            if o.requires_grad:
                seed = np.zeros(o.numel(), dtype=o._data.dtype)
                for k in range(o.numel()):  # row k of the Jacobian: the gradient of output element k
                    seed[:] = 0
                    seed[k] = 1
                    grads = backward_all([o], [seed.reshape(o.shape)], flat, retain=True)
                    for r, g in zip(rows, grads):
                        r[k] = g
            jacs = [
                Tensor(r.reshape(tuple(o.shape) + tuple(t.shape)), _wrap=True) for r, t in zip(rows, flat)
            ]
            trees, k = [], 0
            for spec, n in specs:
                trees.append(tree_unflatten(jacs[k : k + n], spec))
                k += n
            per_out.append(trees[0] if isinstance(argnums, int) else tuple(trees))
        jac = tree_unflatten(per_out, out_spec)
        return (jac, aux) if has_aux else jac

    return wrapper


def vmap(
    func: Callable, in_dims: Any = 0, out_dims: Any = 0, randomness: str = "error", *, chunk_size: Any = None
) -> Callable:
    """Not available: raises ``NotImplementedError``.

    vmap runs ``func`` once on a whole batch by giving every op a batching rule (how it acts on a
    hidden batch dimension); glassgrad's ops have none. Loop over the batch instead (``torch.stack``
    of per-sample results), or batch by hand (most ops already take a leading batch dimension).
    """
    raise NotImplementedError(
        "vmap: expected an op set with batching rules, got glassgrad, which has none (vmap is not "
        "implemented). Loop over the batch and stack the per-sample results instead, e.g. "
        "torch.stack([f(x) for x in xs])"
    )


def hessian(func: Callable, argnums: int | tuple[int, ...] = 0) -> Callable:
    """Not available: raises ``NotImplementedError``.

    The Hessian is the Jacobian of the gradient: forward-over-reverse (``jacfwd(jacrev(f))``) or
    double backward, and glassgrad's backward is first order (gradients are not recorded).
    """
    raise NotImplementedError(
        "hessian: expected double backward or forward-over-reverse AD, got glassgrad, whose backward "
        "is first order (gradients are not recorded), so the Jacobian of a gradient cannot be taken. "
        "Use finite differences of glassgrad.func.grad, or PyTorch"
    )
