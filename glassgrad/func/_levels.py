"""What every glassgrad.func transform checks: that it is not nested in a forward-mode pass, its
``argnums`` and ``has_aux`` output, and whether PyTorch would have returned a result that is
differentiable in the caller's graph where glassgrad returns a constant (then it warns).
"""

from __future__ import annotations

import contextlib
import sys
import threading
import warnings
import weakref
from collections.abc import Iterable, Iterator
from typing import Any, Callable

from glassgrad.autograd import custom, forward_ad
from glassgrad.autograd.function import Node
from glassgrad.autograd.grad_mode import enable_grad, is_grad_enabled
from glassgrad.errors import ArgumentError, TransformArgumentError
from glassgrad.func.captured import check_captured, watch_captured
from glassgrad.tensor import Tensor
from glassgrad.utils._pytree import tree_flatten, tree_map, tree_unflatten

__all__ = [
    "NestedTransformError",
    "check_nonempty",
    "check_not_nested",
    "detached",
    "inner_graph",
    "level",
    "normalize_argnums",
    "retire",
    "split_aux",
    "unflatten_groups",
    "warn_if_outer_graph",
]


class _Active(threading.local):
    name: str | None = None  # the innermost transform running ``func`` in this thread, if any
    outer_grad: bool = True  # grad mode where that transform was called
    reverse: bool = False  # whether it is a reverse-mode transform (another may nest inside it)


_active = _Active()
custom.transforms[0] = _active  # what autograd.Function.apply reads: a transform runs its function

_NESTED = (
    "{inner}: expected no glassgrad.func transform inside {outer}'s forward-mode pass, got {inner} "
    "called while {outer} runs its function: forward_ad holds one dual level at a time and does not "
    "see recorded gradients (jvp and jacfwd catch this and rerun their function recorded by double "
    "backward, so jvp(grad(f)), jvp(jvp(f)) and jacfwd(jacrev(f)) nest)"
)


class NestedTransformError(NotImplementedError):
    """A transform called where it cannot nest (inside a forward-mode pass, or a dual level); jvp and
    jacfwd catch it from their function and rerun that function recorded (``forward_graph.py``)."""


@contextlib.contextmanager
def level(name: str, record: bool = True, func: Callable | None = None, given: Any = ()) -> Iterator[bool]:
    """Mark ``name`` as the running transform; turn grad mode on if ``record``. Yields the grad mode
    where the transform was called (its result is differentiable in the caller's graph only then).

    ``record`` is for the reverse transforms, which may nest inside one another (the inner one's
    derivative is recorded, ``transforms.py``), and refuse to run inside a forward-mode dual level:
    the derivative they return carries no tangent, so it would silently be dropped (jvp and
    jacfwd's recorded path, ``forward_graph.py``, enters with ``record`` too). A forward-mode pass
    refuses to run inside any other, and any transform inside it (``NestedTransformError``: jvp
    and jacfwd then rerun their function recorded).

    ``func`` (the function run inside, with ``given`` its arguments) must not change in place a
    tensor it captured: checked when the block ends (``captured.py``).
    """
    check_not_nested(name, reverse_ok=record)
    if record:
        check_no_dual_level(name)
    entered = forward_ad.levels_entered()
    # before the mark is set: an exception here (a KeyboardInterrupt, a timeout's signal) must not
    # leave the mark behind, or every later transform in the thread refuses as nested
    watched = watch_captured(func, given) if func is not None else ()
    before = (_active.name, _active.outer_grad, _active.reverse)
    _active.name, _active.outer_grad, _active.reverse = name, is_grad_enabled(), record
    try:
        if record:
            with enable_grad():  # an outer no_grad() does not reach inside a transform (PyTorch)
                yield _active.outer_grad
        else:
            yield _active.outer_grad
        check_captured(name, watched)
    finally:
        _active.name, _active.outer_grad, _active.reverse = before
    if record and forward_ad.levels_entered() != entered:
        raise NotImplementedError(
            f"{name}: expected no forward-mode dual level inside the function, got one entered there: "
            "reverse-over-forward needs the tangents recorded for backward, and glassgrad's are "
            "constants, so the derivative would come back as zeros. Take the tangent outside the "
            "transform, or use finite differences"
        )


def check_not_nested(name: str, reverse_ok: bool = False) -> None:
    """Raise ``NotImplementedError`` if another transform is running its function in this thread
    (unless ``reverse_ok`` and that one is a reverse-mode transform)."""
    if _active.name is not None and not (reverse_ok and _active.reverse):
        raise NestedTransformError(_NESTED.format(inner=name, outer=_active.name))


def check_no_dual_level(name: str) -> None:
    """Raise ``NotImplementedError`` inside an active ``forward_ad.dual_level``: PyTorch propagates
    tangents through a reverse transform (forward-over-reverse, an HVP); glassgrad's gradients are
    arrays, not recorded ops, so their tangents would come back missing."""
    if forward_ad.is_active():
        raise NestedTransformError(
            f"{name}: expected no active forward-mode dual level (glassgrad.autograd.forward_ad), got "
            "one: a reverse-mode transform under forward mode is forward-over-reverse (an HVP), and "
            "glassgrad's backward is not recorded, so the tangents of its result would be lost. Take "
            "the derivative outside the dual_level, or use finite differences of grad"
        )


def check_nonempty(outs: list, op: str) -> None:
    """Refuse an ``f`` whose output has no tensors (``()``, ``[]``, ``{}``), as PyTorch's vjp, jvp,
    jacrev and jacfwd do: an empty result would hide that ``f`` returned nothing to differentiate."""
    if not outs:
        raise TransformArgumentError(
            f"{op}: Expected f to be a function that has non-empty output, got an output with no tensors"
        )


def normalize_argnums(argnums: Any, nargs: int, op: str) -> tuple[int, ...]:
    """``argnums`` (an int or a tuple of ints, negative counting from the end) as a tuple. A bool
    is an int here, as in PyTorch (``argnums=True`` is argument 1). Out of range, repeated or
    empty: ``ArgumentError`` (a ``RuntimeError``, as PyTorch's, and a ``ValueError``)."""
    many = isinstance(argnums, tuple)
    nums = argnums if many else (argnums,)
    if many and not nums:
        raise ArgumentError(f"{op}: expected argnums to be a non-empty tuple of ints, got ()")
    out = []
    for a in nums:
        if not isinstance(a, int):
            raise TransformArgumentError(
                f"{op}: expected argnums to be an int or a tuple of ints, got {argnums!r}"
            )
        if not -nargs <= a < nargs:
            raise ArgumentError(
                f"{op}: expected argnums within the {nargs} positional inputs, got argnums={argnums!r}"
            )
        out.append(a % nargs)
    if len(set(out)) != len(out):
        raise ArgumentError(f"{op}: expected argnums without repeats, got {argnums!r}")
    return tuple(out)


def split_aux(out: Any, has_aux: bool, op: str, detach: bool = True) -> tuple[Any, Any]:
    """``(output, aux)``; aux's tensors detached with ``detach`` (a forward transform's results
    are constants; a reverse one detaches them itself unless its derivative is recorded). Other
    leaves of aux pass through (PyTorch refuses them; ``tests/func/test_transforms.py`` keeps
    glassgrad's leniency)."""
    if not has_aux:
        return out, None
    if not (isinstance(out, tuple) and len(out) == 2):
        raise TransformArgumentError(
            f"{op}: expected f(*args) to return a tuple (output, aux) with has_aux=True, got {type(out).__name__}"
        )
    return out[0], (detached(out[1]) if detach else out[1])


def unflatten_groups(leaves: list, specs: list) -> list:
    """One tree per ``(spec, count)`` of ``specs``, each built from the next ``count`` of ``leaves``."""
    trees, k = [], 0
    for spec, n in specs:
        trees.append(tree_unflatten(leaves[k : k + n], spec))
        k += n
    return trees


def detached(tree: Any) -> Any:
    """``tree`` with its tensors detached."""
    return tree_map(lambda a: a.detach() if isinstance(a, Tensor) else a, tree)


@contextlib.contextmanager
def inner_graph(trees: Iterable[Any], own: Iterable[Tensor]) -> Iterator[tuple[bool, Callable]]:
    """Within the block, the graph behind ``trees`` (f's outputs) leads only to ``own`` (the
    transform's fresh leaves). Yields ``(outer, reaches)``: whether the graph reached any other
    tensor requiring grad, and a predicate telling whether a tensor leads to ``own`` at all (a
    backward from one that does not would only walk the caller's graph, so it is skipped).

    f may use tensors from outside that carry the caller's graph (a closure's ``h = W @ z``, an
    argument not in ``argnums``, a module's own weights). PyTorch's inner backward never enters
    that graph (it lives one level out); glassgrad's would: running the caller's hooks with inner
    gradients, computing gradients nobody asked for, and freeing the caller's saved arrays. So the
    recorded ops that lead to ``own`` have their links to anything else cut (``next`` entries set
    to None) for the block, and put back afterwards.
    """
    own_ids = {id(t) for t in own}
    outer, roots = False, []
    for tree in trees:
        for t in tree_flatten(tree)[0]:
            if isinstance(t, Tensor) and t.requires_grad:
                if t._node is not None:
                    roots.append(t._node)
                elif id(t) not in own_ids and not _is_retired(t):
                    outer = True
    order, seen, stack = [], set(), [(n, False) for n in roots]
    while stack:  # post-order: a node after every node it leads to
        node, done = stack.pop()
        if done:
            order.append(node)
        elif id(node) not in seen:
            seen.add(id(node))
            stack.append((node, True))
            for nxt in node.next:
                if isinstance(nxt, Node):
                    stack.append((nxt, False))
                elif nxt is not None and id(nxt) not in own_ids and not _is_retired(nxt):
                    outer = True
    leads: set[int] = set()  # ids of the nodes with a path to one of own
    cut = []
    for node in order:
        keep = [
            nxt if (isinstance(nxt, Node) and id(nxt) in leads) or id(nxt) in own_ids else None
            for nxt in node.next
        ]
        if any(k is not None for k in keep):
            leads.add(id(node))
            if any(k is None and n is not None for k, n in zip(keep, node.next)):
                # a cut link to a retired leaf (or to nodes reaching only those) is no outer graph;
                # the walk above already flagged any other
                cut.append((node, node.next, node.needs_input_grad, tuple(keep)))
    try:
        for node, _, needs, keep in cut:
            node.next = keep
            if len(needs) == len(keep):  # no gradient computed for a cut input
                node.needs_input_grad = tuple(bool(w) and k is not None for w, k in zip(needs, keep))
        yield outer, lambda t: id(t) in own_ids or (t._node is not None and id(t._node) in leads)
    finally:
        for node, nexts, needs, _ in cut:
            node.next, node.needs_input_grad = nexts, needs


#: id -> weak reference of each fresh leaf whose transform has returned (see :func:`retire`)
_retired: dict[int, weakref.ref] = {}


def retire(leaves: Iterable[Tensor]) -> None:
    """Mark a transform's fresh leaves (``detach().requires_grad_()`` copies of its inputs) as
    belonging to a finished level. PyTorch's wrappers of a returned transform are dead: a tensor
    computed from them (an escaped value, what a ``vjp_fn`` returns) is a constant to a later
    transform. So a later transform must not count them as the caller's graph (:func:`outer_graph`),
    or ``grad(lambda y: vjp_fn(y)[0])(y)`` records its result on the dead leaf and hands back a
    tensor that requires grad where PyTorch's does not (round 66)."""
    for t in leaves:
        if t._node is None:
            key = id(t)
            _retired[key] = weakref.ref(t, lambda r, k=key: _retired.pop(k) if _retired.get(k) is r else None)


def _is_retired(t: Any) -> bool:
    r = _retired.get(id(t))
    return r is not None and r() is t


def outer_graph(trees: Iterable[Any], own: Iterable[Tensor]) -> bool:
    """Whether the graph behind ``trees`` (f's outputs) reaches a tensor requiring grad other than
    ``own`` (a closure's weight, an argument not differentiated, an input that requires grad)."""
    own_ids = {id(t) for t in own}
    stack, seen = [], set()
    for tree in trees:
        for t in tree_flatten(tree)[0]:
            if isinstance(t, Tensor) and t.requires_grad:
                if t._node is None:
                    if id(t) not in own_ids and not _is_retired(t):
                        return True
                elif id(t) not in own_ids:
                    stack.append(t._node)
    while stack:
        node = stack.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        for nxt in node.next:
            if isinstance(nxt, Node):
                stack.append(nxt)
            elif nxt is not None and id(nxt) not in own_ids and not _is_retired(nxt):
                return True
    return False


def warn_if_outer_graph(
    op: str, inputs: list, outer: bool, outer_grad: bool | None = None, why: str = ""
) -> None:
    """Warn (at the caller) when PyTorch would return a result differentiable in the caller's graph.

    That is when grad mode was on where the transform was called and an input (``inputs``) requires
    grad, or ``outer``: a result depends on a tensor requiring grad other than the transform's own
    leaves (see :func:`inner_graph`). glassgrad returns constants there, so a later backward would
    silently miss those terms (second-order MAML, a gradient penalty training the critic).
    """
    if outer_grad is None:
        outer_grad = _active.outer_grad
    if not outer_grad or not (outer or any(t.requires_grad for t in inputs)):
        return
    warnings.warn(
        f"{op}: an input, or a tensor f uses, requires grad, but the result comes back as a constant "
        f"(derivatives, outputs and aux alike){why or ''}, so a later backward through it drops "
        "the terms PyTorch would keep (first-order MAML; a gradient penalty gives no gradient to the "
        "weights f uses). Pass detached tensors, or call the transform under no_grad() (same "
        "values), to silence this.",
        UserWarning,
        stacklevel=_user_stacklevel(),
    )


def _user_stacklevel() -> int:
    """The ``stacklevel`` that points a warning at the first caller outside glassgrad.func."""
    level, frame = 1, sys._getframe(1)
    while frame is not None and frame.f_globals.get("__name__", "").startswith("glassgrad.func"):
        frame, level = frame.f_back, level + 1
    return level
