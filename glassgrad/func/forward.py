"""Forward-mode transforms: ``jvp``, ``jacfwd``, ``linearize``, on the public API of
``glassgrad.autograd.forward_ad`` (``dual_level``, ``make_dual``, ``unpack_dual``).
"""

from __future__ import annotations

import contextlib
import functools
import threading
from collections.abc import Iterator
from typing import Any, Callable

import numpy as np

from glassgrad.autograd import forward_ad
from glassgrad.autograd.forward_ad import UnfollowedChangeError
from glassgrad.autograd.grad_mode import is_grad_enabled
from glassgrad.errors import ArgumentError, DTypeError, GraphError, ShapeError, TransformArgumentError
from glassgrad.func._levels import (
    NestedTransformError,
    check_nonempty,
    level,
    normalize_argnums,
    split_aux,
    unflatten_groups,
    warn_if_outer_graph,
)
from glassgrad.func.forward_graph import NoGraphError, run_graph, wants_graph
from glassgrad.func.reruns import ArgValues
from glassgrad.ops.joining import stack
from glassgrad.random import drawn_states, draws_watched, rewind_draws
from glassgrad.tensor import Tensor
from glassgrad.utils._pytree import tree_flatten, tree_unflatten

__all__ = ["jvp", "jacfwd", "linearize"]


def _flat_tensors(tree: Any, op: str, what: str) -> tuple[list, Any]:
    flat, spec = tree_flatten(tree)
    for t in flat:
        if not isinstance(t, Tensor):
            raise TransformArgumentError(
                f"{op}: expected {what} to be Tensors (or a pytree of them), got {type(t).__name__}"
            )
    return flat, spec


def _run_dual(
    func: Callable,
    args: list,
    where: dict,
    has_aux: bool,
    op: str,
    kwargs: dict,
    warn: bool = True,
    strict: bool = False,
    graph: bool = False,
) -> tuple:
    """Run ``func`` on ``args`` where ``where[(i, j)]`` gives leaf ``j`` of argument ``i`` a tangent.

    Returns ``(primal outputs, tangent outputs, output spec, aux)``; a missing tangent is zeros
    (an error with ``strict``, as PyTorch's jvp).
    Warns when PyTorch's tangents would be differentiable in the caller's graph (glassgrad's are
    constants): a tangent requires grad, or an output depends on a tensor requiring grad; with
    ``graph`` (jvp), raises ``_RerunError`` there instead: jvp then records the result by double
    backward (``forward_graph.py``).
    """
    fwad = forward_ad
    with level(op, record=False, func=func, given=(args, kwargs)), fwad.dual_level():
        call = list(args)
        for i in {i for i, _ in where}:
            flat, spec = tree_flatten(args[i])
            flat = [fwad.make_dual(t, where[(i, j)]) if (i, j) in where else t for j, t in enumerate(flat)]
            call[i] = tree_unflatten(flat, spec)
        out = func(*call, **kwargs)
        rerun = False
        if warn:  # once per call: jacfwd's per-column passes would repeat it
            uses_graph = any(isinstance(t, Tensor) and t.requires_grad for t in tree_flatten(out)[0])
            tangent_graph = any(t.requires_grad for t in where.values())
            rerun = graph and is_grad_enabled() and (uses_graph or tangent_graph)
            if not rerun:
                warn_if_outer_graph(op, list(where.values()), uses_graph)
        if not rerun:
            primals, tangents, spec, aux = _unpack(out, has_aux, op, strict)
    if rerun:  # (after level's check that f changed no tensor it captured)
        raise _RerunError
    return primals, tangents, spec, aux


def _unpack(out: Any, has_aux: bool, op: str, strict: bool) -> tuple:
    """``(primal outputs, tangent outputs, output spec, aux)`` of f's dual outputs."""
    out, aux = split_aux(out, has_aux, op)
    outs, spec = _flat_tensors(out, op, "f's outputs")
    primals, tangents = [], []
    for o in outs:
        p, t = forward_ad.unpack_dual(o)
        if t is not None and t.requires_grad:  # a constant, as warned above: no refusing node
            t = t.detach()
        if t is None and strict:
            raise GraphError(
                f"{op}: expected every output of f to depend on the primals with strict=True, got "
                f"an output of shape {tuple(p.shape)} independent of them"
            )
        primals.append(p)
        tangents.append(t if t is not None else Tensor(np.zeros_like(p._data), _wrap=True))
    return primals, tangents, spec, aux


class _RerunError(Exception):
    """jvp's forward pass found PyTorch's result differentiable in the caller's graph."""


def _jvp_run(func: Callable, args: list, where: dict, has_aux: bool, strict: bool) -> tuple:
    """Forward mode (constants, where PyTorch's are constants too), or the recorded double
    backward where PyTorch's result is differentiable or f nests a transform (known before f
    runs, or found by a first forward pass: then f reruns with its draws replayed, from every
    generator it used, a ``generator=`` argument's too)."""
    values = ArgValues(args)
    with draws_watched() as drawn:
        try:
            if wants_graph(args, where):
                return run_graph(func, args, where, has_aux, "jvp", {}, strict)
            try:
                return _run_dual(func, args, where, has_aux, "jvp", {}, strict=strict, graph=True)
            except (_RerunError, NestedTransformError, UnfollowedChangeError) as e:
                # recorded: differentiable; or f nests a transform (jvp(grad(f)) is an HVP), or
                # makes a change forward mode cannot follow (constants then, as PyTorch's)
                rewind_draws(drawn)
                values.restore()  # what f wrote in its arguments is written once
                nested = not isinstance(e, _RerunError)
                result = run_graph(func, args, where, has_aux, "jvp", {}, strict, nested_only=nested)
                values.settle()
                return result
        except NoGraphError:  # complex outputs: forward mode, which warns
            values.restore()
            result = _run_dual(func, args, where, has_aux, "jvp", {}, strict=strict)
            values.settle()
            return result


def jvp(func: Callable, primals: Any, tangents: Any, *, strict: bool = False, has_aux: bool = False) -> tuple:
    """``(func(*primals), J @ tangents)`` (and ``aux`` third with ``has_aux``), by forward mode.

    ``primals`` is a tuple of arguments (each a Tensor or a pytree of Tensors); ``tangents`` has the
    same structure and shapes. ``strict=True`` makes an output independent of the primals a
    ``GraphError`` (a ``RuntimeError``, as PyTorch's) instead of giving it a zero tangent.
    Where PyTorch's results are differentiable in the caller's graph (grad mode on, and a primal,
    a tangent or a weight f uses requiring grad; or jvp inside ``grad`` or another such jvp) they
    are here too, recorded by double backward (``forward_graph.py``); so jvp nests both ways
    (``jvp(jvp(f))``, ``jvp(grad(f))``, ``grad`` of a jvp).

    Shape:
        the output and its tangent share the output's structure and shapes.
    """
    if not isinstance(primals, tuple):
        raise TransformArgumentError(
            f"jvp: expected primals to be a tuple (so that f(*primals) is valid), got {type(primals).__name__}"
        )
    if not isinstance(tangents, tuple) or len(tangents) != len(primals):
        raise TransformArgumentError("jvp: expected tangents to be a tuple with one entry per primal")
    where = {}
    for i, (p, t) in enumerate(zip(primals, tangents)):
        pf, ps = _flat_tensors(p, "jvp", f"primal {i}")
        tf, ts = _flat_tensors(t, "jvp", f"tangent {i}")
        if ps != ts:  # ArgumentError: a RuntimeError too, as PyTorch's
            raise ArgumentError(
                f"jvp: expected tangent {i} with the pytree structure of primal {i}, got another"
            )
        for j, (a, b) in enumerate(zip(pf, tf)):
            if tuple(a.shape) != tuple(b.shape):
                raise ShapeError(
                    f"jvp: expected tangent of shape {tuple(a.shape)} for primal {i}, got {tuple(b.shape)}"
                )
            where[(i, j)] = b
    if not where:  # PyTorch refuses it (f would be called without anything to differentiate)
        raise TransformArgumentError("jvp: expected primals to contain at least one Tensor, got none")
    outs, tans, spec, aux = _jvp_run(func, list(primals), where, has_aux, strict)
    if not _linearizing.on:  # PyTorch's linearize takes an f with no tensor outputs; its jvp does not
        check_nonempty(outs, "jvp")
    result = (tree_unflatten(outs, spec), tree_unflatten(tans, spec))
    return (*result, aux) if has_aux else result


class _Linearizing(threading.local):
    on: bool = False  # jvp runs for linearize (which takes an f without tensor outputs)


_linearizing = _Linearizing()


@contextlib.contextmanager
def _linearize() -> Iterator[None]:
    before, _linearizing.on = _linearizing.on, True
    try:
        yield
    finally:
        _linearizing.on = before


def linearize(func: Callable, *primals: Any) -> tuple:
    """``(func(*primals), jvp_fn)`` with ``jvp_fn(*tangents)`` the JVP at ``primals`` (forward mode
    rerun per call; PyTorch traces the linear map once instead). Each rerun replays the draws of
    the first run (every generator's), so dropout's mask is the one ``func(*primals)`` used."""
    with draws_watched() as drawn, _linearize():
        out = jvp(func, primals, tuple(_zeros_like_tree(p) for p in primals))[0]

    def jvp_fn(*tangents: Any) -> Any:
        # PyTorch's linearized map is traced at the primals' dtypes and refuses another (jvp takes it)
        if len(tangents) == len(primals):
            for i, (p, t) in enumerate(zip(primals, tangents)):
                for a, b in zip(tree_flatten(p)[0], tree_flatten(t)[0]):
                    if isinstance(a, Tensor) and isinstance(b, Tensor) and a.dtype != b.dtype:
                        raise DTypeError(
                            f"linearize: expected the tangent of primal {i} to have the primal's "
                            f"dtype {a.dtype}, got {b.dtype}"
                        )
        now = drawn_states(drawn)
        rewind_draws(drawn)
        try:
            with _linearize():
                return jvp(func, primals, tangents)[1]
        finally:
            rewind_draws(drawn, now)  # the caller's later draws are not repeats

    return out, jvp_fn


def _zeros_like_tree(tree: Any) -> Any:
    flat, spec = _flat_tensors(tree, "linearize", "primals")
    return tree_unflatten([Tensor(np.zeros_like(t._data), _wrap=True) for t in flat], spec)


def jacfwd(
    func: Callable, argnums: int | tuple[int, ...] = 0, has_aux: bool = False, *, randomness: str = "error"
) -> Callable:
    """The function ``args -> Jacobian of func at args`` by forward mode: one forward pass per input
    element (a one-hot tangent each; PyTorch vmaps these), so it suits few inputs and many outputs.
    Each pass starts from the values ``f`` was first given, so a write ``f`` makes to its arguments
    lands once, as in PyTorch's single run (``reruns.py``); where the Jacobian is recorded (or ``f``
    makes a change forward mode cannot follow), ``f`` runs once for all columns.

    ``randomness`` (PyTorch's): ``"error"`` refuses an ``f`` that draws random numbers, from the
    global generator or a ``generator=`` argument (each column reruns ``f``, so the columns would
    mix different draws); ``"same"`` replays one draw (of every generator) for every column;
    ``"different"`` lets each column draw anew.

    Returns and Shape: as :func:`glassgrad.func.jacrev` (``out.shape + in.shape`` per pair).
    """
    if randomness not in ("error", "same", "different"):
        raise ValueError(f"jacfwd: expected randomness 'error', 'same' or 'different', got {randomness!r}")

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        nums = normalize_argnums(argnums, len(args), "jacfwd")
        inputs = []  # (argnum, leaf index, leaf)
        specs = []
        for i in nums:
            flat, spec = _flat_tensors(args[i], "jacfwd", f"argument {i}")
            for k, t in enumerate(flat):
                if t.is_complex():  # PyTorch's check and RuntimeError (make_dual's ValueError was not)
                    raise DTypeError(
                        "jacfwd: Expected all inputs to be real but received complex tensor at "
                        f"flattened input idx: {len(inputs) + k} (dtype {t.dtype}, shape {tuple(t.shape)})"
                    )
            specs.append((spec, len(flat)))
            inputs += [(i, j, t) for j, t in enumerate(flat)]
        # column (c, k): the tangent of a one-hot direction, element k of input c
        columns = [
            (c, k, _one_hot(i, j, t, k)) for c, (i, j, t) in enumerate(inputs) for k in range(t.numel())
        ]
        # the outputs (and aux) once, with no tangents (or every column at once, recorded); then
        # one forward pass per column, each from the values f was first given
        values = ArgValues(args, kwargs)
        # every generator f draws from (the global one, a generator= argument's), for replays
        with draws_watched() as drawn:
            graph, (outs, tans, out_spec, aux) = _first_pass(
                func, list(args), inputs, has_aux, kwargs, drawn, values, [w for _, _, w in columns]
            )
            after = drawn_states(drawn)
            if randomness == "error" and drawn:
                raise GraphError(
                    "jacfwd: expected f to draw no random numbers with randomness='error' (f reruns "
                    "once per input element, so the Jacobian's columns would mix different draws), got "
                    "a draw; pass randomness='same' or 'different'"
                )
            if not graph:
                tans = _columns(func, args, inputs, columns, has_aux, kwargs, randomness, drawn, values)
                if tans is None:  # a change forward mode cannot follow: recorded (constants)
                    rewind_draws(drawn)
                    values.restore()
                    keys = {(i, j): t for i, j, t in inputs}
                    outs, tans, out_spec, aux = run_graph(
                        func,
                        list(args),
                        keys,
                        has_aux,
                        "jacfwd",
                        kwargs,
                        False,
                        True,
                        [w for *_, w in columns],
                    )
                values.settle()
                if randomness == "same":
                    rewind_draws(drawn, after)  # as if f had run once
        check_nonempty(outs, "jacfwd")
        per_out = []
        for n, o in enumerate(outs):
            cols: list = [[] for _ in inputs]
            for (c, _, _), col in zip(columns, tans):
                cols[c].append(col[n].reshape(-1))
            jacs = [
                stack(cs, -1).reshape(tuple(o.shape) + tuple(t.shape))
                if cs
                else Tensor(np.zeros(tuple(o.shape) + tuple(t.shape), dtype=o._data.dtype), _wrap=True)
                for cs, (_, _, t) in zip(cols, inputs)
            ]
            trees = unflatten_groups(jacs, specs)
            per_out.append(trees[0] if isinstance(argnums, int) else tuple(trees))
        jac = tree_unflatten(per_out, out_spec)
        return (jac, aux) if has_aux else jac

    return wrapper


def _columns(
    func: Callable,
    args: tuple,
    inputs: list,
    columns: list,
    has_aux: bool,
    kwargs: dict,
    randomness: str,
    drawn: dict,
    values: ArgValues,
) -> list | None:
    """jacfwd's tangent outputs, one forward pass per column (each from the values f was first
    given; with ``"same"``, each replaying the first pass's draws); None where f makes a change
    forward mode cannot follow."""
    tans = []
    try:
        for _, _, where in columns:
            if randomness == "same":
                rewind_draws(drawn)
            values.restore()
            tans.append(_run_dual(func, list(args), where, has_aux, "jacfwd", kwargs, warn=False)[1])
    except UnfollowedChangeError:
        return None
    return tans


def _one_hot(i: int, j: int, t: Tensor, k: int) -> dict:
    """The direction of element ``k`` of leaf ``j`` of argument ``i`` (others: no tangent)."""
    onehot = np.zeros(t.numel(), dtype=t._data.dtype)
    onehot[k] = 1
    return {(i, j): Tensor(onehot.reshape(tuple(t.shape)), _wrap=True)}


def _first_pass(
    func: Callable,
    args: list,
    inputs: list,
    has_aux: bool,
    kwargs: dict,
    drawn: dict,
    values: ArgValues,
    columns: list,
) -> tuple:
    """jacfwd's pass without tangents: ``(recorded, (outs, tangents, spec, aux))``; recorded
    where PyTorch's Jacobian is differentiable (an input or a weight f uses requires grad) or f
    nests a transform (``jacfwd(jacrev(f))``): then f runs once for every column (by double
    backward), and the tangents are one list per column."""
    graph = wants_graph(args, {(i, j): t for i, j, t in inputs})
    try:
        if not graph:
            try:
                return False, _run_dual(func, args, {}, has_aux, "jacfwd", kwargs, graph=True)
            except (_RerunError, NestedTransformError):
                rewind_draws(drawn)
                values.restore()
        where = {(i, j): t for i, j, t in inputs}  # (the keys; each column gives its own tangents)
        # nested_only: arrived here only for a nested transform (jacfwd(grad(f)) of plain tensors),
        # the Jacobian is a constant unless something outside requires grad, as PyTorch's
        result = run_graph(func, args, where, has_aux, "jacfwd", kwargs, False, not graph, columns)
        values.settle()  # (after a first forward pass: its version bumps alone)
        return True, result
    except NoGraphError:  # complex outputs: forward mode, which warns
        rewind_draws(drawn)
        values.restore()
        return False, _run_dual(func, args, {}, has_aux, "jacfwd", kwargs)
